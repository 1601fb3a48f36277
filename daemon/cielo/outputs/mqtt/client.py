"""The one place a paho client is made from [mqtt]: the publisher's and `cielo doctor`'s login check."""

from __future__ import annotations

import ssl

import paho.mqtt.client as paho

from cielo.config import MqttConfig


def make_client(cfg: MqttConfig, client_id: str, *, persistent: bool = False,
                will: str | None = None) -> paho.Client:
    """A client with the configured login and TLS. `persistent`: a session the broker keeps (MQTT 3.1.1,
    clean_session off), so CONNACK's session-present flag says whether it kept our state. `will`: the
    topic that says `offline`, retained, if the connection dies."""
    client = paho.Client(callback_api_version=paho.CallbackAPIVersion.VERSION2, client_id=client_id,
                         **({"protocol": paho.MQTTv311, "clean_session": False} if persistent else {}))
    if will is not None:
        client.will_set(will, "offline", qos=1, retain=True)
    if cfg.username:
        client.username_pw_set(cfg.username, cfg.password)
    if cfg.tls:
        client.tls_set(ca_certs=str(cfg.ca_file) if cfg.ca_file else None, cert_reqs=ssl.CERT_REQUIRED)
    return client
