#!/usr/bin/env python3
"""Generate zlib / raw-deflate test streams with Python's zlib (the reference) for DanmuCodecsTests.

Writes Fixtures/generated/zlib/streams.bin (all compressed streams, then the originals of the small ones,
concatenated) and Fixtures/generated/zlib/manifest.txt, one line per stream:

    name format compressed_offset compressed_length original_length original_offset sha256(original)

format is `zlib` (RFC 1950), `raw` (RFC 1951) or `zlib-sync` (a zlib stream that stops after a sync flush,
possibly followed by the Adler-32, as the live server sends them). original_offset is -1 when the original is not
stored (large streams: the test checks length + SHA-256). Deterministic: fixed seed, run with any Python 3 whose
zlib is 1.2.x/1.3.x: `python3 Scripts/gen_zlib_fixtures.py`.
"""
import glob
import hashlib
import json
import os
import random
import struct
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Fixtures", "generated", "zlib")
STORE_ORIGINAL_MAX = 64 * 1024
rng = random.Random(20250701)


def samples():
    docs = []
    for path in sorted(glob.glob(os.path.join(ROOT, "Fixtures", "samples", "*.json"))):
        with open(path, "rb") as f:
            raw = f.read()
        try:
            docs.append(json.dumps(json.loads(raw), ensure_ascii=False, separators=(",", ":")).encode())
        except ValueError:
            continue
    return docs


DOCS = samples()


def danmaku_batch(size):
    """Inner packets as in a ver-2 body: 16-byte header (ver 0, op 5) + compact JSON, varied numbers."""
    out = bytearray()
    while len(out) < size:
        doc = rng.choice(DOCS)
        # Vary digits so the data is not a pure repetition of the samples.
        doc = bytes(b if not (48 <= b <= 57) or rng.random() < 0.7 else 48 + rng.randrange(10) for b in doc)
        out += struct.pack(">IHHII", 16 + len(doc), 16, 0, 5, 0) + doc
    return bytes(out[:size]) if size < len(out) and rng.random() < 0.3 else bytes(out)


def json_lines(size):
    out = bytearray()
    while len(out) < size:
        out += rng.choice(DOCS) + b"\n"
    return bytes(out[:size])


def random_bytes(size):
    return bytes(rng.getrandbits(8) for _ in range(size))


def low_entropy(size):
    alphabet = bytes(rng.sample(range(256), 6))
    return bytes(rng.choice(alphabet) for _ in range(size))


def mixed(size):
    out = bytearray()
    while len(out) < size:
        kind = rng.randrange(4)
        n = rng.randrange(1, 20000)
        out += [danmaku_batch, json_lines, random_bytes, low_entropy][kind](n)
    return bytes(out[:size])


def compress(data, level, wbits, strategy=zlib.Z_DEFAULT_STRATEGY, mem=8):
    c = zlib.compressobj(level, zlib.DEFLATED, wbits, mem, strategy)
    return c.compress(data) + c.flush()


streams = []  # (name, format, compressed, original)


def add(name, fmt, compressed, original):
    streams.append((name, fmt, compressed, original))


GENERATORS = [("danmaku", danmaku_batch), ("jsonl", json_lines), ("random", random_bytes),
              ("lowent", low_entropy), ("mixed", mixed)]
SIZES = [0, 1, 2, 17, 100, 300, 1000, 3000, 10000, 40000]

# Levels 0-9 x window bits 9-15 (zlib wrapper): 70 streams.
for level in range(10):
    for wbits in range(9, 16):
        gname, gen = GENERATORS[(level + wbits) % len(GENERATORS)]
        size = SIZES[(level * 7 + wbits) % len(SIZES)]
        data = gen(size)
        add(f"z-l{level}-w{wbits}-{gname}-{size}", "zlib", compress(data, level, wbits), data)

# Strategies (fixed codes, Huffman only, RLE, filtered) and memory levels.
for i, strategy in enumerate([zlib.Z_FIXED, zlib.Z_HUFFMAN_ONLY, zlib.Z_RLE, zlib.Z_FILTERED]):
    for gname, gen in GENERATORS[:3]:
        data = gen(rng.choice([500, 5000, 20000]))
        add(f"z-strategy{strategy}-{gname}-{len(data)}", "zlib", compress(data, 6, 15, strategy, 1 + i * 2), data)

