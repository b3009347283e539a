#!/usr/bin/python3
"""A real SMTP server for tests (Debian's aiosmtpd), recording each message it accepts as a JSON
line: envelope, headers and decoded MIME parts. --starttls CERT KEY offers STARTTLS and, with
--require-starttls, refuses mail before it. A recipient starting with "nobody@" is refused with
550, as a server does for an unknown mailbox."""
import argparse, json, ssl, threading, time
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class Recorder:
    def __init__(self, log):
        self.log = log
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content, policy=policy.default)
        parts = {}
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                parts[part.get_content_type()] = part.get_content()
        entry = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                 "tls": session.ssl is not None,
                 "headers": {k.lower(): str(v) for k, v in msg.items()}, "parts": parts}
        with self.lock, open(self.log, "a") as f:
            f.write(json.dumps(entry) + "\n")
        return "250 Message accepted for delivery"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--require-starttls", action="store_true")
    a = p.parse_args()
    kwargs = {}
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        kwargs = {"tls_context": ctx, "require_starttls": a.require_starttls}
    controller = Controller(Recorder(a.log), hostname="127.0.0.1", port=a.port,
                            server_kwargs=kwargs)
    controller.start()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
