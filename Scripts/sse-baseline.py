#!/usr/bin/env python3
"""Minimal SSE fan-out server: the baseline of `danmu-bench realtime` (see BENCHMARKS.md, "Realtime").

asyncio, one process, one thread. Accepts `GET /events...` on 127.0.0.1 (any free port; prints `port N`), answers
each with an SSE response head, and once `--subscribers` streams are open generates `--count` events of `--size`
bytes itself (no collector, no upstream: the cheapest possible source) and writes every event to every stream:
`--rate` events per second, or with `--rate 0` as fast as the sockets drain (awaiting each writer's drain every 64
events). Each event's data carries `"id_str":"sim-1-SEQ-NS"` with NS = CLOCK_MONOTONIC nanoseconds at generation,
the same stamp the simulator writes, so the same subscriber process measures both servers.
Exits on SIGTERM, or once every event was written and every subscriber has disconnected.
"""
import argparse
import asyncio
import signal
import time

HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        b"Connection: keep-alive\r\n\r\nretry: 3000\n\n")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--size", type=int, default=600)
    parser.add_argument("--rate", type=float, default=0)
    args = parser.parse_args()
    writers = []
    ready = asyncio.Event()

    async def serve(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(HEAD)
        writers.append(writer)
        if len(writers) >= args.subscribers:
            ready.set()
        try:
            await reader.read()  # until the client goes away
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        if writer in writers:
            writers.remove(writer)

    server = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=4096)
    print("port", server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    waiter = asyncio.ensure_future(ready.wait())
    await asyncio.wait([waiter, asyncio.ensure_future(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
    if not stop.is_set():
        start = time.monotonic()
        for seq in range(1, args.count + 1):
            if stop.is_set():
                break
            head = b'id: %d\ndata: {"room":1,"kind":"danmaku","id_str":"sim-1-%d-%d","text":"' % (
                seq, seq, time.monotonic_ns())
            tail = b'"}\n\n'
            event = head + b"x" * max(0, args.size - len(head) - len(tail)) + tail
            for writer in writers:
                writer.write(event)
            if args.rate > 0:
                delay = start + seq / args.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            elif seq % 64 == 0:
                await asyncio.gather(*(w.drain() for w in list(writers)), return_exceptions=True)
        await asyncio.gather(*(w.drain() for w in list(writers)), return_exceptions=True)
        print("sent", seq, flush=True)
        # Until SIGTERM, or until every subscriber is gone (a parent that died sends no SIGTERM).
        while not stop.is_set() and writers:
            await asyncio.sleep(0.2)
    server.close()


asyncio.run(main())
