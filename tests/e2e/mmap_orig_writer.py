#!/usr/bin/env python3
"""Writer of otlp-mmap files as the original project's SDKs write them.

mmap_v1_writer.py follows otflow's own protocol document; this one follows
the original implementation (its Java SDK, the reference writer): the same
header and ring layout, the same messages with fields in the order
protobuf-java emits them (field number order, defaults left out), and the
same definitions:
  - counters and up-down counters are MetricRef.sum with temporality
    CUMULATIVE (is_monotonic true / left out); their synchronous add()
    writes one Measurement per call carrying the *increment* and a
    span_context (all-zero ids when no span is current);
  - observable counters share that MetricRef but their callbacks write the
    *observed total* and no span_context;
  - histograms are exp_hist CUMULATIVE, max_scale 20, max_buckets 20;
  - no flock, ever: a writer claims a slot by CAS on writer_index, encodes,
    then release-stores the lap flag (int32)(seq >> log2 N).
Standard library only; shares no code with otflow or libotmmap.

  java-metrics FILE        counter 5 x add(1) -> 5, up-down add(3), add(-1)
                           -> 2, observable counter 10 then 25 -> 25,
                           exp histogram 1, 2, 4 -> count 3 sum 7
  stall FILE --logs N --delay S
                           log records "stall-<i>"; every record's writer
                           is descheduled S seconds between claim and
                           publish while a second thread claims and
                           publishes the next slot
  logs FILE --count N      log records "log-<i>" (writer_index N - 1; N < 64, the ring has 64 slots)
  ckpt FILE --pos P        writes FILE.otflow-ckpt as otflow's earlier
                           versions did (format 1: magic, the file's
                           epoch, positions P,-1,-1, no open span)
  loss FILE --holes K --undecodable U --drops D
                           K slots claimed and never published, U slots
                           published with a length prefix past the slot,
                           then log records "after-<i>" (i < 3), D drops
                           in libotmmap's dictionary-header counters, one
                           span started and never ended, then a new
                           producer re-initialises the file (new start
                           time) and writes log record "epoch-2"
"""
import argparse
import mmap
import os
import struct
import sys
import threading
import time

N, B = 64, 512  # the Java demo's RingBufferOptions
RING = 32 + 4 * N + N * B
EVENTS, SPANS, MEAS = 64, 64 + RING, 64 + 2 * RING
DICT = 64 + 3 * RING
SIZE = DICT + 64 + 64 * 1024


def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def fv(f, v):  # varint field, left out when 0 (proto3 default)
    return varint(f << 3) + varint(v) if v else b""


def fl(f, b):  # length-delimited field
    return varint((f << 3) | 2) + varint(len(b)) + b


def ff64(f, v):
    return varint((f << 3) | 1) + struct.pack("<Q", v) if v else b""


def fd(f, v):
    return varint((f << 3) | 1) + struct.pack("<d", v) if v else b""


class File:
    def __init__(self, path, start_ns):
        fd_ = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.ftruncate(fd_, SIZE)
        self.m = mmap.mmap(fd_, SIZE)
        os.close(fd_)
        self.lock = threading.Lock()  # stands in for the CAS on writer_index
        # Rings and dictionary first, the header last (readers retry until
        # version and offsets are there).
        for off in (EVENTS, SPANS, MEAS):
            struct.pack_into("<qqqq", self.m, off, N, B, -1, -1)
            struct.pack_into("<%di" % N, self.m, off + 32, *([-1] * N))
        struct.pack_into("<qq", self.m, DICT, DICT + 64, 0)
        self.m[DICT + 16:DICT + 64] = bytes(48)
        struct.pack_into("<qqqqqQ", self.m, 0, 0, EVENTS, SPANS, MEAS, DICT, start_ns)
        struct.pack_into("<q", self.m, 0, 1)
        self.m.flush()

    # dictionary: varint length + bytes, reserved by a fetch-add on end
    def intern(self, b):
        with self.lock:
            ref = struct.unpack_from("<q", self.m, DICT)[0]
            e = varint(len(b)) + b
            self.m[ref:ref + len(e)] = e
            struct.pack_into("<q", self.m, DICT, ref + len(e))
            n = struct.unpack_from("<q", self.m, DICT + 8)[0]
            struct.pack_into("<q", self.m, DICT + 8, n + 1)
            return ref

    def claim(self, ring):
        with self.lock:
            w = struct.unpack_from("<q", self.m, ring + 24)[0] + 1
            struct.pack_into("<q", self.m, ring + 24, w)
            return w

    def fill(self, ring, seq, raw):
        slot = ring + 32 + 4 * N + (seq % N) * B
        self.m[slot:slot + len(raw)] = raw

    def publish(self, ring, seq):
        struct.pack_into("<i", self.m, ring + 32 + 4 * (seq % N), seq >> 6)

    def write(self, ring, msg):
        seq = self.claim(ring)
        self.fill(ring, seq, varint(len(msg)) + msg)
        self.publish(ring, seq)

    def scope(self, name):
        res = self.intern(fl(1, fv(1, self.intern(b"service.name")) +
                             fl(2, fl(1, b"orig-writer"))))  # Resource{attributes}
        return self.intern(fv(1, self.intern(name)) + fv(5, res))  # Scope{name_ref, resource_ref}


