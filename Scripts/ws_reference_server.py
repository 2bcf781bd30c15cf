#!/usr/bin/env python3
"""A reference WebSocket (optionally TLS) server for danmu's transport tests, built on Python's `websockets`
(not our code). Prints `PORT <n>` once listening on 127.0.0.1, serves --connections connections, then exits.

Each connection, in order:
  1. a text message: JSON of what the client sent (path, User-Agent, Origin, Cookie, Sec-WebSocket-Version);
  2. binary b"one" (one frame);
  3. binary b"frag-ment-ed" sent as three fragments, with a ping between the first two;
  4. binary of 70000 bytes (i*7 mod 256: a 64-bit length);
  5. a ping b"are-you-there"; once its pong arrives, text "pong-ok";
  6. then echoes each message it receives; on b"close-me" closes with code 4000, reason "bye".
Usage: ws_reference_server.py [--tls CERT KEY] [--connections N]
"""
import asyncio
import json
import ssl
import sys

from websockets.asyncio.server import serve


async def handler(ws):
    headers = ws.request.headers
    await ws.send(json.dumps({
        "path": ws.request.path,
        "user_agent": headers.get("User-Agent"),
        "origin": headers.get("Origin"),
        "cookie": headers.get("Cookie"),
        "version": headers.get("Sec-WebSocket-Version"),
    }))
    await ws.send(b"one")

    async def fragments():
        yield b"frag-"
        await ws.ping(b"mid")  # a control frame between fragments
        yield b"ment"
        yield b"-ed"

    await ws.send(fragments())
    await ws.send(bytes((i * 7) % 256 for i in range(70000)))
    waiter = await ws.ping(b"are-you-there")
    await asyncio.wait_for(waiter, 10)
    await ws.send("pong-ok")
    async for message in ws:
        if message == b"close-me":
            await ws.close(4000, "bye")
            return
        await ws.send(message)


async def main():
    args = sys.argv[1:]
    context = None
    connections = 1
    while args:
        if args[0] == "--tls":
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(args[1], args[2])
            args = args[3:]
        elif args[0] == "--connections":
            connections = int(args[1])
            args = args[2:]
        else:
            sys.exit("unknown argument " + args[0])
    done = asyncio.Event()
    served = 0

    async def counted(ws):
        nonlocal served
        try:
            await handler(ws)
        finally:
            served += 1
            if served >= connections:
                done.set()

    async with serve(counted, "127.0.0.1", 0, ssl=context, compression=None, max_size=1 << 20) as server:
        port = server.sockets[0].getsockname()[1]
        print("PORT", port, flush=True)
        await asyncio.wait_for(done.wait(), 60)
        await asyncio.sleep(0.2)


asyncio.run(main())
