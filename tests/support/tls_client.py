#!/usr/bin/env python3
"""A real TLS client for a tocsin server serving HTTPS and WSS (http.tls).

  tls_client.py health --port N --cafile CERT
      exit 0 when GET https://127.0.0.1:N/health answers 200 over a verified connection.
  tls_client.py check --port N --cafile CERT --user U --password P
      prints one JSON line of what a client sees: the health answer and its headers, whether an
      unverified (untrusted) connection is refused, what plain HTTP to the port gets, the login's
      Set-Cookie, and the first message of /ws/console over wss:// with that cookie."""

import argparse, asyncio, http.client, json, socket, ssl, sys

import websockets


def verified(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def https(port, ctx, method, path, body=None, headers=None):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode(), \
            conn.sock.version()
    finally:
        conn.close()


def plain_http(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/health")
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


async def console_first_message(port, ctx, cookie):
    async with websockets.connect(f"wss://127.0.0.1:{port}/ws/console", ssl=ctx,
                                  extra_headers={"Cookie": cookie}, max_size=2 ** 22) as ws:
        return json.loads(await asyncio.wait_for(ws.recv(), 10))


def check(a):
    ctx = verified(a.cafile)
    out = {}
    status, headers, _, version = https(a.port, ctx, "GET", "/health")
    out["health"] = status
    out["tls_version"] = version
    out["hsts"] = headers.get("strict-transport-security", "")

    # A client that does not trust the certificate is refused by its own verification.
    try:
        https(a.port, ssl.create_default_context(), "GET", "/health")
        out["untrusted"] = "connected"
    except ssl.SSLCertVerificationError:
        out["untrusted"] = "refused"

    # Plain HTTP on the TLS port: a readable answer, not a session.
    out["plain_status"], plain_body = plain_http(a.port)
    out["plain_error"] = json.loads(plain_body)["error"]["code"]

    status, headers, body, _ = https(
        a.port, ctx, "POST", "/api/v1/login",
        json.dumps({"user": a.user, "password": a.password}),
        {"Content-Type": "application/json"})
    out["login"] = status
    set_cookie = headers.get("set-cookie", "")
    out["cookie_attributes"] = sorted(p.strip().split("=")[0] for p in set_cookie.split(";")[1:])
    cookie = set_cookie.split(";")[0]
    first = asyncio.run(console_first_message(a.port, ctx, cookie))
    out["console_first"] = first.get("type")
    print(json.dumps(out), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["health", "check"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cafile", required=True)
    p.add_argument("--user")
    p.add_argument("--password")
    a = p.parse_args()
    if a.what == "health":
        try:
            status, _, _, _ = https(a.port, verified(a.cafile), "GET", "/health")
        except (OSError, ssl.SSLError, http.client.HTTPException):
            sys.exit(1)
        sys.exit(0 if status == 200 else 1)
    check(a)


main()
