#!/usr/bin/env python3
"""Hostile slow HTTP/1.1 clients for tests/e2e/e2e_slow_clients.sh.

    slowclients.py hold PORT N LENGTH STOPFILE  N connections each send request
                                                headers announcing LENGTH body
                                                bytes, then nothing, until
                                                STOPFILE exists (30 s at most);
                                                writes STOPFILE.ready once all
                                                headers are sent
    slowclients.py slowloris PORT GAP_MS MIN_S MAX_S
                                                one header byte every GAP_MS:
                                                the server must answer 408 and
                                                close after MIN_S..MAX_S seconds
    slowclients.py http09 PORT                  "GET /" without a version: 400
                                                and close within 1 s
Each prints what it saw and exits 0 when the server behaved as expected.
"""
import os
import socket
import sys
import time

HOST = "127.0.0.1"


def connect(port, timeout=5.0):
    s = socket.create_connection((HOST, int(port)), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_answer(s, timeout):
    """Reads until the server closes; returns (bytes, seconds) or None."""
    s.settimeout(0.1)
    t0 = time.monotonic()
    data = b""
    while time.monotonic() - t0 < timeout:
        try:
            b = s.recv(4096)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return data, time.monotonic() - t0
        if not b:
            return data, time.monotonic() - t0
        data += b
    return None


def hold(port, n, length, stopfile):
    socks = []
    for _ in range(int(n)):
        s = connect(port)
        s.sendall(
            (
                f"POST /v1/traces HTTP/1.1\r\nHost: {HOST}\r\n"
                f"Content-Type: application/x-protobuf\r\nContent-Length: {length}\r\n\r\n"
            ).encode()
        )
        socks.append(s)
    open(stopfile + ".ready", "w").close()
    deadline = time.monotonic() + 30
    while not os.path.exists(stopfile) and time.monotonic() < deadline:
        time.sleep(0.05)
    for s in socks:
        s.close()
    print(f"held {n} connections announcing {length} bytes each")
    return True


def slowloris(port, gap_ms, min_s, max_s):
    s = connect(port)
    head = (
        f"POST /v1/traces HTTP/1.1\r\nHost: {HOST}\r\nX-Slow: " + "0123456789" * 20 + "\r\n"
    ).encode()
    t0 = time.monotonic()
    s.settimeout(float(gap_ms) / 1000)
    data = b""
    for i in range(len(head)):
        try:
            s.send(head[i : i + 1])
        except (BrokenPipeError, ConnectionResetError):
            break
        try:
            b = s.recv(4096)
            if not b:
                break
            data += b
        except socket.timeout:
            pass
        except ConnectionResetError:
            break
    else:
        print(f"still open after {time.monotonic() - t0:.2f}s and {len(head)} bytes")
        return False
    rest = read_answer(s, 2.0)
    dt = time.monotonic() - t0
    if rest:
        data += rest[0]
    status = data.split(b"\r\n", 1)[0].decode(errors="replace")
    print(f"after {dt:.2f}s: {status!r}; {data[-80:]!r}")
    return status.startswith("HTTP/1.1 408") and float(min_s) <= dt <= float(max_s)


def http09(port):
    s = connect(port)
    t0 = time.monotonic()
    s.sendall(b"GET /\r\n")
    got = read_answer(s, 3.0)
    if got is None:
        print("no answer and not closed within 3 s")
        return False
    data, dt = got
    print(f"after {dt:.2f}s: {data[:200]!r}")
    return data.startswith(b"HTTP/1.1 400") and b"HTTP/0.9" in data and dt < 1.0


def main(argv):
    cmd = argv[1]
    if cmd == "hold":
        ok = hold(argv[2], argv[3], argv[4], argv[5])
    elif cmd == "slowloris":
        ok = slowloris(argv[2], argv[3], argv[4], argv[5])
    elif cmd == "http09":
        ok = http09(argv[2])
    else:
        print(__doc__)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
