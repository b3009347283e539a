#!/usr/bin/python3
"""One WebSocket session of the live feed, for tests (Debian's python3-websockets).

Connects to --url with the token in TOCSIN_TOKEN (Authorization: Bearer), prints "ready" once the
first message (a console's snapshot) has arrived (--print-first: after printing it, one line), then reads until the server closes the session
or --timeout passes (--origin: as a page of that origin), and prints one JSON line: {"closed": true, "code": …, "reason": …} or
{"closed": false}."""
import argparse, asyncio, json, os

import websockets


async def main(url, timeout, origin, print_first):
    token = os.environ.get("TOCSIN_TOKEN", "")
    headers = {"Authorization": "Bearer " + token} if token else None
    async with websockets.connect(url, max_size=2 ** 20, extra_headers=headers,
                                  origin=origin) as ws:
        first = await asyncio.wait_for(ws.recv(), 10)
        if print_first:
            print(first, flush=True)
        print("ready", flush=True)
        deadline = asyncio.get_event_loop().time() + timeout
        try:
            while True:
                left = deadline - asyncio.get_event_loop().time()
                if left <= 0:
                    print(json.dumps({"closed": False}), flush=True)
                    return
                await asyncio.wait_for(ws.recv(), left)
        except asyncio.TimeoutError:
            print(json.dumps({"closed": False}), flush=True)
        except websockets.ConnectionClosed as e:
            print(json.dumps({"closed": True, "code": e.code, "reason": e.reason}), flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--origin", default=None, help="the Origin header a browser page would send")
    p.add_argument("--print-first", action="store_true", help="print the first message")
    a = p.parse_args()
    asyncio.run(main(a.url, a.timeout, a.origin, a.print_first))
