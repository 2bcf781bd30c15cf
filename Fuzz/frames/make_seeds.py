#!/usr/bin/env python3
"""Writes Fuzz/frames/seeds/ from the server→client captures in Fixtures/captures (run from the repo root).

Each seed is: one configuration byte (low nibble = number of chunk-size bytes), the chunk sizes, then a stream.
Every capture gets one seed fed byte by byte (config 0) and one with mixed chunk sizes; the concatenation of all
captures (heartbeat reply with its echo included) gets a few more chunkings, one with a 64-byte length cap.
Every cmd sample in Fixtures/samples becomes a plain ver 0 message; a few zlib/brotli/nested batches are made here.
"""
import glob
import os
import struct
import zlib

import brotli  # pip install brotli (Google's reference implementation)

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
captures = sorted(glob.glob(os.path.join(root, "Fixtures", "captures", "*_s2c_*.bin")))
out = os.path.join(root, "Fuzz", "frames", "seeds")
os.makedirs(out, exist_ok=True)


def seed(name, config_high, sizes, stream):
    assert len(sizes) <= 15
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([config_high | len(sizes)] + sizes) + stream)


streams = []
for path in captures:
    stream = open(path, "rb").read()
    streams.append(stream)
    base = os.path.basename(path)[:-4]
    seed(base + ".bytewise", 0x00, [], stream)
    seed(base + ".mixed", 0x00, [5, 0, 17, 16, 3], stream)
everything = b"".join(streams)
seed("all.bytewise", 0x00, [], everything)
seed("all.mixed", 0x00, [1, 15, 16, 0, 200, 33, 239], everything)
seed("all.big", 0x00, [240, 100], everything)
seed("all.cap64", 0x10, [16, 4], everything)
seed("all.tinybudget", 0x40, [9, 2], everything)


def packet(op, ver, body, seq=0):
    return struct.pack(">IHHII", 16 + len(body), 16, ver, op, seq) + body


# Plain (ver 0) messages from the cmd samples, so mutations reach the JSON → event parsers directly, and a few
# batches built with Python's zlib/brotli (one nested: a zlib batch inside a brotli batch).
samples = sorted(p for p in glob.glob(os.path.join(root, "Fixtures", "samples", "[A-Z]*.json")))
bodies = []
for path in samples:
    body = open(path, "rb").read().strip()
    bodies.append(body)
    seed("sample." + os.path.basename(path)[:-5] + ".plain", 0x00, [7, 64], packet(5, 0, body))
danmaku = b"".join(packet(5, 0, b) for b, p in zip(bodies, samples) if "DANMU_MSG" in p)
mixed = b"".join(packet(5, 0, b) for b in bodies if len(b) < 700)
seed("batch.danmaku.zlib", 0x00, [3, 240], packet(5, 2, zlib.compress(danmaku)))
seed("batch.mixed.brotli", 0x00, [11, 0, 240], packet(5, 3, brotli.compress(mixed)))
nested = packet(5, 2, zlib.compress(b"".join(packet(5, 0, b) for b in bodies if len(b) < 400)))
seed("batch.nested", 0x00, [13], packet(5, 3, brotli.compress(nested)) + packet(3, 1, b"\0\0\0\1") + b"[object Object]")
print(f"{len(captures)} captures, {len(os.listdir(out))} seeds")
