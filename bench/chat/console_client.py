"""The listening console of one bench round, in a process of its own (bench/chat/run.py).

In the citizens' process, the console's reads wait behind 50 citizens' sends on one event loop:
the echo's console got 917-1,122 messages/s there against 867-1,850 in a process of its own
(alternating, same load), and its p95 fell accordingly. ``time.perf_counter`` is the system's
monotonic clock on Linux, so its receipt times compare with the citizens' send times.

Protocol: prints ``ready`` once connected; reads the number of messages to expect on standard
input; prints one JSON line (message tag -> receipt time, size of one event, CPU seconds of this
process since ``ready``) once that many arrived, or after 120 s.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

import socketio


async def main(url: str) -> None:
    received: dict[str, float] = {}
    sizes: list[int] = []
    enough = asyncio.Event()
    expected = [0]
    console = socketio.AsyncClient(reconnection=False)

    @console.on("message.created", namespace="/console")
    async def on_message(data: dict[str, Any]) -> None:
        received[data["message"]["text"].split(" ", 1)[0]] = time.perf_counter()
        if not sizes:
            sizes.append(len(json.dumps(data)))
        if expected[0] and len(received) >= expected[0]:
            enough.set()

    headers = {"Cookie": os.environ["BENCH_COOKIE"]} if os.environ.get("BENCH_COOKIE") else {}
    await console.connect(
        url, namespaces=["/console"], headers=headers, transports=["websocket"], wait_timeout=20
    )
    print("ready", flush=True)
    cpu = time.process_time()
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    expected[0] = int(line)
    if len(received) >= expected[0]:
        enough.set()
    try:
        await asyncio.wait_for(enough.wait(), timeout=120)
    except TimeoutError:
        pass
    cpu = time.process_time() - cpu
    print(json.dumps({"received": received, "event_bytes": sizes[0] if sizes else 0, "cpu": cpu}), flush=True)
    await console.disconnect()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
