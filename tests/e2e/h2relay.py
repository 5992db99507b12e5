#!/usr/bin/env python3
"""Transparent TCP relay for gRPC (HTTP/2 cleartext) that reports, for every
gRPC request message a client sends, its compressed flag.

    h2relay.py LISTEN_PORT TARGET_PORT REPORT

Listens on 127.0.0.1:LISTEN_PORT, connects each client to
127.0.0.1:TARGET_PORT and copies bytes both ways unchanged. The client's
bytes are also parsed as HTTP/2 frames: the first DATA payload of each
stream starts with the 5-byte gRPC message prefix, whose first byte is the
compressed flag (0 or 1). One line "compressed=F length=N" per message is
appended to REPORT (flushed at once). Writes "ready" to REPORT.ready once
listening. Stops on SIGTERM.
"""
import signal
import socket
import sys
import threading

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, PADDED = 0x0, 0x8

lock = threading.Lock()


def report(path, line):
    with lock, open(path, "a") as f:
        f.write(line + "\n")


class Parser:
    """Incremental HTTP/2 frame parser of the client-to-server direction."""

    def __init__(self, path):
        self.path = path
        self.buf = b""
        self.preface = False
        self.pending = {}  # stream id -> bytes of a gRPC prefix not complete yet
        self.seen = set()  # streams whose message prefix was reported

    def feed(self, data):
        self.buf += data
        if not self.preface:
            if len(self.buf) < len(PREFACE):
                return
            if not self.buf.startswith(PREFACE):
                report(self.path, "error=no-http2-preface")
                self.buf = b""
                self.preface = None
                return
            self.buf = self.buf[len(PREFACE):]
            self.preface = True
        if self.preface is None:
            return
        while len(self.buf) >= 9:
            n = int.from_bytes(self.buf[0:3], "big")
            if len(self.buf) < 9 + n:
                return
            ftype, flags = self.buf[3], self.buf[4]
            sid = int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
            payload = self.buf[9:9 + n]
            self.buf = self.buf[9 + n:]
            if ftype != DATA or sid in self.seen:
                continue
            if flags & PADDED and payload:
                pad = payload[0]
                payload = payload[1:len(payload) - pad]
            head = self.pending.get(sid, b"") + payload
            if len(head) < 5:
                self.pending[sid] = head
                continue
            self.pending.pop(sid, None)
            self.seen.add(sid)
            report(self.path, "compressed=%d length=%d" % (head[0], int.from_bytes(head[1:5], "big")))


def pump(src, dst, parser):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if parser:
                parser.feed(data)
            dst.sendall(data)
    except OSError:
        pass
    for s in (dst, src):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(client, target, path):
    try:
        upstream = socket.create_connection(("127.0.0.1", target), timeout=10)
        upstream.settimeout(None)
    except OSError as e:
        report(path, "error=connect %s" % e)
        client.close()
        return
    threading.Thread(target=pump, args=(upstream, client, None), daemon=True).start()
    pump(client, upstream, Parser(path))


def main():
    listen, target, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen))
    srv.listen(64)
    open(path, "a").close()
    with open(path + ".ready", "w") as f:
        f.write("ready\n")
    while True:
        client, _ = srv.accept()
        threading.Thread(target=serve, args=(client, target, path), daemon=True).start()


if __name__ == "__main__":
    main()
