#!/usr/bin/env python3
"""Opens N idle TCP connections to HOST:PORT (sends nothing), keeps them,
and rewrites STATUS every 100 ms with "open=<n> closed=<m> failed=<k>":
closed counts connections the server closed (EOF or reset), failed the
ones that never connected. Exits (closing everything) when STOP exists.

usage: idle_conns.py HOST PORT N STATUS STOP
"""
import errno
import os
import select
import socket
import sys
import time

host, port, n, status, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
pending, live = [], []
closed = failed = 0
for _ in range(n):
    s = socket.socket()
    s.setblocking(False)
    rc = s.connect_ex((host, port))
    if rc in (0, errno.EINPROGRESS):
        pending.append(s)
    else:
        failed += 1
        s.close()
deadline = time.time() + 10
while pending and time.time() < deadline:
    _, w, _ = select.select([], pending, [], 0.2)
    for s in w:
        pending.remove(s)
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            live.append(s)
        else:
            failed += 1
            s.close()
failed += len(pending)
for s in pending:
    s.close()


def write_status():
    tmp = status + ".tmp"
    with open(tmp, "w") as f:
        f.write("open=%d closed=%d failed=%d\n" % (len(live), closed, failed))
    os.replace(tmp, status)


while not os.path.exists(stop):
    write_status()
    r, _, _ = select.select(live, [], [], 0.1) if live else ([], [], time.sleep(0.1))
    for s in r:
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if not data:
            live.remove(s)
            s.close()
            closed += 1
write_status()
for s in live:
    s.close()
