#!/usr/bin/env python3
"""Free loopback TCP ports for the tests, reserved against the other tests
running on the same machine at the same time.

usage: free_port.py OWNER_PID [N]       prints N (default 1) ports, one a line
       free_port.py --release OWNER_PID  drops the reservations of OWNER_PID

As a module: pick(owner_pid) and release(owner_pid).

Why not the port the OS gives for port 0: that port lies in the ephemeral
range (net.ipv4.ip_local_port_range), where every outgoing connection of
every process on the machine also takes its local port, and closing the
probe socket hands it to the next bind(0) of a test running in parallel.
A port chosen at the start and bound later (a backend started halfway
through a test, a server restarted on its port, a health port bound while
the process starts under load) was now and then taken by then ("address
already in use", seen under ctest -j2 on a loaded machine). So a port is
chosen at random below the ephemeral range, checked free by binding it,
and reserved by a directory per port (mkdir is atomic) holding the
owner's pid; a reservation whose owner has exited is stale and taken over.
The owner is the test's main process: its cleanup releases them all.
"""
import errno
import os
import random
import socket
import sys

DIR = os.path.join(os.environ.get("TMPDIR", "/tmp"), "otflow-test-ports")
LOW = 15000  # above the usual fixed service ports


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reserve(port, owner):
    d = os.path.join(DIR, str(port))
    for _ in range(2):
        try:
            os.mkdir(d)
        except FileExistsError:
            try:
                with open(os.path.join(d, "owner")) as f:
                    held_by = int(f.read().strip() or 0)
            except (OSError, ValueError):
                return False  # being created right now, or unreadable
            if held_by and _alive(held_by):
                return False
            # stale: its owner exited without releasing it
            try:
                os.remove(os.path.join(d, "owner"))
                os.rmdir(d)
            except OSError:
                return False
            continue
        with open(os.path.join(d, "owner"), "w") as f:
            f.write("%d\n" % owner)
        return True
    return False


def _unreserve(port):
    d = os.path.join(DIR, str(port))
    try:
        os.remove(os.path.join(d, "owner"))
    except OSError:
        pass
    try:
        os.rmdir(d)
    except OSError:
        pass


def _bindable(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        s.listen(1)
        return True
    except OSError:
        return False
    finally:
        s.close()


def pick(owner=None):
    """A free loopback port, reserved for owner (default: this process)."""
    owner = owner or os.getpid()
    os.makedirs(DIR, mode=0o1777, exist_ok=True)
    try:
        os.chmod(DIR, 0o1777)
    except OSError:
        pass
    high = _ephemeral_low()
    if high - LOW >= 1000:
        for _ in range(200):
            port = random.randrange(LOW, high)
            if not _reserve(port, owner):
                continue
            if _bindable(port):
                return port
            _unreserve(port)
    s = socket.socket()  # no room below the ephemeral range: the OS's choice
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def release(owner=None):
    owner = owner or os.getpid()
    try:
        names = os.listdir(DIR)
    except OSError:
        return
    for name in names:
        try:
            with open(os.path.join(DIR, name, "owner")) as f:
                if int(f.read().strip() or 0) != owner:
                    continue
        except (OSError, ValueError):
            continue
        _unreserve(name)


def main(argv):
    if len(argv) >= 3 and argv[1] == "--release":
        release(int(argv[2]))
        return 0
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    owner = int(argv[1])
    for _ in range(int(argv[2]) if len(argv) > 2 else 1):
        print(pick(owner))
    return 0


if __name__ == "__main__":
    random.seed()
    try:
        sys.exit(main(sys.argv))
    except OSError as e:
        if e.errno != errno.EPIPE:
            raise
