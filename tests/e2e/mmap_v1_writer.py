#!/usr/bin/env python3
"""Independent writer and reader of otlp-mmap files, format version 1.

Written from the format description (docs/mmap-protocol.md and the original
project's FILE_PROTOCOL), standard library only, sharing no code with
libotmmap or otflow. Used by otflow's tests:

  gen FILE --seed S [--spans N] [--logs N] [--measurements N] [--loop]
           [--manifest PATH] [--threads T] [--slots N] [--slot-size B]
      writes a deterministic workload; with --manifest, one line per
      published record is appended (after its publish) so a test killing
      the writer knows what was published.
  verify --out OTLP_JSONL --manifest M [--manifest M2 ...] [--allow-incomplete]
      checks otflow's file exporter output against the generator: every
      manifest record exported with identical content, nothing foreign.
  read FILE
      prints the unread records of a file (any v1 writer) as JSON lines.

Layout, native (little-endian) order: 64-byte header (version, events,
spans, measurements, dictionary offsets, start time), three rings
(32-byte header num_buffers, buffer_size, reader_index, writer_index; int32
availability[N]; N slots of B bytes), dictionary (64-byte header end,
num_entries; varint-length entries, refs are absolute offsets)."""
import fcntl
import hashlib
import json
import mmap
import os
import struct
import sys
import threading
import time

HDR = 64
RING_EVENTS, RING_SPANS, RING_MEAS = 0, 1, 2


# ---- protobuf encoding ----
def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def tag(f, wt):
    return varint((f << 3) | wt)


def f_varint(f, v):
    return tag(f, 0) + varint(v)


def f_len(f, b):
    return tag(f, 2) + varint(len(b)) + b


def f_fixed64(f, v):
    return tag(f, 1) + struct.pack("<Q", v)


def f_fixed32(f, v):
    return tag(f, 5) + struct.pack("<I", v)


def f_double(f, v):
    return tag(f, 1) + struct.pack("<d", v)


# ---- protobuf decoding (reader side) ----
def read_varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << s
        if c < 0x80:
            return v, i
        s += 7


def fields(b):
    i = 0
    while i < len(b):
        t, i = read_varint(b, i)
        f, wt = t >> 3, t & 7
        if wt == 0:
            v, i = read_varint(b, i)
        elif wt == 1:
            v = b[i:i + 8]
            i += 8
        elif wt == 5:
            v = b[i:i + 4]
            i += 4
        elif wt == 2:
            n, i = read_varint(b, i)
            v = b[i:i + n]
            i += n
        else:
            raise ValueError("wire type %d" % wt)
        yield f, wt, v


