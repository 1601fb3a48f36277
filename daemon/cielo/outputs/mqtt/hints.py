"""One line saying why a connection to the broker failed and what to do, by what failed: a certificate
problem is not solved by starting the broker (`cielo doctor` and the publisher's log say the same)."""

from __future__ import annotations

import ssl


def connect_problem(exc: BaseException, host: str, port: int) -> str:
    where = f"{host}:{port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = f"{exc.reason}: {exc.verify_message}" if exc.verify_message else str(exc)
        return (f"{where}: TLS certificate not accepted ({why}): a certificate problem, not a broker that is "
                "down: set [mqtt].ca_file to the CA that signed the broker's certificate, and [mqtt].host to the "
                "name the certificate carries")
    if isinstance(exc, ssl.SSLError):
        return (f"{where}: TLS handshake failed ({exc.reason or exc}): check [mqtt].tls (the broker's port "
                "speaks TLS?) and [mqtt].ca_file")
    if isinstance(exc, ConnectionRefusedError):
        return f"cannot reach {where} (connection refused): start the broker or fix [mqtt].host/port"
    if isinstance(exc, OSError):
        return f"cannot reach {where} ({exc.strerror or exc}): check [mqtt].host/port and the network"
    return f"{where}: {exc}"
