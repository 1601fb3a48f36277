#!/usr/bin/env python3
"""The seed system's backfill design, for comparison (a baseline, not cielo): prints images/s.

One image at a time: a GET (urllib3, kept-alive connection), a full decode of the 640x480 JPEG with Pillow,
a resize to the model's input, the classifier on a batch of one, and one INSERT and COMMIT per reading into
SQLite. As a whole process, imports and model load included, as a user runs it; bench/backfill_process.py
times it against `cielo backfill` on the same loopback camera.

The classifier (`--classify`):
- `cielo` (default): cielo's own, as `cielo backfill` judges (the lens, sun and star analysis of the resized
  frame, then the ONNX graph fed per frame): the seed's design doing today's job, same octas as cielo;
- `graph`: only the ONNX graph (`models/octas.onnx`) on its built-in defaults, what the seed ran (its model
  had no per-frame analysis); cheaper per image, and its octas are not cielo's.

    python -m bench.backfill_seed --base-url http://127.0.0.1:PORT/image --from 2024-06-01 --days 14 --db FILE
"""

from __future__ import annotations

import argparse
import io
import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import onnxruntime as ort
import urllib3
from PIL import Image

from cielo.config import DEFAULT_LATITUDE, DEFAULT_LONGITUDE
from cielo.sources.skycam.model import OctaModel

ROOT = Path(__file__).resolve().parents[1]
MINUTES = (2, 12, 22, 32, 42, 52)  # the camera's minutes (UTC here: the bench camera's time zone)


def main() -> None:
    t0 = time.perf_counter()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--from", dest="start", required=True)
    ap.add_argument("--days", type=float, required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--classify", choices=("cielo", "graph"), default="cielo")
    args = ap.parse_args()
    card = json.loads((ROOT / "models" / "octas.json").read_text())
    height, width = card["input"]["height"], card["input"]["width"]
    model, session = None, None
    if args.classify == "cielo":
        model = OctaModel(ROOT / "models" / "octas.onnx")
    else:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        session = ort.InferenceSession(str(ROOT / "models" / "octas.onnx"), opts,
                                       providers=["CPUExecutionProvider"])
    http = urllib3.PoolManager(retries=urllib3.Retry(3, backoff_factor=0.5))
    db = sqlite3.connect(args.db)
    db.execute("CREATE TABLE IF NOT EXISTS octas (ts TEXT PRIMARY KEY, octas INTEGER, confidence REAL, url TEXT)")
    start = datetime.fromisoformat(args.start).replace(tzinfo=UTC)
    end = start + timedelta(days=args.days)
    t, n = start, 0
    while t < end:
        if t.minute in MINUTES:
            url = f"{args.base_url}/{t:%Y}/{t:%Y}-{t:%m%d%H%M}.jpg"
            resp = http.request("GET", url)
            if resp.status == 200:
                im = Image.open(io.BytesIO(resp.data)).convert("RGB").resize((width, height), Image.BILINEAR)
                if model is not None:
                    v = model.judge([model.frame(im)], [t], DEFAULT_LATITUDE, DEFAULT_LONGITUDE)[0]
                    octas, confidence = v.octas, v.confidence
                else:
                    x = np.asarray(im, dtype=np.float32).transpose(2, 0, 1)[None] / 255.0
                    probs = session.run(["probs"], {"image": x})[0][0]
                    octas = int(np.argmax(probs))
                    confidence = float(probs[octas])
                db.execute("INSERT OR REPLACE INTO octas VALUES (?, ?, ?, ?)",
                           (t.strftime("%Y-%m-%dT%H:%M:%SZ"), octas, confidence, url))
                db.commit()
                n += 1
        t += timedelta(minutes=1)
    elapsed = time.perf_counter() - t0
    print(f"seed: {n} images in {elapsed:.2f} s: {n / elapsed:.1f} images/s (whole process after start-up of Python)")


if __name__ == "__main__":
    main()
