#!/usr/bin/env python3
"""Helper of e2e_sampling.sh.

make-traces OUTDIR: writes the requests the test posts (OTLP/JSON).
make-logs FILE: 100 log records with the trace ids of the Collector's
  TestLogsSampling (8 zero bytes, then byte i eight times).
spans FILE: prints "traceid:spanid" of every span in a file exporter output,
  sorted; "-" when the file is missing.
logs FILE: prints the kept log records' index (time) and their sampling
  attributes, one per line.
ps-spans FILE / expect-ps OUTDIR: the spans probabilistic_sampler kept, with
  their tracestate, and those the Collector's hash_seed algorithm (recomputed
  here) keeps from r1..r3, with the ot=rv:..;th:8 it writes.
expect-logs: the indexes a 50% hash_seed (seed 0) sampler keeps, computed
  here from the Collector's algorithm (FNV-1a over the seed's 4 bytes and
  the trace id, 14-bit bucket < 8192), independently of otflow's C code.
"""
import json
import os
import sys


def span(tid, sid, name, start, end, code=0, attrs=None):
    s = {"traceId": tid, "spanId": sid, "name": name, "kind": 2,
         "startTimeUnixNano": str(start), "endTimeUnixNano": str(end),
         "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in (attrs or {}).items()]}
    if code:
        s["status"] = {"code": code, "message": "boom"}
    return s


def request(spans):
    return {"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "shop"}}]},
        "scopeSpans": [{"scope": {"name": "e2e"}, "spans": spans}]}]}


T0 = 1_700_000_000_000_000_000
ERR = "aa" * 16   # an ERROR span in the 2nd request: the whole trace is kept
SLOW = "bb" * 16  # 700 ms end to end: latency keeps it
FAST = "cc" * 16  # 10 ms, status OK: dropped
OTHER = "12" * 16  # fast too; and a trace id 50% hash_seed drops


def make_traces(outdir):
    reqs = {
        "r1": [span(ERR, "a1" * 8, "GET /cart", T0, T0 + 5_000_000, attrs={"step": "one"}),
               span(FAST, "c1" * 8, "GET /home", T0, T0 + 10_000_000, code=1),
               span(OTHER, "d1" * 8, "GET /about", T0, T0 + 10_000_000)],
        "r2": [span(ERR, "a2" * 8, "SELECT", T0 + 1_000_000, T0 + 2_000_000, code=2),
               span(SLOW, "b1" * 8, "POST /pay", T0, T0 + 200_000_000)],
        "r3": [span(SLOW, "b2" * 8, "charge", T0 + 100_000_000, T0 + 700_000_000)],
        # after the decisions: follow them
        "late": [span(ERR, "a3" * 8, "late", T0 + 3_000_000, T0 + 4_000_000),
                 span(FAST, "c2" * 8, "late", T0 + 3_000_000, T0 + 4_000_000)],
    }
    for k, v in reqs.items():
        with open(os.path.join(outdir, k + ".json"), "w") as f:
            json.dump(request(v), f)


def make_logs(path):
    recs = []
    for i in range(100):
        tid = "00" * 8 + ("%02x" % i) * 8
        recs.append({"timeUnixNano": str(i + 1), "severityNumber": 5, "traceId": tid,
                     "body": {"stringValue": "record %d" % i}})
    with open(path, "w") as f:
        json.dump({"resourceLogs": [{"resource": {}, "scopeLogs": [
            {"scope": {"name": "e2e"}, "logRecords": recs}]}]}, f)


def lines(path):
    if not os.path.exists(path):
        return None
    out = []
    with open(path) as f:
        for ln in f:
            ln = ln.strip()
            if ln:
                out.append(json.loads(ln))
    return out


def spans(path):
    docs = lines(path)
    if docs is None:
        print("-")
        return
    got = []
    for d in docs:
        for rs in d.get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                for s in ss.get("spans", []):
                    got.append("%s:%s" % (s["traceId"], s["spanId"]))
    print(" ".join(sorted(got)))


