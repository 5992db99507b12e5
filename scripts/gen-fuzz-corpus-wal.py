#!/usr/bin/env python3
"""Seeds for tests/fuzz/fuzz_wal_replay.c (tests/fuzz/corpus/wal): segment
bodies in the WAL record format (include/otflow/storage.h), clean, with an
ACK, with a torn tail and with a flipped byte in the middle; and records
whose payloads are queued requests (otf_qrec_*: version 1, version 2 with
client metadata, version 2 with a malformed metadata block)."""
import os
import struct

MAGIC = 0x314C5741


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def record(rtype, rid, payload=b""):
    tail = struct.pack("<IQ", rtype, rid)
    ln = struct.pack("<I", len(payload))
    crc = crc32c(payload, crc32c(tail, crc32c(ln)))
    return struct.pack("<IIIIQ", MAGIC, len(payload), crc, rtype, rid) + payload


out = os.path.join(os.path.dirname(__file__), "..", "tests", "fuzz", "corpus", "wal")
os.makedirs(out, exist_ok=True)
recs = [record(1, i, b"\x02\x01\x00\x00\x00\x00\x00\x00\x00payload-%d" % i) for i in range(1, 6)]
seeds = {
    "clean": b"".join(recs),
    "acked": b"".join(recs) + record(2, 2) + record(2, 4),
    "torn": b"".join(recs)[:-7],
}
flipped = bytearray(b"".join(recs))
flipped[len(recs[0]) + 30] ^= 0x20
seeds["flipped"] = bytes(flipped)
badlen = bytearray(b"".join(recs))
badlen[len(recs[0]) + 5] ^= 0x01
seeds["badlen"] = bytes(badlen)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def qrec_v1(signal, items, body):
    return struct.pack("<BBQ", 1, signal, items) + body


def qrec_v2(signal, items, meta, body):
    entries = b"".join(struct.pack("<HI", len(k), len(v)) + k + v for k, v in meta)
    block = struct.pack("<I", len(meta)) + entries
    return struct.pack("<BBQI", 2, signal, items, len(block)) + block + body


meta = [(b"x-tenant", b"acme"), (b"authorization", b"Bearer t0k"), (b"empty", b"")]
qseeds = {
    "qrec-v1": b"".join(record(1, i, qrec_v1(2, 1, b"\x0a\x00req-%d" % i)) for i in range(1, 4)),
    "qrec-v2": b"".join(record(1, i, qrec_v2(2, 1, meta[:i], b"\x0a\x00req-%d" % i))
                        for i in range(1, 4)) + record(2, 2),
    # count says 2 entries, the block holds 1
    "qrec-v2-badmeta": record(1, 1, qrec_v2(2, 1, meta[:1], b"body")[:14] + struct.pack("<I", 2)
                              + qrec_v2(2, 1, meta[:1], b"body")[18:]),
}
for name, data in qseeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
