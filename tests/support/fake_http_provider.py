#!/usr/bin/python3
"""A stand-in for outside HTTP services in tests, speaking their wire format over real HTTPS:

- a Twilio-compatible SMS API: POST /2010-04-01/Accounts/{sid}/Messages.json, form fields
  To, From, Body, StatusCallback; HTTP basic auth; JSON answers (201 with a message sid, or
  Twilio's error JSON); and, like Twilio, a signed status callback (X-Twilio-Signature) to the
  StatusCallback URL once a message is "delivered";
- any other POST (a webhook receiver): answered 200.

Every request is appended to --log as one JSON line. --script maps a To number to the answers
it gets, in order: ok, ok-undelivered, 400, 429:SECONDS, 500, slow:SECONDS. Then ok."""
import argparse, base64, hashlib, hmac, json, ssl, threading, time, urllib.parse, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = None
lock = threading.Lock()
script = {}
counter = [0]


def log(entry):
    with lock, open(args.log, "a") as f:
        f.write(json.dumps(entry) + "\n")


def twilio_signature(token, url, fields):
    data = url + "".join(k + v for k, v in sorted(fields))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def status_callback(url, sid, status):
    time.sleep(0.05)
    fields = [("MessageSid", sid), ("MessageStatus", status), ("AccountSid", args.sid)]
    if status != "delivered":
        fields.append(("ErrorCode", "30003"))
    body = urllib.parse.urlencode(fields).encode()
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_signature(args.token, url, fields)})
    try:
        urllib.request.urlopen(req, timeout=5).read()
    except Exception as e:  # the test sees the delivery state, not this
        log({"callback_error": str(e)})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length).decode()
        entry = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                 "body": raw}
        if not self.path.endswith("/Messages.json"):
            log(entry)
            return self.answer(200, {"ok": True})
        form = urllib.parse.parse_qsl(raw, keep_blank_values=True)
        fields = dict(form)
        entry["form"] = fields
        expected = "Basic " + base64.b64encode(f"{args.sid}:{args.token}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            log(entry)
            return self.answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
        with lock:
            steps = script.get(fields.get("To", ""), [])
            step = steps.pop(0) if steps else "ok"
        entry["answer"] = step
        log(entry)
        if step.startswith("slow:"):
            time.sleep(float(step.split(":")[1]))
            step = "ok"
        if step.startswith("429"):
            return self.answer(429, {"code": 20429, "message": "Too Many Requests", "status": 429},
                               [("Retry-After", step.split(":")[1] if ":" in step else "1")])
        if step == "500":
            return self.answer(500, {"code": 20500, "message": "Internal Server Error", "status": 500})
        if step == "400":
            return self.answer(400, {"code": 21211, "message":
                                     f"The 'To' number {fields.get('To')} is not a valid phone number.",
                                     "status": 400})
        with lock:
            counter[0] += 1
            sid = "SM%032d" % counter[0]
        self.answer(201, {"sid": sid, "status": "queued", "to": fields.get("To"),
                          "from": fields.get("From"), "body": fields.get("Body")})
        if fields.get("StatusCallback"):
            status = "undelivered" if step == "ok-undelivered" else "delivered"
            threading.Thread(target=status_callback,
                             args=(fields["StatusCallback"], sid, status)).start()


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--log", required=True)
    p.add_argument("--script", default="")
    p.add_argument("--sid", default="ACtest")
    p.add_argument("--token", default="secret-token")
    args = p.parse_args()
    if args.script:
        script.update(json.load(open(args.script)))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
