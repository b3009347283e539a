#!/usr/bin/env python3
"""N console sessions on /ws/console at once (real WebSocket clients): each waits for its
snapshot, then reads deltas until it has seen EXPECT distinct incidents, checking that the deltas'
seq numbers follow the snapshot's with no gap and no reordering. Prints "ready" once every session
has its snapshot, then one JSON line: {"sessions", "complete", "gaps", "out_of_order"}."""

import argparse, asyncio, json, os, sys

import websockets

TOKEN = os.environ["TOCSIN_TOKEN"]


async def session(url, expect, deadline, result, snapshots):
    async with websockets.connect(url, max_size=2 ** 22, max_queue=None,
                                  extra_headers={"Authorization": "Bearer " + TOKEN}) as ws:
        first = json.loads(await ws.recv())
        assert first["type"] == "snapshot", first
        seq = first["seq"]
        snapshots.append(1)
        seen = set()
        try:
            while len(seen) < expect:
                timeout = deadline - asyncio.get_event_loop().time()
                if timeout <= 0:
                    return
                msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
                if msg["seq"] != seq + 1:
                    result["gaps" if msg["seq"] > seq + 1 else "out_of_order"] += 1
                seq = msg["seq"]
                if msg["type"] == "incident":
                    seen.add(msg["incident"]["id"])
            result["complete"] += 1
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            return


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--sessions", type=int, required=True)
    p.add_argument("--expect", type=int, required=True)
    p.add_argument("--timeout", type=float, default=120)
    a = p.parse_args()
    deadline = asyncio.get_event_loop().time() + a.timeout
    result = {"sessions": a.sessions, "complete": 0, "gaps": 0, "out_of_order": 0}
    snapshots = []
    tasks = [asyncio.create_task(session(a.url, a.expect, deadline, result, snapshots))
             for _ in range(a.sessions)]
    while len(snapshots) < a.sessions and asyncio.get_event_loop().time() < deadline:
        await asyncio.sleep(0.05)
    print("ready", flush=True)
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps(result), flush=True)


asyncio.run(main())