class Writer:
    def __init__(self, path, num_buffers=1024, buffer_size=512, dict_size=1 << 16,
                 start_ns=None, spin=200):
        assert num_buffers & (num_buffers - 1) == 0 and num_buffers >= 8
        self.n, self.b = num_buffers, buffer_size
        ring = 32 + 4 * num_buffers + num_buffers * buffer_size
        self.off = [HDR, HDR + ring, HDR + 2 * ring]
        self.dict_off = HDR + 3 * ring
        size = self.dict_off + 64 + dict_size
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        # One producer per file, held while it writes: a reader probing
        # with a shared lock learns whether a hole can still be filled.
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.ftruncate(fd, size)
        self.fd = fd
        self.m = mmap.mmap(fd, size)
        self.lock = threading.Lock()
        self.dlock = threading.Lock()
        self.spin = spin
        self.drops = [0, 0, 0]
        self.memo = {}
        self.old_maps = []
        # Rings and dictionary first, the header last, version very last:
        # a reader that sees version 1 sees everything initialised.
        for o in self.off:
            struct.pack_into("<qqqq", self.m, o, num_buffers, buffer_size, -1, -1)
            struct.pack_into("<%di" % num_buffers, self.m, o + 32, *([-1] * num_buffers))
        struct.pack_into("<qq", self.m, self.dict_off, self.dict_off + 64, 0)
        struct.pack_into("<qqqqQ", self.m, 8, self.off[0], self.off[1], self.off[2],
                         self.dict_off, start_ns or time.time_ns())
        struct.pack_into("<q", self.m, 0, 1)

    def close(self):
        self.m.flush()
        self.m.close()
        os.close(self.fd)

    # -- dictionary --
    def _append(self, body):
        entry = varint(len(body)) + body
        with self.dlock:
            end, cnt = struct.unpack_from("<qq", self.m, self.dict_off)
            if end + len(entry) > len(self.m):
                size = max(2 * len(self.m), end + len(entry))
                os.ftruncate(self.fd, size)
                # Never unmap: other threads may still write through it.
                self.old_maps.append(self.m)
                self.m = mmap.mmap(self.fd, size)
            self.m[end:end + len(entry)] = entry
            struct.pack_into("<qq", self.m, self.dict_off, end + len(entry), cnt + 1)
            return end

    def intern(self, body):
        ref = self.memo.get(body)
        if ref is None:
            ref = self.memo[body] = self._append(body)
        return ref

    def _string(self, s):
        key = ("s", s)
        ref = self.memo.get(key)
        if ref is None:
            ref = self.memo[key] = self._append(s.encode())
        return ref

    def any_value(self, v):
        if isinstance(v, bool):
            return f_varint(2, 1 if v else 0)
        if isinstance(v, int):
            return f_varint(3, v)
        if isinstance(v, float):
            return f_double(4, v)
        if isinstance(v, bytes):
            return f_len(7, v)
        if isinstance(v, (list, tuple)):
            return f_len(5, b"".join(f_len(1, self.any_value(x)) for x in v))
        if isinstance(v, dict):
            return f_len(6, self.kvs(v, 1))
        return f_len(1, str(v).encode())

    def kvs(self, attrs, field):
        return b"".join(f_len(field, f_varint(1, self._string(k)) + f_len(2, self.any_value(v)))
                        for k, v in (attrs or {}).items())

    def resource(self, attrs):
        return self.intern(self.kvs(attrs, 1))

    def scope(self, name, version="", attrs=None, resource_ref=0):
        return self.intern(f_varint(1, self._string(name)) + f_varint(2, self._string(version)) +
                           self.kvs(attrs, 3) + f_varint(5, resource_ref))

    def metric(self, name, kind, scope_ref, description="", unit="", temporality=1,
               monotonic=True, bounds=(), max_buckets=160, max_scale=20):
        body = f_len(1, name.encode()) + f_len(2, description.encode()) + f_len(3, unit.encode())
        body += f_varint(4, scope_ref)
        if kind == "gauge":
            body += f_len(5, b"")
        elif kind == "sum":
            body += f_len(6, f_varint(2, temporality) + f_varint(3, 1 if monotonic else 0))
        elif kind == "histogram":
            body += f_len(7, f_varint(1, temporality) +
                          (f_len(2, struct.pack("<%dd" % len(bounds), *bounds)) if bounds else b""))
        else:
            body += f_len(8, f_varint(1, temporality) + f_varint(2, max_buckets) +
                          f_varint(3, max_scale))
        return self.intern(body)

    # -- rings --
    def publish(self, ring, body):
        msg = varint(len(body)) + body
        if len(msg) > self.b:
            self.drops[ring] += 1  # never claim a slot we cannot fill
            return False
        o = self.off[ring]
        shift = self.n.bit_length() - 1
        for _ in range(self.spin):
            with self.lock:
                r, w = struct.unpack_from("<qq", self.m, o + 16)
                if w + 1 - self.n < r:
                    seq = w + 1
                    struct.pack_into("<q", self.m, o + 24, seq)
                    break
        else:
            self.drops[ring] += 1
            return False
        slot = seq & (self.n - 1)
        base = o + 32 + 4 * self.n + slot * self.b
        self.m[base:base + len(msg)] = msg
        flag = (seq >> shift) & 0xFFFFFFFF
        struct.pack_into("<i", self.m, o + 32 + 4 * slot, flag - (1 << 32) if flag >= 1 << 31 else flag)
        return True

    def span_start(self, trace_id, span_id, scope_ref, name, kind, start_ns, attrs=None,
                   parent=b"", flags=1):
        body = (f_len(4, parent) if parent else b"") + f_len(5, name.encode()) + \
            f_varint(6, kind) + f_fixed64(7, start_ns) + self.kvs(attrs, 9) + f_fixed32(16, flags)
        return self.publish(RING_SPANS, f_len(1, trace_id) + f_len(2, span_id) + f_len(11, body) +
                            f_varint(20, scope_ref))

    def span_event(self, trace_id, span_id, scope_ref, field, body):
        return self.publish(RING_SPANS, f_len(1, trace_id) + f_len(2, span_id) +
                            f_len(field, body) + f_varint(20, scope_ref))

    def span_end(self, trace_id, span_id, scope_ref, end_ns, code=0, message=""):
        st = (f_len(2, message.encode()) if message else b"") + (f_varint(3, code) if code else b"")
        return self.span_event(trace_id, span_id, scope_ref, 12, f_fixed64(8, end_ns) + f_len(15, st))

    def span_rename(self, trace_id, span_id, scope_ref, name):
        return self.span_event(trace_id, span_id, scope_ref, 13, f_len(5, name.encode()))

    def span_attrs(self, trace_id, span_id, scope_ref, attrs):
        return self.span_event(trace_id, span_id, scope_ref, 14, self.kvs(attrs, 9))

    def span_link(self, trace_id, span_id, scope_ref, lt, ls, attrs=None):
        link = f_len(1, lt) + f_len(2, ls) + self.kvs(attrs, 4)
        return self.span_event(trace_id, span_id, scope_ref, 15, f_len(13, link))

    def event(self, scope_ref, time_ns, severity=9, text="", body=None, name="",
              trace_id=b"", span_id=b"", attrs=None):
        b = f_varint(1, scope_ref) + f_fixed64(2, time_ns) + f_varint(3, severity)
        if text:
            b += f_len(4, text.encode())
        if body is not None:
            b += f_len(5, self.any_value(body))
        if name:
            b += f_varint(6, self._string(name))
        if trace_id:
            # SpanContext: span_id = 1, trace_id = 2 (reversed vs SpanEvent)
            b += f_len(7, f_len(1, span_id) + f_len(2, trace_id) + f_fixed32(3, 1))
        return self.publish(RING_EVENTS, b + self.kvs(attrs, 8))

    def measure(self, metric_ref, value, time_ns, attrs=None):
        b = f_varint(1, metric_ref) + self.kvs(attrs, 2) + f_fixed64(3, time_ns)
        b += f_double(5, value) if isinstance(value, float) else f_varint(4, value)
        return self.publish(RING_MEAS, b)