def now():
    return time.time_ns()


INVALID_CTX = fl(1, bytes(8)) + fl(2, bytes(16))  # Java: SpanContext.getInvalid()


def measurement(metric, value, sync):
    m = fv(1, metric) + ff64(3, now())
    m += fv(4, value) if isinstance(value, int) else fd(5, value)
    if isinstance(value, int) and value == 0:
        m += varint(4 << 3) + b"\x00"  # the oneof is written even at 0
    return m + (fl(6, INVALID_CTX) if sync else b"")


def metric_ref(f, scope, name, agg_field, agg):
    return f.intern(fl(1, name) + fv(4, scope) + fl(agg_field, agg))


def log_event(scope, body):
    return fv(1, scope) + ff64(2, now()) + fv(3, 9) + fl(5, fl(1, body))


def java_metrics(a):
    f = File(a.file, now())
    sc = f.scope(b"java-meter")
    cnt = metric_ref(f, sc, b"orig.requests", 6, fv(2, 2) + fv(3, 1))
    upd = metric_ref(f, sc, b"orig.queue", 6, fv(2, 2))
    obs = metric_ref(f, sc, b"orig.cpu_time", 6, fv(2, 2) + fv(3, 1))
    hist = metric_ref(f, sc, b"orig.latency", 8, fv(1, 2) + fv(2, 20) + fv(3, 20))
    for _ in range(5):
        f.write(MEAS, measurement(cnt, 1, True))
    f.write(MEAS, measurement(upd, 3, True))
    f.write(MEAS, measurement(upd, -1, True))
    f.write(MEAS, measurement(obs, 10, False))
    f.write(MEAS, measurement(obs, 25, False))
    for v in (1.0, 2.0, 4.0):
        f.write(MEAS, measurement(hist, v, True))


def stall(a):
    f = File(a.file, now())
    sc = f.scope(b"java-logger")
    for i in range(0, a.logs, 2):
        seq = f.claim(EVENTS)
        t = threading.Thread(target=lambda: f.write(EVENTS, log_event(sc, b"stall-%d" % (i + 1))))
        t.start()
        t.join()
        time.sleep(a.delay)  # descheduled between claim and publish
        msg = log_event(sc, b"stall-%d" % i)
        f.fill(EVENTS, seq, varint(len(msg)) + msg)
        f.publish(EVENTS, seq)


def loss(a):
    f = File(a.file, now())
    sc = f.scope(b"java-logger")
    for _ in range(a.holes):
        f.claim(EVENTS)  # a producer that died between claim and publish
    for _ in range(a.undecodable):
        seq = f.claim(EVENTS)
        f.fill(EVENTS, seq, b"\xff\xff\xff\x0f")  # length far past the slot
        f.publish(EVENTS, seq)
    for i in range(3):
        f.write(EVENTS, log_event(sc, b"after-%d" % i))
    struct.pack_into("<Q", f.m, DICT + 16, a.drops)  # libotmmap: events dropped
    tid, sid = bytes(range(1, 17)), bytes(range(1, 9))
    start = fl(5, b"never-ends") + fv(6, 1) + ff64(7, now())
    f.write(SPANS, fl(1, tid) + fl(2, sid) + fl(11, start) + fv(20, sc))
    if a.wait_file:
        deadline = time.time() + 20
        while not os.path.exists(a.wait_file) and time.time() < deadline:
            time.sleep(0.05)
    g = File(a.file, now() + 1)  # a new producer: new start time, rings re-initialised
    g.write(EVENTS, log_event(g.scope(b"java-logger"), b"epoch-2"))


def logs(a):
    f = File(a.file, now())
    sc = f.scope(b"java-logger")
    for i in range(a.count):
        f.write(EVENTS, log_event(sc, b"log-%d" % i))


def ckpt(a):
    with open(a.file, "rb") as fh:
        epoch = struct.unpack_from("<Q", fh.read(64), 40)[0]
    body = b"OTFMMCK1" + struct.pack("<Qqqq", epoch, a.pos, -1, -1) + struct.pack("<Q", 0)
    with open(a.file + ".otflow-ckpt", "wb") as fh:
        fh.write(body + b"END1")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("java-metrics")
    s.add_argument("file")
    s = sub.add_parser("stall")
    s.add_argument("file")
    s.add_argument("--logs", type=int, default=4)
    s.add_argument("--delay", type=float, default=0.3)
    s = sub.add_parser("loss")
    s.add_argument("file")
    s.add_argument("--holes", type=int, default=2)
    s.add_argument("--undecodable", type=int, default=1)
    s.add_argument("--drops", type=int, default=3)
    s.add_argument("--wait-file", default="")
    s = sub.add_parser("logs")
    s.add_argument("file")
    s.add_argument("--count", type=int, default=60)
    s = sub.add_parser("ckpt")
    s.add_argument("file")
    s.add_argument("--pos", type=int, required=True)
    a = p.parse_args()
    cmds = {"java-metrics": java_metrics, "stall": stall, "loss": loss, "logs": logs, "ckpt": ckpt}
    cmds[a.cmd](a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