def span_detail(path, sid):
    """resource service.name, scope name, span name, status code and
    attributes of span sid, as the file holds them."""
    for d in lines(path) or []:
        for rs in d.get("resourceSpans", []):
            res = {a["key"]: a["value"].get("stringValue") for a in rs.get("resource", {}).get("attributes", [])}
            for ss in rs.get("scopeSpans", []):
                for s in ss.get("spans", []):
                    if s["spanId"] == sid:
                        attrs = ",".join("%s=%s" % (a["key"], a["value"].get("stringValue"))
                                         for a in s.get("attributes", []))
                        print(res.get("service.name"), ss.get("scope", {}).get("name"), s["name"],
                              s.get("status", {}).get("code", 0), s["startTimeUnixNano"],
                              s["endTimeUnixNano"], attrs)
                        return
    print("-")


def logs(path):
    docs = lines(path)
    if docs is None:
        print("-")
        return
    for d in docs:
        for rl in d.get("resourceLogs", []):
            for sl in rl.get("scopeLogs", []):
                for r in sl.get("logRecords", []):
                    a = {x["key"]: x["value"].get("stringValue") for x in r.get("attributes", [])}
                    print(int(r["timeUnixNano"]) - 1, r["traceId"], a.get("sampling.threshold"),
                          a.get("sampling.randomness"))


def fnv1a32(data):
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def rnd_from_bytes(b, seed=0):
    """randomnessFromBytes of sampler_mode.go: the r-value hash_seed writes."""
    h32 = fnv1a32(seed.to_bytes(4, "little") + b)
    hashed = h32 & 0x3FFF
    unused18 = h32 >> 14
    mixed28 = unused18 ^ (unused18 << 10)
    return ((0x3FFF - hashed) << 42) | (mixed28 << 14) | hashed


def ps_spans(path):
    """traceid:spanid:tracestate of every span, sorted."""
    docs = lines(path)
    if docs is None:
        print("-")
        return
    got = []
    for d in docs:
        for rs in d.get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                for s in ss.get("spans", []):
                    got.append("%s:%s:%s" % (s["traceId"], s["spanId"], s.get("traceState", "")))
    print(" ".join(sorted(got)))


def expect_ps(outdir):
    """The spans of r1..r3 a 50% hash_seed sampler keeps, with their tracestate."""
    want = []
    for k in ("r1", "r2", "r3"):
        with open(os.path.join(outdir, k + ".json")) as f:
            doc = json.load(f)
        for s in doc["resourceSpans"][0]["scopeSpans"][0]["spans"]:
            tid = bytes.fromhex(s["traceId"])
            if (fnv1a32(bytes(4) + tid) & 0x3FFF) < 8192:
                want.append("%s:%s:ot=rv:%014x;th:8" % (s["traceId"], s["spanId"], rnd_from_bytes(tid)))
    print(" ".join(sorted(want)))


def expect_logs():
    keep = []
    for i in range(1, 100):  # i == 0: empty trace id, no randomness, fails closed
        tid = bytes(8) + bytes([i]) * 8
        h = fnv1a32(bytes(4) + tid)
        if (h & 0x3FFF) < int(50 * 163.84):
            keep.append(i)
    print(" ".join(map(str, keep)))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "make-traces":
        make_traces(sys.argv[2])
    elif cmd == "make-logs":
        make_logs(sys.argv[2])
    elif cmd == "spans":
        spans(sys.argv[2])
    elif cmd == "logs":
        logs(sys.argv[2])
    elif cmd == "span":
        span_detail(sys.argv[2], sys.argv[3])
    elif cmd == "ps-spans":
        ps_spans(sys.argv[2])
    elif cmd == "expect-ps":
        expect_ps(sys.argv[2])
    elif cmd == "expect-logs":
        expect_logs()
