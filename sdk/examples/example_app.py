#!/usr/bin/env python3
"""example_app.py: writes spans, logs and metrics into an otlp-mmap file with the otmm Python
binding and prints a JSON description of what it wrote (ids, names, attributes, values).

usage: example_app.py PATH [--count N] [--aggregate]
Per iteration i: a SERVER span "GET /items/{i%3}" (attributes http.request.method, http.route,
iteration, sampled) with a CLIENT child "SELECT items" (db.system, db.rows; a span event
"cache.lookup"; a link to the previous request), status ERROR with "upstream timeout" when
i%5 == 4, a log "request handled" correlated with the request span, counter example.requests +1,
histogram example.duration (ms, bounds 1 5 10 50 100), gauge example.queue_depth = i, and the
observable counter example.iterations observed once at the end (total = N).
Needs OTMM_LIBRARY (or a build directory next to the sources) and sdk/python on PYTHONPATH.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import otmm  # noqa: E402


def main(argv):
    path, count, aggregate = None, 10, False
    args = list(argv[1:])
    while args:
        a = args.pop(0)
        if a == "--count" and args:
            count = int(args.pop(0))
        elif a == "--aggregate":
            aggregate = True
        elif path is None and not a.startswith("-"):
            path = a
        else:
            path = None
            break
    if path is None or count < 0:
        print("usage: example_app.py PATH [--count N] [--aggregate]", file=sys.stderr)
        return 2
    slots = 1024
    while slots < count * 8 + 16 and slots < (1 << 20):
        slots <<= 1
    resource = {"service.name": "example-app-py", "service.version": "1.0.0"}
    out = {"file": path, "format": otmm.FORMAT_AGGREGATED if aggregate else otmm.FORMAT_V1,
           "resource": resource, "scope": {"name": "otmm.example.py", "version": "1.0.0"},
           "spans": [], "logs": [], "metrics": []}
    with otmm.File(path, resource=resource, aggregate=aggregate, ring_slots=slots) as f:
        tracer = f.tracer("otmm.example.py", "1.0.0")
        logger = f.logger("otmm.example.py", "1.0.0")
        meter = f.meter("otmm.example.py", "1.0.0")
        requests = meter.create_counter("example.requests", "1", "requests served")
        bounds = [1, 5, 10, 50, 100]
        duration = meter.create_histogram("example.duration", "ms", "request duration", bounds)
        depth = meter.create_gauge("example.queue_depth", "1", "queued requests", int)
        done = [0]
        meter.create_observable_counter("example.iterations", [lambda: [otmm.Observation(
            done[0], {"worker": "main"})]], "1", "iterations completed")
        prev = None
        per_route, buckets, dsum = [0, 0, 0], [0] * 6, 0.0
        for i in range(count):
            route = f"/items/{i % 3}"
            attrs = {"http.request.method": "GET", "http.route": route, "iteration": i,
                     "sampled": True}
            t0 = otmm.now()
            req = tracer.start_span(f"GET {route}", otmm.SpanKind.SERVER, attributes=attrs,
                                    start_time=t0)
            links = [prev] if prev is not None else None
            db = tracer.start_span("SELECT items", otmm.SpanKind.CLIENT, parent=req,
                                   attributes={"db.system": "sqlite", "db.rows": i * 10},
                                   links=links, start_time=t0 + 1000)
            db.add_event("cache.lookup", {"cache.hit": i % 2 == 0}, timestamp=t0 + 1500)
            db.end(t0 + 2000)
            error = i % 5 == 4
            if error:
                req.set_status(otmm.StatusCode.ERROR, "upstream timeout")
            req.end(t0 + 5000)
            rc, dc = req.context, db.context
            out["spans"].append({
                "trace_id": rc.trace_id_hex, "span_id": rc.span_id_hex, "parent_span_id": "",
                "name": f"GET {route}", "kind": 2, "start_time_unix_nano": t0,
                "end_time_unix_nano": t0 + 5000, "attributes": attrs, "links": [],
                "status": {"code": 2 if error else 0,
                           "message": "upstream timeout" if error else ""}})
            out["spans"].append({
                "trace_id": dc.trace_id_hex, "span_id": dc.span_id_hex,
                "parent_span_id": rc.span_id_hex, "name": "SELECT items", "kind": 3,
                "start_time_unix_nano": t0 + 1000, "end_time_unix_nano": t0 + 2000,
                "attributes": {"db.system": "sqlite", "db.rows": i * 10},
                "links": [{"trace_id": prev.trace_id_hex, "span_id": prev.span_id_hex}]
                if prev else [], "status": {"code": 0, "message": ""}})
            prev = rc
            sev, text = (17, "ERROR") if error else (9, "INFO")
            logger.emit("request handled", sev, text, {"http.route": route}, span=req,
                        timestamp=t0 + 3000)
            out["logs"].append({"time_unix_nano": t0 + 1500, "event_name": "cache.lookup",
                                "severity_number": 0, "trace_id": dc.trace_id_hex,
                                "span_id": dc.span_id_hex,
                                "attributes": {"cache.hit": i % 2 == 0}})
            out["logs"].append({"time_unix_nano": t0 + 3000, "severity_number": sev,
                                "severity_text": text, "body": "request handled",
                                "trace_id": rc.trace_id_hex, "span_id": rc.span_id_hex,
                                "attributes": {"http.route": route}})
            ms = (i % 7) * 3.5
            requests.add(1, {"http.route": route})
            duration.record(ms, {"http.route": route})
            depth.set(i)
            per_route[i % 3] += 1
            dsum += ms
            buckets[next((k for k, b in enumerate(bounds) if ms <= b), 5)] += 1
            done[0] += 1
        f.collect()
        out["metrics"] = [
            {"name": "example.requests", "type": "counter", "unit": "1",
             "points": [{"attributes": {"http.route": f"/items/{k}"}, "sum": per_route[k]}
                        for k in range(min(3, count))]},
            {"name": "example.duration", "type": "histogram", "unit": "ms", "bounds": bounds,
             "total": {"count": count, "sum": dsum, "bucket_counts": buckets}},
            {"name": "example.queue_depth", "type": "gauge", "unit": "1",
             "points": [{"attributes": {}, "value": max(count - 1, 0)}]},
            {"name": "example.iterations", "type": "observable_counter", "unit": "1",
             "points": [{"attributes": {"worker": "main"}, "sum": count}]},
        ]
        st = f.stats()
        out["dropped"] = st["dropped"]
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
