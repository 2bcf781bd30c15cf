#!/usr/bin/env python3
"""Generate the brotli decoder's reference fixtures into Fixtures/generated/brotli/.

Every stream is made by the reference encoder (PyPI `brotli`, i.e. Google's C library) across qualities 0-11,
window sizes 10-24 and modes generic/text, from random bytes and from danmaku-like JSON built out of
Fixtures/samples. A few streams are hand-made bit by bit (metadata meta-blocks, an empty stream) and checked
against the reference decoder. Deterministic: a fixed seed, so re-running it reproduces the same files.

Layout: NAME.br is the stream; NAME.raw is the original when it is small (<= 64 KiB); manifest.tsv lists
NAME, quality, lgwin, mode, original length, SHA-256 of the original (for the big ones the test checks this).
Usage: python3 Scripts/gen_brotli_fixtures.py
"""
import glob
import hashlib
import json
import os
import random
import shutil
import struct

import brotli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Fixtures", "generated", "brotli")
SMALL = 64 * 1024
rng = random.Random(20260321)


def load_samples():
    docs = []
    for path in sorted(glob.glob(os.path.join(ROOT, "Fixtures", "samples", "*.json"))):
        try:
            with open(path, "rb") as f:
                doc = json.load(f)
        except ValueError:
            continue
        if isinstance(doc, dict) and "cmd" in doc:
            docs.append(doc)
    return docs


SAMPLES = load_samples()
WORDS = ["主播", "好耶", "哈哈哈", "awsl", "来了", "晚上好", "??", "草", "666", "加油", "the", "stream", "nice"]


def mutate(value, depth=0):
    """Vary numbers and strings a little so that batches are not verbatim repeats."""
    if isinstance(value, dict):
        return {k: mutate(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [mutate(v, depth + 1) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value + rng.randrange(0, 1000) if value > 1000 else value
    if isinstance(value, str) and 0 < len(value) < 12 and rng.random() < 0.3:
        return "".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 4)))
    return value


def danmaku_json(size):
    """Bilibili-style batch: 16-byte packet headers (ver 0, op 5) followed by a JSON body, repeated."""
    out = bytearray()
    while len(out) < size:
        body = json.dumps(mutate(rng.choice(SAMPLES)), ensure_ascii=False, separators=(",", ":")).encode()
        out += struct.pack(">IHHII", 16 + len(body), 16, 0, 5, 0) + body
    return bytes(out[:size])


def text_json(size):
    """Plain JSON lines (no binary headers), for the text mode."""
    out = bytearray()
    while len(out) < size:
        out += json.dumps(mutate(rng.choice(SAMPLES)), ensure_ascii=False).encode() + b"\n"
    return bytes(out[:size])


def random_bytes(size):
    return bytes(rng.getrandbits(8) for _ in range(size))


def low_entropy(size):
    """Few distinct symbols with long runs: exercises short distances and overlapping copies."""
    alphabet = bytes(rng.sample(range(256), 4))
    out = bytearray()
    while len(out) < size:
        out += bytes([rng.choice(alphabet)]) * rng.randrange(1, 40)
    return bytes(out[:size])


class BitWriter:
    def __init__(self):
        self.bits = []

    def write(self, value, n):
        self.bits += [(value >> i) & 1 for i in range(n)]

    def align(self):
        while len(self.bits) % 8:
            self.bits.append(0)

    def raw(self, data):
        self.align()
        for b in data:
            self.write(b, 8)

    def bytes(self):
        self.align()
        return bytes(sum(bit << i for i, bit in enumerate(self.bits[k:k + 8])) for k in range(0, len(self.bits), 8))