class Reader:
    """Reads unread records of a v1 file (any writer) without committing."""

    def __init__(self, path):
        fd = os.open(path, os.O_RDONLY)
        self.m = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
        os.close(fd)
        (self.version, e, s, me, self.dict_off, self.epoch) = struct.unpack_from("<qqqqqQ", self.m, 0)
        self.off = [e, s, me]

    def dict_entry(self, ref):
        if ref == 0:
            return b""
        n, i = read_varint(self.m, ref)
        return bytes(self.m[i:i + n])

    def records(self, ring):
        o = self.off[ring]
        n, b, r, w = struct.unpack_from("<qqqq", self.m, o)
        shift = n.bit_length() - 1
        seq = r + 1
        while seq <= w:
            slot = seq & (n - 1)
            (a,) = struct.unpack_from("<i", self.m, o + 32 + 4 * slot)
            if a & 0xFFFFFFFF != (seq >> shift) & 0xFFFFFFFF:
                seq += 1  # hole
                continue
            base = o + 32 + 4 * n + slot * b
            ln, i = read_varint(self.m, base)
            yield bytes(self.m[i:i + ln])
            seq += 1


# ---- deterministic workload ----
def ids(seed, i):
    h = hashlib.sha256(b"%d/%d" % (seed, i)).digest()
    return h[:16], h[16:24]


def span_expect(seed, i, base):
    t, s = ids(seed, i)
    attrs = {"i": i, "s": "v%d" % i, "b": i % 2 == 0, "f": i * 0.5, "late": 0}
    attrs["late"] = i + 1  # UpdateAttributes replaces the key
    return {
        "traceId": t.hex(), "spanId": s.hex(), "name": ("renamed-%d" % i) if i % 3 == 0 else "op-%d" % (i % 7),
        "kind": 1 + i % 5, "start": base + i * 1000, "end": base + i * 1000 + 500 + i,
        "status": i % 3, "attrs": attrs, "links": 1 if i % 4 == 0 else 0,
        "parent": ids(seed, i - 1)[1].hex() if i % 5 == 1 else "",
    }


