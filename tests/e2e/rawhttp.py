#!/usr/bin/env python3
"""Raw-socket and background HTTP clients for tests/e2e/e2e_bad_input.sh.

    rawhttp.py early413 PORT PATH LENGTH   announce LENGTH body bytes, send none:
                                           the 413 must arrive before the body
    rawhttp.py idle PORT MAX_S             connect, send nothing: closed by the
                                           server within MAX_S seconds
    rawhttp.py stall-headers PORT MAX_S    send half a request head, then stall:
                                           closed within MAX_S seconds
    rawhttp.py midbody PORT PATH           announce a body, send part of it, and
                                           disconnect
    rawhttp.py pipeline PORT FILE          two valid JSON trace requests in one
                                           write (HTTP/1.1 pipelining): two 200s
    rawhttp.py good PORT STOPFILE OUT      post valid requests (JSON and protobuf,
                                           new and kept-alive connections) until
                                           STOPFILE exists (60s at most); writes
                                           one status per line to OUT
Each prints what it saw and exits 0 when the server behaved as expected.
"""
import http.client
import os
import socket
import sys
import time

HOST = "127.0.0.1"


def connect(port, timeout=5.0):
    s = socket.create_connection((HOST, int(port)), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(s, limit_s):
    """Reads until the server closes or limit_s passes; returns bytes."""
    data = b""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
        if b"\r\n\r\n" in data:
            head, _, rest = data.partition(b"\r\n\r\n")
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    if len(rest) >= int(line.split(b":", 1)[1]):
                        return data
    return data


def early413(port, path, length):
    s = connect(port)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Content-Type: application/x-protobuf\r\nContent-Length: {length}\r\n\r\n"
    ).encode()
    s.sendall(head)  # and no body at all
    resp = read_response(s, 5.0)
    status = resp.split(b"\r\n", 1)[0].decode(errors="replace")
    body = resp.partition(b"\r\n\r\n")[2].decode(errors="replace").strip()
    print(f"{status} | {body}")
    s.close()
    return status.startswith("HTTP/1.1 413") and len(body) > 0


def wait_closed(s, max_s):
    t0 = time.monotonic()
    s.settimeout(max_s)
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
    except socket.timeout:
        print(f"still open after {max_s}s")
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - t0


def idle(port, max_s):
    s = connect(port)
    dt = wait_closed(s, float(max_s))
    s.close()
    if dt is None:
        return False
    print(f"closed by the server after {dt:.2f}s")
    return dt >= 0.5


def stall_headers(port, max_s):
    s = connect(port)
    s.sendall(f"POST /v1/traces HTTP/1.1\r\nHost: {HOST}\r\nContent-Ty".encode())
    dt = wait_closed(s, float(max_s))
    s.close()
    if dt is None:
        return False
    print(f"closed by the server after {dt:.2f}s")
    return True


def midbody(port, path):
    s = connect(port)
    s.sendall(
        (
            f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\n"
            "Content-Type: application/json\r\nContent-Length: 600\r\n\r\n"
            '{"resourceSpans":[{"resource":{"attributes":['
        ).encode()
    )
    time.sleep(0.2)
    # An abortive close (RST) for good measure, after a plain partial body.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
    print("sent 45 of 600 body bytes, then reset the connection")
    return True


def pipeline(port, body):
    s = connect(port)
    one = (
        f"POST /v1/traces HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    s.sendall(one + one)
    data = b""
    statuses = []
    deadline = time.monotonic() + 10
    while len(statuses) < 2 and time.monotonic() < deadline:
        # Parse whole responses off the front of the buffer.
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            lines = head.split(b"\r\n")
            length = 0
            for ln in lines[1:]:
                if ln.lower().startswith(b"content-length:"):
                    length = int(ln.split(b":", 1)[1])
            if len(rest) >= length:
                statuses.append(lines[0].decode(errors="replace"))
                data = rest[length:]
                continue
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    print(" / ".join(statuses) or repr(data[:200]))
    return len(statuses) == 2 and all(x.startswith("HTTP/1.1 200") for x in statuses)


def good(port, stopfile, out, json_body, pb_body):
    bodies = [("application/json", json_body), ("application/x-protobuf", pb_body)]
    deadline = time.monotonic() + 60
    n = 0
    conn = None
    with open(out, "w") as f:
        while not os.path.exists(stopfile) and time.monotonic() < deadline:
            ct, body = bodies[n % 2]
            try:
                if conn is None or n % 3 == 0:  # mix new and reused connections
                    if conn is not None:
                        conn.close()
                    conn = http.client.HTTPConnection(HOST, int(port), timeout=10)
                conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": ct})
                r = conn.getresponse()
                r.read()
                status = str(r.status)
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as e:  # noqa: BLE001 - recorded as a failure
                status = f"error:{type(e).__name__}:{e}"
                conn = None
            f.write(status + "\n")
            f.flush()
            n += 1
            time.sleep(0.02)
    return True


def main(argv):
    cmd = argv[1]
    if cmd == "early413":
        ok = early413(argv[2], argv[3], int(argv[4]))
    elif cmd == "idle":
        ok = idle(argv[2], argv[3])
    elif cmd == "stall-headers":
        ok = stall_headers(argv[2], argv[3])
    elif cmd == "midbody":
        ok = midbody(argv[2], argv[3])
    elif cmd == "pipeline":
        with open(argv[3], "rb") as f:
            ok = pipeline(argv[2], f.read())
    elif cmd == "good":
        with open(argv[5], "rb") as jf, open(argv[6], "rb") as pf:
            ok = good(argv[2], argv[3], argv[4], jf.read(), pf.read())
    else:
        print(__doc__)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
