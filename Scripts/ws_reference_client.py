#!/usr/bin/env python3
"""A reference WebSocket (optionally TLS) client for danmu's simulator tests, built on Python's `websockets`
(not our code): the other direction of ws_reference_server.py.

Connects to URL (ws://… or wss://…/sub), sends AUTH (op 7, protover 0: plain packets) for ROOM, expects op 8,
sends a heartbeat (op 2) and a WebSocket ping, then reads op-5 packets until it has COUNT danmaku. Checks that
their `sim-<room>-<seq>-` ids are 1…COUNT in order, that the heartbeat reply (op 3) and the pong came, and that
every binary message holds whole packets. Prints `OK …` and exits 0, or prints the problem and exits 1.
Usage: ws_reference_client.py URL ROOM COUNT [--ca CAFILE]
"""
import asyncio
import json
import re
import ssl
import struct
import sys

from websockets.asyncio.client import connect


def packet(op, body):
    return struct.pack(">IHHII", 16 + len(body), 16, 1, op, 1) + body


def split_packets(message):
    """The packets of one binary message; raises if it does not hold whole packets."""
    packets = []
    offset = 0
    while offset < len(message):
        if len(message) - offset < 16:
            raise ValueError("message ends inside a packet header")
        length, header, ver, op, seq = struct.unpack_from(">IHHII", message, offset)
        if header != 16 or length < 16 or offset + length > len(message):
            raise ValueError(f"bad packet header at {offset}: length {length}")
        packets.append((op, message[offset + 16:offset + length]))
        offset += length
    return packets


async def main():
    url, room, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    context = None
    if "--ca" in sys.argv:
        context = ssl.create_default_context(cafile=sys.argv[sys.argv.index("--ca") + 1])
    seqs, heartbeat_reply = [], False
    async with connect(url, ssl=context, open_timeout=10, user_agent_header="reference-client") as ws:
        await ws.send(packet(7, json.dumps({"uid": 0, "roomid": room, "protover": 0}).encode()))
        first = split_packets(await asyncio.wait_for(ws.recv(), 10))
        if first[0][0] != 8:
            raise SystemExit(f"first packet op {first[0][0]}, not AUTH_REPLY")
        await ws.send(packet(2, b""))
        pong = await ws.ping(b"danmu")
        pending = first[1:]
        while len(seqs) < count:
            if not pending:
                message = await asyncio.wait_for(ws.recv(), 10)
                if isinstance(message, str):
                    raise SystemExit("text message from the simulator")
                pending = split_packets(message)
            op, body = pending.pop(0)
            if op == 3:
                heartbeat_reply = True
            elif op == 5:
                for match in re.finditer(rb"sim-(\d+)-(\d+)-", body):
                    if int(match.group(1)) != room:
                        raise SystemExit(f"danmaku of room {match.group(1)} on room {room}")
                    seqs.append(int(match.group(2)))
        await asyncio.wait_for(pong, 10)
    if seqs[:count] != list(range(1, count + 1)):
        raise SystemExit(f"sequences out of order or missing: {seqs[:20]}…")
    print(f"OK {count} danmaku in order, heartbeat_reply={heartbeat_reply}, pong=True")


try:
    asyncio.run(main())
except SystemExit:
    raise
except Exception as error:  # a failure the test must see, with its reason
    print(f"FAILED {type(error).__name__}: {error}")
    sys.exit(1)
