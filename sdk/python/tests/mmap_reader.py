"""A small reader of otlp-mmap files for the Python tests, written from docs/mmap-protocol.md
(it shares no code with libotmmap): header, rings, protobuf fields, dictionary, cells."""
import mmap
import struct


def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if not c & 0x80:
            return v, i
        shift += 7


def fields(b):
    """[(number, value)] with value an int (varint/fixed) or bytes (length-delimited)."""
    out, i = [], 0
    while i < len(b):
        tag, i = varint(b, i)
        num, wt = tag >> 3, tag & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 1:
            v = struct.unpack_from("<Q", b, i)[0]
            i += 8
        elif wt == 5:
            v = struct.unpack_from("<I", b, i)[0]
            i += 4
        elif wt == 2:
            n, i = varint(b, i)
            v = bytes(b[i:i + n])
            i += n
        else:
            raise ValueError("bad wire type")
        out.append((num, v))
    return out


def get(b, num, default=None):
    for n, v in fields(b):
        if n == num:
            return v
    return default


def get_all(b, num):
    return [v for n, v in fields(b) if n == num]


def i64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def f64(v):
    return struct.unpack("<d", struct.pack("<Q", v))[0]


class File:
    def __init__(self, path):
        with open(path, "rb") as fh:
            self.m = mmap.mmap(fh.fileno(), 0, prot=mmap.PROT_READ)
        (self.version, self.events_off, self.spans_off, self.meas_off, self.dictionary, self.epoch,
         self.agg, self.agg_size) = struct.unpack_from("<qqqqqQqq", self.m, 0)

    def close(self):
        self.m.close()

    def ring(self, idx):
        off = [self.events_off, self.spans_off, self.meas_off][idx]
        n, b, reader, writer = struct.unpack_from("<qqqq", self.m, off)
        shift = n.bit_length() - 1
        out, s = [], reader + 1
        while True:
            slot = s & (n - 1)
            flag = struct.unpack_from("<i", self.m, off + 32 + 4 * slot)[0]
            if flag != struct.unpack("<i", struct.pack("<I", (s >> shift) & 0xFFFFFFFF))[0]:
                return out
            base = off + 32 + 4 * n + slot * b
            length, i = varint(self.m[base:base + 11], 0)
            out.append(bytes(self.m[base + i:base + i + length]))
            s += 1

    def ring_header(self, idx):
        off = [self.events_off, self.spans_off, self.meas_off][idx]
        return struct.unpack_from("<qqqq", self.m, off)

    def dropped(self):
        return list(struct.unpack_from("<QQQ", self.m, self.dictionary + 16))

    def entry(self, ref):
        n, i = varint(self.m[ref:ref + 10], 0)
        return bytes(self.m[ref + i:ref + i + n])

    def string(self, ref):
        return self.entry(ref).decode() if ref else ""

    def anyvalue(self, b):
        for n, v in fields(b):
            if n == 1:
                return v.decode()
            if n == 2:
                return bool(v)
            if n == 3:
                return i64(v)
            if n == 4:
                return f64(v)
            if n == 5:
                return [self.anyvalue(x) for x in get_all(v, 1)]
            if n == 7:
                return v
        return None

    def attrs(self, b, num):
        out = {}
        for kv in get_all(b, num):
            out[self.string(get(kv, 1, 0))] = self.anyvalue(get(kv, 2, b""))
        return out

    def scope(self, ref):
        e = self.entry(ref)
        res = self.entry(get(e, 5))
        return {"name": self.string(get(e, 1, 0)), "version": self.string(get(e, 2, 0)),
                "resource": self.attrs(res, 1)}

    def metric(self, ref):
        e = self.entry(ref)
        d = {"name": get(e, 1, b"").decode(), "description": get(e, 2, b"").decode(),
             "unit": get(e, 3, b"").decode(), "scope_ref": get(e, 4, 0)}
        if get(e, 5) is not None:
            d["type"] = "gauge"
        elif get(e, 6) is not None:
            s = get(e, 6)
            d.update(type="sum", temporality=get(s, 2, 0), monotonic=bool(get(s, 3, 0)))
        elif get(e, 7) is not None:
            h = get(e, 7)
            raw = get(h, 2, b"")
            d.update(type="histogram", temporality=get(h, 1, 0),
                     bounds=list(struct.unpack("<%dd" % (len(raw) // 8), raw)))
        return d

    def spans_assembled(self):
        """Span records assembled into dicts keyed by (trace_id, span_id)."""
        spans = {}
        for rec in self.ring(1):
            key = (get(rec, 1), get(rec, 2))
            st = get(rec, 11)
            if st is not None:
                spans[key] = {"trace_id": key[0].hex(), "span_id": key[1].hex(),
                              "parent_span_id": (get(st, 4) or b"").hex(),
                              "name": get(st, 5, b"").decode(), "kind": get(st, 6, 0),
                              "start": get(st, 7, 0), "flags": get(st, 16, 0),
                              "attributes": self.attrs(st, 9), "links": [], "end": None,
                              "status": {"code": 0, "message": ""}, "scope_ref": get(rec, 20)}
                continue
            sp = spans.get(key)
            if sp is None:
                continue
            if get(rec, 14) is not None:
                sp["attributes"].update(self.attrs(get(rec, 14), 9))
            elif get(rec, 13) is not None:
                sp["name"] = get(get(rec, 13), 5, b"").decode()
            elif get(rec, 15) is not None:
                for l in get_all(get(rec, 15), 13):
                    sp["links"].append({"trace_id": get(l, 1).hex(), "span_id": get(l, 2).hex(),
                                        "attributes": self.attrs(l, 4)})
            elif get(rec, 12) is not None:
                e = get(rec, 12)
                sp["end"] = get(e, 8, 0)
                st = get(e, 15)
                if st is not None:
                    sp["status"] = {"code": get(st, 3, 0),
                                    "message": get(st, 2, b"").decode()}
        return spans

    def events(self):
        out = []
        for rec in self.ring(0):
            ctx = get(rec, 7)
            body = get(rec, 5)
            out.append({"scope_ref": get(rec, 1, 0), "time_unix_nano": get(rec, 2, 0),
                        "severity_number": get(rec, 3, 0),
                        "severity_text": get(rec, 4, b"").decode(),
                        "body": self.anyvalue(body) if body is not None else None,
                        "event_name": self.string(get(rec, 6, 0)),
                        "span_id": (get(ctx, 1) or b"").hex() if ctx else "",
                        "trace_id": (get(ctx, 2) or b"").hex() if ctx else "",
                        "attributes": self.attrs(rec, 8)})
        return out

    def measurements(self):
        out = []
        for rec in self.ring(2):
            v = get(rec, 4)
            out.append({"metric": self.metric(get(rec, 1)), "time": get(rec, 3, 0),
                        "value": i64(v) if v is not None else f64(get(rec, 5)),
                        "attributes": self.attrs(rec, 2)})
        return out

    def cells(self):
        if not self.agg:
            return []
        magic, n, size, used, refused = struct.unpack_from("<QqqqQ", self.m, self.agg)
        out = []
        for i in range(min(used, n)):
            c = self.agg + 64 + i * size
            state, kind, metric, attrs, start, value, count = struct.unpack_from(
                "<IIqqQQQ", self.m, c)
            if state != 2:
                continue
            cell = {"kind": kind, "metric": self.metric(metric),
                    "attributes": self.attrs(self.entry(attrs), 1) if attrs else {},
                    "count": count}
            cell["value"] = f64(value) if kind in (2, 4, 5) else i64(value)
            if kind == 5:
                nb = struct.unpack_from("<I", self.m, c + 72)[0]
                cell["buckets"] = list(struct.unpack_from("<%dQ" % nb, self.m, c + 80))
                cell["min"] = f64(struct.unpack_from("<Q", self.m, c + 48)[0])
                cell["max"] = f64(struct.unpack_from("<Q", self.m, c + 56)[0])
            out.append(cell)
        return out
