#!/usr/bin/python3
"""Send incidents to a Tocsin broker over ZeroMQ, the way a sensor integration does.

Usage: /usr/bin/python3 send_incident.py [tcp://127.0.0.1:5555]
Needs Debian's python3-zmq (pyzmq).
"""
import json
import sys
import uuid

import zmq

endpoint = sys.argv[1] if len(sys.argv) > 1 else "tcp://127.0.0.1:5555"

context = zmq.Context()
sock = context.socket(zmq.DEALER)
sock.setsockopt(zmq.LINGER, 0)
sock.connect(endpoint)
poller = zmq.Poller()
poller.register(sock, zmq.POLLIN)


def send(report, timeout_ms=5000):
    """Sends one report; returns the reply frames (decoded) or None on timeout."""
    request_id = uuid.uuid4().hex.encode()
    sock.send_multipart([request_id, json.dumps(report).encode("utf-8")])
    while poller.poll(timeout_ms):
        frames = sock.recv_multipart()
        if frames[0] == request_id:
            return [f.decode("utf-8") for f in frames[1:]]
    return None  # no answer: the report may or may not be stored; resend it (dedup_key makes that safe)


report = {
    "source": "gauge-17",
    "type": "flood.water_level",
    "severity": "severe",
    "urgency": "immediate",
    "certainty": "observed",
    "headline": "Rivière des Prairies: 4,2 m",
    "location": {"zone": "riverside", "lat": 45.58, "lon": -73.65},
    "attributes": {"level_m": 4.2, "rising": True},
}
reply = send(report)
print(" ".join(reply) if reply else "no reply")          # ok <incident-id> created

bad = dict(report, severity="apocalyptic")
reply = send(bad)
print(" ".join(reply) if reply else "no reply")          # error invalid_value severity: ...
