#!/usr/bin/env python3
"""Writes the seed corpus of the HTTP/1.1 parser, HTTP/2 session and gRPC
reader fuzz targets (tests/fuzz/corpus/{http,http2,grpc}), including the attack shapes of the
hardening work: an announced 20 MiB body with headers only, a header
trickle cut short, HTTP/0.9, a 4 MiB gRPC prefix with no message, a
compressed flag without grpc-encoding, two messages on a unary call.
Each seed starts with the target's two control bytes (see the targets).
Usage: scripts/gen-fuzz-corpus-net.py   (from anywhere)"""
import gzip
import os
import shutil
import struct
import zlib

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fuzz", "corpus")
BODY = b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a"}]}]}]}'

http = {
    # control: byte 0 >= 192 = one feed; 7 = 8-byte feeds; byte 1 = limits
    "post-json": b"\xc0\xff" + b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY,
    "pipeline": b"\x07\xff" + b"GET /a?x=1 HTTP/1.1\r\nX-Empty:\r\n\r\n"
    b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    b"GET /old HTTP/1.0\r\n\r\n",
    "gzip-body": b"\xc0\xff" + b"POST /v1/logs HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
    % len(gzip.compress(BODY, mtime=0)) + gzip.compress(BODY, mtime=0),
    "expect-continue": b"\x03\xff" + b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nabcd",
    "announce-20MiB": b"\xc0\xff" + b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 20971520\r\n\r\n",
    "announce-20MiB-trickle": b"\x00\xff" + b"POST /v1/traces HTTP/1.1\r\nContent-Length: 20971520\r\n\r\nab",
    "slowloris-head": b"\x00\x00" + b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nX-Slow: 0123456789",
    "http09": b"\xc0\xff" + b"GET /\r\n",
    "http09-lf": b"\x00\xff" + b"GET /\n",
    "tls-hello": b"\xc0\xff" + b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n",
    "upgrade": b"\xc0\xff" + b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nPRI * HTTP/2.0",
}


def frame(msg, flag=0, length=None):
    return bytes([flag]) + struct.pack(">I", len(msg) if length is None else length) + msg


def deflate(b):
    c = zlib.compressobj(wbits=15)
    return c.compress(b) + c.flush()


grpc = {
    # control: byte 0 bit 0 has encoding, bits 1-2 which, bits 3-7 chunk; byte 1 max len
    "message": b"\xf8\x0a" + frame(BODY),
    "message-split": b"\x00\x0a" + frame(BODY),
    "empty-message": b"\x00\x0a" + frame(b""),
    "gzip": b"\x03\x0a" + frame(gzip.compress(BODY, mtime=0), 1),
    "deflate": b"\x05\x0a" + frame(deflate(BODY), 1),
    "prefix-4MiB-only": b"\xf8\x0f" + frame(b"", length=4 << 20),
    "prefix-4MiB-trickle": b"\x08\x0f" + frame(b"0123456789", length=4 << 20),
    "prefix-too-large": b"\xf8\x00" + frame(b"", length=1 << 30),
    "flag-without-encoding": b"\xf8\x0a" + frame(BODY, 1),
    "bad-flag": b"\xf8\x0a" + frame(BODY, 2),
    "two-messages": b"\xf8\x0a" + frame(b"a") + frame(b"b"),
    "truncated": b"\xf8\x0a" + frame(BODY)[:-3],
}



def h2(ftype, flags, sid, payload):
    """One HTTP/2 frame: 24-bit length, type, flags, stream id."""
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


def hpack(*fields):
    """Literal header fields without indexing, no Huffman (RFC 7541 6.2.2)."""
    out = b""
    for k, v in fields:
        out += b"\x00" + bytes([len(k)]) + k + bytes([len(v)]) + v
    return out


SETTINGS = h2(4, 0, 0, b"")
POST = ((b":method", b"POST"), (b":scheme", b"http"), (b":authority", b"x"))
END_STREAM, END_HEADERS = 1, 4
GZ = gzip.compress(BODY, mtime=0)
http2 = {
    # control: byte 0 >= 192 = one feed, else 1 + b0 % 64 bytes per feed;
    # byte 1: % 3 answer now / after the feed / never, 4 and 8 small limits
    "post-json": b"\xc0\x00" + SETTINGS
    + h2(1, END_HEADERS, 1, hpack(*POST, (b":path", b"/v1/traces"), (b"content-type", b"application/json"),
                                  (b"content-length", b"%d" % len(BODY))))
    + h2(0, END_STREAM, 1, BODY),
    "post-json-trickle-later": b"\x06\x01" + SETTINGS
    + h2(1, END_HEADERS, 1, hpack(*POST, (b":path", b"/v1/logs")))
    + h2(0, 0, 1, BODY[:10]) + h2(0, END_STREAM, 1, BODY[10:]),
    "gzip-two-streams": b"\xc0\x01" + SETTINGS
    + h2(1, END_HEADERS, 1, hpack(*POST, (b":path", b"/v1/logs"), (b"content-encoding", b"gzip")))
    + h2(1, END_HEADERS, 3, hpack(*POST, (b":path", b"/v1/metrics")))
    + h2(0, END_STREAM, 3, b"{}") + h2(0, END_STREAM, 1, GZ),
    "get-no-body": b"\xc0\x00" + SETTINGS
    + h2(1, END_HEADERS | END_STREAM, 1, hpack((b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/?q=1"))),
    "announce-20MiB": b"\xc0\x04" + SETTINGS
    + h2(1, END_HEADERS, 1, hpack(*POST, (b":path", b"/v1/traces"), (b"content-length", b"20971520")))
    + h2(0, 0, 1, BODY),
    "continuation": b"\xc0\x02" + SETTINGS
    + h2(1, 0, 1, hpack(*POST)) + h2(9, END_HEADERS, 1, hpack((b":path", b"/v1/traces"), (b"x-a", b"b")))
    + h2(0, END_STREAM, 1, BODY),
    "reset-mid-body": b"\xc0\x01" + SETTINGS
    + h2(1, END_HEADERS, 1, hpack(*POST, (b":path", b"/v1/traces")))
    + h2(0, 0, 1, BODY[:5]) + h2(3, 0, 1, struct.pack(">I", 8)),
    "no-path": b"\xc0\x00" + SETTINGS + h2(1, END_HEADERS | END_STREAM, 1, hpack((b":method", b"POST"),)),
    "goaway-ping": b"\xc0\x00" + SETTINGS + h2(6, 0, 0, b"12345678") + h2(7, 0, 0, struct.pack(">II", 0, 0)),
}

for name, seeds in (("http", http), ("http2", http2), ("grpc", grpc)):
    d = os.path.join(root, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for k, v in seeds.items():
        with open(os.path.join(d, k), "wb") as f:
            f.write(v)
print(f"gen-fuzz-corpus-net: {len(http)} HTTP, {len(http2)} HTTP/2 and {len(grpc)} gRPC seeds")