# Raw deflate (-15 and a few smaller windows).
for i in range(16):
    gname, gen = GENERATORS[i % len(GENERATORS)]
    data = gen(rng.choice([0, 5, 200, 2000, 30000]))
    wbits = -15 if i < 12 else -9 - i % 4
    add(f"raw{wbits}-l{i % 10}-{gname}-{len(data)}", "raw", compress(data, i % 10, wbits), data)

# Sync-flushed streams, the way the live server ends them: no final block; some followed by the Adler-32,
# some with several flushes, one ending with a full flush.
for i in range(16):
    gname, gen = GENERATORS[i % 2]  # danmaku batches and JSON lines
    parts = [gen(rng.choice([50, 400, 1500, 4000])) for _ in range(1 + i % 3)]
    c = zlib.compressobj(rng.choice([1, 6, 9]), zlib.DEFLATED, 15)
    body = b""
    for part in parts:
        body += c.compress(part) + c.flush(zlib.Z_FULL_FLUSH if i == 15 else zlib.Z_SYNC_FLUSH)
    data = b"".join(parts)
    assert body.endswith(b"\x00\x00\xff\xff")
    if i % 2 == 1:
        body += struct.pack(">I", zlib.adler32(data))
    add(f"zsync-{i}-{gname}-{len(data)}{'-adler' if i % 2 else ''}", "zlib-sync", body, data)

# Edge cases: runs (distance 1), maximal matches (258), short periods (distances 2-7), all byte values.
EDGES = [b"a" * 1000, b"ab" * 700, b"abcdefg" * 300, bytes(range(256)) * 40, b"x" * 258 + b"y" * 259,
         bytes(70000), b"\xff" * 65535 + b"\x00", b"".join(bytes([i % 251]) * (i % 9 + 1) for i in range(3000))]
for i, data in enumerate(EDGES):
    add(f"z-edge{i}-l{(i * 3) % 10}-{len(data)}", "zlib", compress(data, (i * 3) % 10, 15), data)

# Few large ones (not stored: length + SHA-256 only).
big = danmaku_batch(1 << 20)
add("z-l6-large-danmaku-1MiB", "zlib", compress(big, 6, 15), big)
big = mixed(600_000)
add("z-l9-large-mixed", "zlib", compress(big, 9, 15), big)
big = low_entropy(1 << 20)
add("z-l1-large-lowent-1MiB", "zlib", compress(big, 1, 15), big)
big = json_lines(300_000)
add("raw-l4-large-jsonl", "raw", compress(big, 4, -15), big)
big = random_bytes(200_000)
add("z-l5-large-random", "zlib", compress(big, 5, 13), big)

# Sanity: Python decodes everything it wrote.
for name, fmt, comp, orig in streams:
    if fmt == "raw":
        d = zlib.decompressobj(-15)
    else:
        d = zlib.decompressobj(15)
    if name.endswith("-adler"):
        comp = comp[:-4]  # Python would read the trailing checksum as another block
    assert d.decompress(comp) == orig, name

os.makedirs(OUT, exist_ok=True)
blob = bytearray()
rows = []
offsets = []
for name, fmt, comp, orig in streams:
    offsets.append(len(blob))
    blob += comp
for (name, fmt, comp, orig), coff in zip(streams, offsets):
    ooff = -1
    if len(orig) <= STORE_ORIGINAL_MAX:
        ooff = len(blob)
        blob += orig
    rows.append(f"{name} {fmt} {coff} {len(comp)} {len(orig)} {ooff} {hashlib.sha256(orig).hexdigest()}")
with open(os.path.join(OUT, "streams.bin"), "wb") as f:
    f.write(blob)
with open(os.path.join(OUT, "manifest.txt"), "w") as f:
    f.write("# name format compressed_offset compressed_length original_length original_offset sha256\n")
    f.write("\n".join(rows) + "\n")
# A decompression bomb: 1 GiB of zeros at level 9 (~1 MB). Tests expect the output-limit error.
c = zlib.compressobj(9, zlib.DEFLATED, 15)
zeros = bytes(1 << 20)
bomb = b"".join(c.compress(zeros) for _ in range(1024)) + c.flush()
with open(os.path.join(OUT, "bomb-1GiB-zeros.zlib"), "wb") as f:
    f.write(bomb)

print(f"{len(streams)} streams, {len(blob)} bytes in streams.bin")