def handmade_metadata():
    """WBITS 16, a 3-byte metadata block, an uncompressed block "hello", a 0-byte metadata block, last empty."""
    w = BitWriter()
    w.write(0, 1)            # WBITS = 16
    w.write(0, 1)            # ISLAST = 0
    w.write(3, 2)            # MNIBBLES = 0: metadata
    w.write(0, 1)            # reserved
    w.write(1, 2)            # MSKIPBYTES = 1
    w.write(2, 8)            # MSKIPLEN - 1 = 2
    w.raw(b"\xde\xad\x00")
    w.write(0, 1)            # ISLAST = 0
    w.write(0, 2)            # MNIBBLES = 4
    w.write(4, 16)           # MLEN - 1 = 4
    w.write(1, 1)            # ISUNCOMPRESSED
    w.raw(b"hello")
    w.write(0, 1)
    w.write(3, 2)
    w.write(0, 1)
    w.write(0, 2)            # MSKIPBYTES = 0: empty metadata
    w.align()
    w.write(1, 1)            # ISLAST
    w.write(1, 1)            # ISLASTEMPTY
    return w.bytes(), b"hello"


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    manifest = []

    def add(name, data, quality, lgwin, mode, stream=None):
        if stream is None:
            stream = brotli.compress(data, mode=mode, quality=quality, lgwin=lgwin)
        assert brotli.decompress(stream) == data, name
        with open(os.path.join(OUT, name + ".br"), "wb") as f:
            f.write(stream)
        if len(data) <= SMALL:
            with open(os.path.join(OUT, name + ".raw"), "wb") as f:
                f.write(data)
        manifest.append(f"{name}\t{quality}\t{lgwin}\t{mode}\t{len(data)}\t{hashlib.sha256(data).hexdigest()}")

    makers = {"json": danmaku_json, "text": text_json, "random": random_bytes, "runs": low_entropy}
    index = 0
    # Every quality x a spread of windows x both modes, small and medium sizes.
    for quality in range(12):
        for lgwin in (10, 12, 16, 18, 22, 24):
            for kind in ("json", "text", "random", "runs") if lgwin in (16, 22) else ("json",):
                size = rng.choice([0, 1, 2, 7, 60, 300, 900, 2500, 6000, 15000, 40000])
                mode = brotli.MODE_TEXT if kind == "text" else rng.choice([brotli.MODE_GENERIC, brotli.MODE_TEXT])
                data = makers[kind](size)
                add(f"{index:03d}-q{quality}-w{lgwin}-{kind}-{size}", data, quality, lgwin, mode)
                index += 1
    # The remaining windows once each, at a mid and a top quality.
    for lgwin in range(10, 25):
        for quality in (5, 11):
            size = rng.choice([3000, 20000, 50000])
            add(f"{index:03d}-q{quality}-w{lgwin}-json-{size}", danmaku_json(size), quality, lgwin, brotli.MODE_GENERIC)
            index += 1
    # A few large streams (checked by SHA-256): JSON at 1 MiB with q11 and q5, text, random bytes.
    for quality, lgwin, kind, size in ((11, 22, "json", 1 << 20), (5, 22, "json", 1 << 20), (9, 24, "text", 400000),
                                       (3, 18, "random", 200000), (11, 10, "runs", 300000), (0, 16, "json", 500000)):
        add(f"{index:03d}-q{quality}-w{lgwin}-{kind}-{size}", makers[kind](size), quality, lgwin, brotli.MODE_GENERIC)
        index += 1
    # A bomb: 40 MiB of zeros in a few dozen bytes (the decoder's default 16 MiB cap must stop it).
    add(f"{index:03d}-bomb-q11-w24-zeros-{40 << 20}", bytes(40 << 20), 11, 24, brotli.MODE_GENERIC)
    index += 1
    stream, data = handmade_metadata()
    add(f"{index:03d}-handmade-metadata", data, -1, 16, 0, stream)
    index += 1
    add(f"{index:03d}-handmade-empty", b"", -1, 16, 0, b"\x06")  # WBITS 16, ISLAST, ISLASTEMPTY
    index += 1
    with open(os.path.join(OUT, "manifest.tsv"), "w") as f:
        f.write("# name\tquality\tlgwin\tmode\tlength\tsha256 (generated by Scripts/gen_brotli_fixtures.py)\n")
        f.write("\n".join(manifest) + "\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"{len(manifest)} streams, {total} bytes in {OUT}")


if __name__ == "__main__":
    main()
