#!/usr/bin/env python3
"""Writes Fuzz/frames/seeds/ from the server→client captures in Fixtures/captures (run from the repo root).

Each seed is: one configuration byte (low nibble = number of chunk-size bytes), the chunk sizes, then a stream.
Every capture gets one seed fed byte by byte (config 0) and one with mixed chunk sizes; the concatenation of all
captures (heartbeat reply with its echo included) gets a few more chunkings, one with a 64-byte length cap.
"""
import glob
import os

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
print(f"{len(captures)} captures, {len(os.listdir(out))} seeds")