def gen(args):
    path = args["file"]
    seed = int(args.get("seed", 1))
    w = Writer(path, int(args.get("slots", 1024)), int(args.get("slot_size", 512)),
               int(args.get("dict_size", 1 << 16)))
    base = 1_700_000_000_000_000_000 + seed * 10_000_000_000
    res = w.resource({"service.name": "mmap-v1-writer", "seed": seed})
    sc = w.scope("mmap.test", "1.0", {"scope.attr": "x"}, res)
    counter = w.metric("requests", "sum", sc, "requests", "1", temporality=1, monotonic=True)
    hist = w.metric("latency", "histogram", sc, "latency", "ms", temporality=1,
                    bounds=(10.0, 100.0, 1000.0))
    gauge = w.metric("temperature", "gauge", sc, unit="Cel")
    man = os.open(args["manifest"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600) \
        if args.get("manifest") else None
    nspans, nlogs, nmeas = int(args.get("spans", 100)), int(args.get("logs", 100)), \
        int(args.get("measurements", 100))
    loop = "loop" in args

    def note(kind, i):
        if man is not None:
            os.write(man, b"%s %d %d\n" % (kind.encode(), seed, i))

    def one_span(i):
        t, s = ids(seed, i)
        e = span_expect(seed, i, base)
        parent = bytes.fromhex(e["parent"]) if e["parent"] else b""
        while not w.span_start(t, s, sc, "op-%d" % (i % 7), e["kind"], e["start"],
                               {"i": i, "s": "v%d" % i, "b": i % 2 == 0, "f": i * 0.5, "late": 0},
                               parent=parent):
            time.sleep(0.001)
        note("start", i)
        while not w.span_attrs(t, s, sc, {"late": i + 1}):
            time.sleep(0.001)
        if i % 3 == 0:
            while not w.span_rename(t, s, sc, "renamed-%d" % i):
                time.sleep(0.001)
        if i % 4 == 0:
            lt, ls = ids(seed + 1, i)
            while not w.span_link(t, s, sc, lt, ls, {"link.i": i}):
                time.sleep(0.001)
        while not w.span_end(t, s, sc, e["end"], e["status"], "m%d" % i if e["status"] == 2 else ""):
            time.sleep(0.001)
        note("span", i)

    def one_log(i):
        t, s = ids(seed, i)
        while not w.event(sc, base + i, 9 + i % 4, "INFO", "log %d" % i, "evt" if i % 2 else "",
                          t, s, {"i": i}):
            time.sleep(0.001)
        note("log", i)

    def one_meas(i):
        while not w.measure(counter, 1, base + i, {"k": i % 3}):
            time.sleep(0.001)
        note("count", i)
        while not w.measure(hist, float(i % 2000), base + i, {}):
            time.sleep(0.001)
        note("hist", i)
        while not w.measure(gauge, i, base + i, {}):
            time.sleep(0.001)
        note("gauge", i)

    threads = int(args.get("threads", 1))

    def run(part):
        i = part
        while True:
            if not loop and i >= max(nspans, nlogs, nmeas):
                break
            if loop or i < nspans:
                one_span(i)
            if loop or i < nlogs:
                one_log(i)
            if loop or i < nmeas:
                one_meas(i)
            i += threads

    ts = [threading.Thread(target=run, args=(p,)) for p in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    w.close()
    print(json.dumps({"drops": w.drops}))


def attr_value(v):
    for k in ("stringValue", "boolValue", "doubleValue"):
        if k in v:
            return v[k]
    if "intValue" in v:
        return int(v["intValue"])
    return None


def verify(args):
    spans, logs, points = {}, {}, {}
    for line in open(args["out"]):
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        for rs in req.get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                for sp in ss.get("spans", []):
                    spans.setdefault((sp["traceId"], sp["spanId"]), []).append(sp)
        for rl in req.get("resourceLogs", []):
            for sl in rl.get("scopeLogs", []):
                for lr in sl.get("logRecords", []):
                    a = {x["key"]: attr_value(x["value"]) for x in lr.get("attributes", [])}
                    logs.setdefault((lr.get("traceId"), a.get("i")), []).append(lr)
        for rm in req.get("resourceMetrics", []):
            for sm in rm.get("scopeMetrics", []):
                for m in sm.get("metrics", []):
                    for kind in ("sum", "gauge", "histogram"):
                        for p in m.get(kind, {}).get("dataPoints", []):
                            points.setdefault(m["name"], []).append(p)
    want = {}
    for mpath in args["manifest"]:
        if not os.path.exists(mpath):
            continue  # a writer killed before its first record
        for line in open(mpath):
            k, seed, i = line.split()
            want.setdefault(k, set()).add((int(seed), int(i)))
    bad = []
    allow_incomplete = "allow_incomplete" in args
    for seed, i in sorted(want.get("start", set())):
        base = 1_700_000_000_000_000_000 + seed * 10_000_000_000
        e = span_expect(seed, i, base)
        got = spans.get((e["traceId"], e["spanId"]), [])
        ended = (seed, i) in want.get("span", set())
        if not got:
            bad.append("span %d/%d missing" % (seed, i))
            continue
        sp = got[-1]
        a = {x["key"]: attr_value(x["value"]) for x in sp.get("attributes", [])}
        incomplete = a.pop("otflow.mmap.incomplete", False)
        if incomplete and (ended or not allow_incomplete):
            bad.append("span %d/%d incomplete" % (seed, i))
            continue
        if int(sp["startTimeUnixNano"]) != e["start"] or sp.get("kind") != e["kind"]:
            bad.append("span %d/%d start/kind differ" % (seed, i))
        if sp.get("parentSpanId", "") != e["parent"]:
            bad.append("span %d/%d parent differs" % (seed, i))
        if incomplete:
            continue
        if sp["name"] != e["name"] or int(sp["endTimeUnixNano"]) != e["end"] or \
                sp.get("status", {}).get("code", 0) != e["status"] or a != e["attrs"] or \
                len(sp.get("links", [])) != e["links"]:
            bad.append("span %d/%d differs: %s" % (seed, i, json.dumps(sp)))
    for seed, i in sorted(want.get("log", set())):
        t, s = ids(seed, i)
        got = logs.get((t.hex(), i), [])
        if not got:
            bad.append("log %d/%d missing" % (seed, i))
            continue
        lr = got[-1]
        base = 1_700_000_000_000_000_000 + seed * 10_000_000_000
        if lr.get("body", {}).get("stringValue") != "log %d" % i or \
                int(lr["timeUnixNano"]) != base + i or lr.get("spanId") != s.hex() or \
                lr.get("severityNumber") != 9 + i % 4 or \
                lr.get("eventName", "") != ("evt" if i % 2 else ""):
            bad.append("log %d/%d differs: %s" % (seed, i, json.dumps(lr)))
    # Spans and logs nobody published (corrupt or foreign): none allowed.
    known = set()
    for seed, i in want.get("start", set()):
        e = span_expect(seed, i, 0)
        known.add((e["traceId"], e["spanId"]))
    extra = [k for k in spans if k not in known]
    slack = int(args.get("slack", 0))
    if len(extra) > slack:
        bad.append("%d span(s) not in the manifest, e.g. %s" % (len(extra), extra[:2]))
    counts = len(want.get("count", set()))
    if counts and "exact_metrics" in args:
        total = sum(int(p.get("asInt", 0)) for p in points.get("requests", []))
        if total != counts:
            bad.append("requests sum %d != %d measurements" % (total, counts))
        hc = sum(int(p.get("count", 0)) for p in points.get("latency", []))
        if hc != len(want.get("hist", set())):
            bad.append("latency count %d != %d" % (hc, len(want.get("hist", set()))))
    for b in bad[:20]:
        print("FAIL", b)
    print("verified: %d spans, %d logs, %d problems" % (len(want.get("start", set())),
                                                        len(want.get("log", set())), len(bad)))
    sys.exit(1 if bad else 0)


def read(args):
    r = Reader(args["file"])
    print(json.dumps({"version": r.version, "epoch": r.epoch}))
    for ring, name in ((RING_SPANS, "span"), (RING_EVENTS, "event"), (RING_MEAS, "measurement")):
        for rec in r.records(ring):
            out = {"ring": name, "fields": []}
            for f, wt, v in fields(rec):
                out["fields"].append([f, v.hex() if isinstance(v, (bytes, bytearray)) else v])
            print(json.dumps(out))


def parse(argv):
    args, i = {"manifest": []}, 0
    pos = []
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            k = a[2:].replace("-", "_")
            if k in ("loop", "allow_incomplete", "exact_metrics"):
                args[k] = True
            elif k == "manifest":
                args["manifest"].append(argv[i + 1])
                i += 1
            else:
                args[k] = argv[i + 1]
                i += 1
        else:
            pos.append(a)
        i += 1
    return pos, args


if __name__ == "__main__":
    pos, args = parse(sys.argv[1:])
    cmd = pos[0] if pos else ""
    if cmd == "gen":
        args["file"] = pos[1]
        args["manifest"] = args["manifest"][0] if args["manifest"] else None
        gen(args)
    elif cmd == "verify":
        verify(args)
    elif cmd == "read":
        args["file"] = pos[1]
        read(args)
    else:
        print(__doc__)
        sys.exit(2)
