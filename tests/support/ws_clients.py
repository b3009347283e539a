#!/usr/bin/python3
"""WebSocket clients of the live feed, for tests (Debian's python3-websockets).

Opens --count sessions to --url: all read, except with --stalled, where one more session
completes the handshake and then never reads (a raw socket with a tiny receive buffer). Prints
"ready" once all are open, then waits until each reading client got --expect alert messages
(or --timeout passes) and prints one JSON line: how many messages each reader got, and how the
stalled session ended (closed by the server, with its code and reason, or still open)."""
import argparse, asyncio, base64, json, os, socket, sys

import websockets


async def reader(url, expect, counts, i, deadline, expect_others=0):
    headers = {"Authorization": "Bearer " + TOKEN} if TOKEN else None
    async with websockets.connect(url, max_size=2 ** 20, max_queue=None,
                                  extra_headers=headers) as ws:
        counts[i] = 0
        ready[0] += 1
        try:
            while counts[i] < expect or len(others) < expect_others:
                timeout = deadline - asyncio.get_event_loop().time()
                if timeout <= 0:
                    return
                msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
                if msg.get("type") == "alert":
                    counts[i] += 1
                else:
                    others.append(msg.get("type"))
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            return


def stalled_session(host, port, path):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


TOKEN = os.environ.get("TOCSIN_TOKEN", "")  # an API token with the read scope, for /ws/console
ready = [0]
others = []  # the types of messages other than alerts, as received


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--expect", type=int, required=True)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--stalled", action="store_true")
    p.add_argument("--expect-others", type=int, default=0, help="and this many other messages")
    a = p.parse_args()
    host_port, path = a.url[len("ws://"):].split("/", 1)
    host, port = host_port.split(":")
    stalled = stalled_session(host, int(port), "/" + path) if a.stalled else None
    counts = [None] * a.count
    loop = asyncio.get_event_loop()
    deadline = loop.time() + a.timeout
    tasks = [asyncio.create_task(reader(a.url, a.expect, counts, i, deadline, a.expect_others))
             for i in range(a.count)]
    while ready[0] < a.count and loop.time() < deadline:
        await asyncio.sleep(0.01)
    print("ready", flush=True)
    await asyncio.gather(*tasks)
    result = {"counts": counts, "others": others}
    if stalled:
        # Now read what the server sent the stalled session: it should end with a close frame.
        stalled.settimeout(10)
        data = b""
        try:
            while True:
                chunk = stalled.recv(65536)
                if not chunk:
                    break
                data += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        result["stalled_bytes"] = len(data)
        result["stalled_closed_with"] = None
        # Find the close frame (opcode 0x8) at the end of the stream, if any.
        i = 0
        while i + 2 <= len(data):
            op, ln = data[i] & 0x0F, data[i + 1] & 0x7F
            j = i + 2
            if ln == 126:
                ln = int.from_bytes(data[j:j + 2], "big"); j += 2
            elif ln == 127:
                ln = int.from_bytes(data[j:j + 8], "big"); j += 8
            if op == 0x8 and j + ln <= len(data):
                result["stalled_closed_with"] = {"code": int.from_bytes(data[j:j + 2], "big"),
                                                 "reason": data[j + 2:j + ln].decode()}
            i = j + ln
    print(json.dumps(result), flush=True)


asyncio.run(main())
