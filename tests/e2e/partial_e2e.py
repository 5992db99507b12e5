#!/usr/bin/env python3
"""End-to-end scenarios of the partial exporter and receiver (real otflow
processes, real PostgreSQL from tests/e2e/pg_harness.sh, OTLP/HTTP with
JSON bodies; the sdk scenario runs examples/partial.yaml and sends
SDK-shaped heartbeats over OTLP/HTTP (protobuf) and OTLP/gRPC (curl, h2c)).
Called by tests/sh/partial_e2e.sh with OTF_BIN, PG_DSN and, for the restart
scenario, PG_DIR/PG_BINDIR/PG_PORT in the environment.

usage: partial_e2e.py basic|exactly_once|db_restart|sdk|schema WORKDIR
Prints one line per failed check and "N passed, M failed"; exit 1 on failure.
"""
import atexit
import base64
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import free_port as ports  # noqa: E402 (reserved test ports, tests/e2e/free_port.py)

BIN = os.environ["OTF_BIN"]
DSN = os.environ["PG_DSN"]
HERE = os.path.dirname(os.path.abspath(__file__))
passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, flush=True)
    return cond


def free_port():
    """A port reserved for this process until it exits (free_port.py)."""
    return ports.pick()


def sql(q):
    out = subprocess.run(["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", DSN,
                          "-c", q], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError("psql: " + out.stderr)
    return [l.split("|") for l in out.stdout.splitlines() if l]


def harness(fn):
    subprocess.run(["sh", "-c", ". %s/pg_harness.sh; %s" % (HERE, fn)], check=True)


def kv(k, v):
    if isinstance(v, bool):
        return {"key": k, "value": {"boolValue": v}}
    if isinstance(v, int):
        return {"key": k, "value": {"intValue": str(v)}}
    return {"key": k, "value": {"stringValue": v}}


def attrs(lst):
    out = {}
    for a in lst or []:
        v = a["value"]
        out[a["key"]] = list(v.values())[0] if v else None
    return out


class Span:
    def __init__(self, name):
        self.name = name
        self.trace_id = "%032x" % random.getrandbits(128)
        self.span_id = "%016x" % random.getrandbits(64)
        self.start = time.time_ns()

    def traces(self):
        return {"resourceSpans": [{
            "resource": {"attributes": [kv("service.name", "spansvc")]},
            "scopeSpans": [{
                "scope": {"name": "partial-test", "version": "1"},
                "spans": [{
                    "traceId": self.trace_id, "spanId": self.span_id, "name": self.name,
                    "kind": 1, "startTimeUnixNano": str(self.start),
                    "attributes": [kv("job.id", "span-wins"), kv("n", 7)],
                }]}]}]}


def proto_b64(obj):
    r = subprocess.run([BIN, "pdata", "convert", "--to", "proto"], input=json.dumps(obj).encode(),
                       capture_output=True, check=True)
    return base64.b64encode(r.stdout).decode()


def record(span, event, freq="10s", body="json", t=None, extra=None):
    a = [kv("partial.event", event), kv("extra.attr", "from-log"), kv("job.id", "log-loses")]
    if freq is not None and event == "heartbeat":
        a.append(kv("partial.frequency", freq))
    rec = {"timeUnixNano": str(t or time.time_ns()), "severityNumber": 9,
           "severityText": "INFO", "traceId": span.trace_id, "spanId": span.span_id}
    if body == "json":
        a.append(kv("partial.body.type", "json/v1"))
        rec["body"] = {"stringValue": json.dumps(span.traces())}
    elif body == "proto":
        rec["body"] = {"stringValue": proto_b64(span.traces())}
    elif body == "bytes":
        a.append(kv("partial.body.type", "proto"))
        rec["body"] = {"bytesValue": proto_b64(span.traces())}
    elif body is not None:
        rec["body"] = {"stringValue": body}
    rec["attributes"] = a + (extra or [])
    return rec


def post(port, records, expect=200):
    req = {"resourceLogs": [{
        "resource": {"attributes": [kv("service.name", "logsvc"), kv("host.name", "h1"),
                                    kv("partial.secret", "no")]},
        "scopeLogs": [{"scope": {"name": "partial"}, "logRecords": records}]}]}
    r = urllib.request.Request("http://127.0.0.1:%d/v1/logs" % port,
                               data=json.dumps(req).encode(),
                               headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(r, timeout=15) as resp:
            code = resp.status
    except urllib.error.HTTPError as e:
        code = e.code
    except (urllib.error.URLError, ConnectionError):
        code = -1
    if expect is not None:
        check(code == expect, "POST /v1/logs answered %s, expected %s" % (code, expect))
    return code


class Exited(Exception):
    """otflow exited before it listened (most often: a port taken)."""


def wait_port(port, proc, log, timeout=30):
    """Until port accepts, 30 s at most (ASan on a loaded machine);
    Exited when the process ends first."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise Exited(open(log).read())
            time.sleep(0.05)
    print(open(log).read())
    raise SystemExit("otflow did not listen on %d within %d s" % (port, timeout))


def start(work, name, nports, make):
    """An Otflow with make(*ports) as its keyword arguments, on nports
    fresh ports, listening on all of them. One that exits first (a port
    taken since it was chosen) is started again on other ports: 3 attempts.
    Returns (otflow, ports)."""
    for attempt in range(3):
        ps = [free_port() for _ in range(nports)]
        o = Otflow(work, name, **make(*ps))
        try:
            for p in ps:
                wait_port(p, o.proc, o.log)
            return o, ps
        except Exited as e:
            print("otflow %s exited while starting (attempt %d, ports %s):\n%s"
                  % (name, attempt + 1, ps, e), flush=True)
    raise SystemExit("otflow %s did not start" % name)


RUNNING = []


def kill_all():
    for p in RUNNING:
        if p.poll() is None:
            p.kill()


class Otflow:
    def __init__(self, work, name, yaml=None, port=None, cfg=None, env=None, extra=None):
        self.cfg = cfg or os.path.join(work, name + ".yaml")
        self.log = os.path.join(work, name + ".log")
        if not cfg:
            with open(self.cfg, "w") as f:
                f.write(yaml)
        args = [BIN, "--config", self.cfg]
        if extra:  # a second config merged over the first
            path = os.path.join(work, name + "-extra.yaml")
            with open(path, "w") as f:
                f.write(extra)
            args += ["--config", path]
        self.proc = subprocess.Popen(args, stdout=open(self.log, "w"),
                                     stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **(env or {})))
        RUNNING.append(self.proc)
        if port:
            wait_port(port, self.proc, self.log)

    def stop(self):
        self.proc.terminate()
        rc = self.proc.wait(timeout=30)
        check(rc == 0, "otflow %s exited %s on SIGTERM" % (self.cfg, rc))


def read_spans(path):
    spans = []
    if not os.path.exists(path):
        return spans
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            for rs in json.loads(line).get("resourceSpans", []):
                for ss in rs.get("scopeSpans", []):
                    for sp in ss.get("spans", []):
                        spans.append((rs, ss, sp))
    return spans


def wait_for(pred, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def yaml_full(port, out, workers=2, extra_rcv="", extra_exp="", tombstone_ttl="1s"):
    return """
runtime: {workers: %d}
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:%d"}}
    wait_for_result: true
  partial:
    postgres: "%s"
    gc_interval: 200ms
    jitter: 50ms
%s
exporters:
  partial:
    postgres: "%s"
    expiry_factor: 3
    tombstone_ttl: %s
%s
  file:
    path: %s
    flush_interval: 50ms
service:
  admin: {endpoint: ""}
  telemetry: {logs: {level: info}, metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], exporters: [partial]}
    traces: {receivers: [partial], exporters: [file]}
""" % (workers, port, DSN, extra_rcv, DSN, tombstone_ttl, extra_exp, out)


def row(span):
    r = sql("SELECT stopped_at IS NOT NULL, length(trace), seen_unix_nano, version, "
            "expires_at > now() FROM partial_traces WHERE trace_id = '%s' AND span_id = '%s'"
            % (span.trace_id, span.span_id))
    return r[0] if r else None


def scenario_basic(work):
    out = os.path.join(work, "basic.jsonl")
    # Tombstones live 20 s: the checks on B's tombstone below must see it
    # even when a loaded machine takes seconds between its stop and them
    # (with 1 s it was purged first and the late heartbeat made a new row;
    # under ASan at a load of 20 on 2 cores, 6 s were not enough either).
    o, (port,) = start(work, "basic", 1,
                       lambda p: {"yaml": yaml_full(p, out, tombstone_ttl="20s")})
    A, B, C, D, E, F = (Span(n) for n in "ABCDEF")
    t_a = time.time_ns()
    # JSON body (A, B, C), base64 protobuf string body (D), raw protobuf bytes body (F).
    # D and F expire 9 s after this (long enough for the checks below on a
    # loaded machine); the others live 30 s unless refreshed or stopped.
    post(port, [record(A, "heartbeat", t=t_a), record(B, "heartbeat"), record(C, "heartbeat"),
                record(D, "heartbeat", freq="3s", body="proto"),
                record(F, "heartbeat", freq="3s", body="bytes")])
    n = sql("SELECT count(*) FROM partial_traces")[0][0]
    check(n == "5", "5 rows after 5 heartbeats (wait_for_result means committed), got " + n)
    for s in (A, B, C, D, F):
        r = row(s)
        check(r and r[0] == "f" and int(r[1]) > 0 and r[4] == "t",
              "live row with a snapshot and a future expiry for %s: %s" % (s.name, r))
    check(row(A)[2] == str(t_a), "seen_unix_nano is the log record's time")
    # Records that must be skipped without failing the request, and one bad
    # body that must not stop the good record after it (E).
    post(port, [record(E, "start"), record(E, "heartbeat", freq=None),
                record(E, "heartbeat", freq="0s"), record(E, "heartbeat", freq="-5s"),
                record(E, "heartbeat", body="not base64 !!!"),
                record(E, "heartbeat", body="{json", extra=[kv("partial.body.type", "json/v1")]),
                record(E, "heartbeat", extra=[kv("partial.body.type", "json")]),
                record(E, "heartbeat", freq="100000")])
    r = row(E)
    check(r is not None and r[0] == "f", "good record after bad ones stored: %s" % (r,))
    # stop by body (B) and by the record's own ids with no body (C)
    post(port, [record(B, "stop"), record(C, "stop", body=None)])
    check(row(B)[0] == "t" and row(B)[1] == "0", "B is a tombstone: %s" % (row(B),))
    check(row(C)[0] == "t", "C is a tombstone (ids from the log record): %s" % (row(C),))
    # heartbeat after stop (reordering): ignored
    post(port, [record(B, "heartbeat")])
    check(row(B)[0] == "t" and row(B)[1] == "0", "heartbeat after stop ignored: %s" % (row(B),))
    # an older heartbeat never overwrites a newer snapshot
    v = row(A)[3]
    post(port, [record(A, "heartbeat", freq="300ms", t=t_a - 10**9)])
    check(row(A)[2] == str(t_a) and row(A)[3] == v, "older heartbeat ignored: %s" % (row(A),))
    # stop + heartbeat of one span in one request: the stop wins
    post(port, [record(E, "stop"), record(E, "heartbeat")])
    check(row(E)[0] == "t", "stop wins within one request: %s" % (row(E),))
    # keep A alive (expiry 15 s, refreshed every 0.2 s: under ASan at a
    # load of 20 on 2 cores one heartbeat's answer took over 6 s) until D
    # and F are emitted (30 s at most)
    last_a = t_a
    end = time.time() + 30
    while time.time() < end:
        last_a = time.time_ns()
        post(port, [record(A, "heartbeat", freq="5s", t=last_a)])
        if len(read_spans(out)) >= 2:
            break
        time.sleep(0.2)
    names = [sp["name"] for _, _, sp in read_spans(out)]
    check(sorted(names) == ["D", "F"], "only D and F emitted while A is alive: %s" % names)
    check(wait_for(lambda: len(read_spans(out)) >= 3, 40), "A emitted once its heartbeats stop")
    time.sleep(1.5)  # more cycles: nothing may be emitted twice
    spans = read_spans(out)
    names = sorted(sp["name"] for _, _, sp in spans)
    check(names == ["A", "D", "F"], "emitted exactly A, D, F once each: %s" % names)
    for rs, ss, sp in spans:
        ra, sa = attrs(rs["resource"]["attributes"]), attrs(sp.get("attributes"))
        s = {"A": A, "D": D, "F": F}[sp["name"]]
        check(sp["traceId"] == s.trace_id and sp["spanId"] == s.span_id, "ids of " + s.name)
        check(sa.get("partial.gc") is True, "partial.gc=true on %s: %s" % (s.name, sa))
        check(sa.get("job.id") == "span-wins", "span attribute wins over log attribute")
        check(sa.get("extra.attr") == "from-log", "log record attribute merged into span")
        check(sa.get("n") == "7", "span int attribute kept: %s" % sa)
        check(not [k for k in sa if k.startswith("partial.") and k != "partial.gc"],
              "no partial.* log attributes on the span: %s" % sa)
        check(ra.get("service.name") == "spansvc", "trace resource wins: %s" % ra)
        check(ra.get("host.name") == "h1", "log resource attribute merged: %s" % ra)
        check("partial.secret" not in ra, "partial.* resource attribute not merged")
        check(ss["scope"]["name"] == "partial-test", "scope kept")
        check(sp["startTimeUnixNano"] == str(s.start), "start time kept")
        end_t = int(sp["endTimeUnixNano"])
        if s is A:
            check(end_t == last_a, "A ends at its last heartbeat (%d vs %d)" % (end_t, last_a))
        else:
            check(end_t > s.start, "end after start for " + s.name)
    # rows of emitted spans are gone; tombstones purged after tombstone_ttl (20 s)
    check(wait_for(lambda: sql("SELECT count(*) FROM partial_traces")[0][0] == "0", 45),
          "table empty after emission and tombstone purge: %s" % sql(
              "SELECT span_id, stopped_at IS NOT NULL FROM partial_traces"))
    o.stop()


def scenario_exactly_once(work):
    """Several receiver processes (2 workers each) race for the same expired
    rows: every span comes out exactly once."""
    N = 10000
    exp, (port,) = start(work, "writer", 1, lambda port: {"yaml": """
runtime: {workers: 2}
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:%d"}}
    wait_for_result: true
exporters:
  partial: {postgres: "%s", expiry_factor: 3}
service:
  admin: {endpoint: ""}
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], exporters: [partial]}
""" % (port, DSN)})
    spans = [Span("s%d" % i) for i in range(N)]
    for i in range(0, N, 500):
        post(port, [record(s, "heartbeat", freq="1h") for s in spans[i:i + 500]])
    exp.stop()
    check(sql("SELECT count(*) FROM partial_traces")[0][0] == str(N), "%d rows stored" % N)
    outs, procs = [], []
    for k in range(3):
        out = os.path.join(work, "eo%d.jsonl" % k)
        outs.append(out)
        procs.append(Otflow(work, "rcv%d" % k, """
runtime: {workers: 2}
receivers:
  partial: {postgres: "%s", gc_interval: 50ms, jitter: 20ms, batch_size: 100}
exporters:
  file: {path: %s, flush_interval: 50ms}
service:
  admin: {endpoint: ""}
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [partial], exporters: [file]}
""" % (DSN, out)))
    time.sleep(1.0)
    check(sum(len(read_spans(o)) for o in outs) == 0, "nothing emitted before expiry")
    sql("UPDATE partial_traces SET expires_at = now()")
    check(wait_for(lambda: sql("SELECT count(*) FROM partial_traces")[0][0] == "0", 60),
          "every row emitted and deleted")
    time.sleep(0.5)
    for p in procs:
        p.stop()
    seen = {}
    per_proc = []
    for o in outs:
        got = read_spans(o)
        per_proc.append(len(got))
        for _, _, sp in got:
            seen[sp["spanId"]] = seen.get(sp["spanId"], 0) + 1
    dups = [k for k, v in seen.items() if v != 1]
    check(len(seen) == N, "all %d spans emitted (got %d)" % (N, len(seen)))
    check(not dups, "%d span(s) emitted more than once" % len(dups))
    check(sum(1 for c in per_proc if c > 0) >= 2,
          "the work was shared by several receivers: %s" % per_proc)
    print("exactly_once: spans per receiver process", per_proc, flush=True)


def scenario_db_restart(work):
    out = os.path.join(work, "restart.jsonl")
    o, (port,) = start(work, "restart", 1, lambda p: {
        "yaml": yaml_full(p, out, workers=1, extra_exp="    timeout: 2s")})
    A, B = Span("A"), Span("B")
    # 1 s heartbeats, 3 s expiry: A's row must still be there when checked
    # (200 ms, a 600 ms expiry, was too short for a loaded machine under ASan).
    post(port, [record(A, "heartbeat", freq="1s")])
    check(row(A) is not None, "row stored before the restart")
    harness("pg_server_stop")
    code = post(port, [record(B, "heartbeat", freq="1s")], expect=None)
    check(code == 503, "database down: heartbeat answered 503 (retryable), got %s" % code)
    # A expires meanwhile; the receiver's cycles fail and retry
    time.sleep(3.0)
    harness("pg_server_start")
    ok = wait_for(lambda: post(port, [record(B, "heartbeat", freq="1s")], expect=None) == 200,
                  15)
    check(ok, "the exporter reconnects after the restart")
    check(wait_for(lambda: sorted(sp["name"] for _, _, sp in read_spans(out)) == ["A", "B"],
                   30), "A and B emitted after the restart: %s" % [
        sp["name"] for _, _, sp in read_spans(out)])
    o.stop()
    log = open(o.log).read()
    check("unavailable" in log, "the outage was logged")


def py_heartbeat(trace_id, span_id, name, start, event="heartbeat", freq_ms=300):
    """A log record as otel-partial-python builds it: camelCase OTLP/JSON
    TracesData body (MessageToJson: enum names, int64 as strings, lowercase
    hex ids), partial.* attributes, severity INFO, the span's context."""
    span = {"traceId": trace_id, "spanId": span_id, "parentSpanId": "",
            "name": name, "kind": "SPAN_KIND_INTERNAL", "startTimeUnixNano": str(start),
            "attributes": [kv("rows.done", 42), kv("job.kind", "export")],
            "status": {}, "flags": 256}
    body = {"resourceSpans": [{"resource": {"attributes": [kv("service.name", "py-job")]},
                               "scopeSpans": [{"scope": {"name": "jobs"}, "spans": [span]}]}]}
    a = [kv("partial.event", event), kv("partial.body.type", "json/v1")]
    if event == "heartbeat":
        a.insert(1, kv("partial.frequency", "%dms" % freq_ms))
    return {"timeUnixNano": str(time.time_ns()), "observedTimeUnixNano": str(time.time_ns()),
            "severityNumber": 9, "severityText": "INFO", "traceId": trace_id,
            "spanId": span_id, "flags": 1, "body": {"stringValue": json.dumps(body)},
            "attributes": a}


def dotnet_heartbeat(trace_id, span_id, name, start, freq_ms=300):
    """A log record as otel-partial-dotnet builds it: hand-written snake_case
    JSON body, trace_state filled with the activity status, every tag
    stringified; attributes from the ILogger scope; severity Info."""
    span = {"trace_id": trace_id, "span_id": span_id, "trace_state": "Unset",
            "parent_span_id": "", "name": name, "kind": 1,
            "start_time_unix_nano": start,
            "attributes": [{"key": "rows.done", "value": {"string_value": "42"}}]}
    body = {"resource_spans": [{
        "resource": {"attributes": [{"key": "service.name",
                                     "value": {"string_value": "dotnet-job"}}]},
        "scope_spans": [{"scope": {"name": "Jobs"}, "spans": [span]}]}]}
    return {"timeUnixNano": str(time.time_ns()), "severityNumber": 9,
            "severityText": "Information", "traceId": trace_id, "spanId": span_id,
            "body": {"stringValue": json.dumps(body)},
            "attributes": [kv("partial.event", "heartbeat"),
                           kv("partial.frequency", "%dms" % freq_ms),
                           kv("partial.body.type", "json/v1")]}


def logs_proto(records, service):
    req = {"resourceLogs": [{"resource": {"attributes": [kv("service.name", service),
                                                         kv("host.name", "sdk-host")]},
                             "scopeLogs": [{"scope": {"name": "partial"},
                                            "logRecords": records}]}]}
    r = subprocess.run([BIN, "pdata", "convert", "--to", "proto"],
                       input=json.dumps(req).encode(), capture_output=True, check=True)
    return r.stdout


def send_http_proto(port, body):
    r = urllib.request.Request("http://127.0.0.1:%d/v1/logs" % port, data=body,
                               headers={"Content-Type": "application/x-protobuf"})
    try:
        with urllib.request.urlopen(r, timeout=15) as resp:
            return resp.status == 200
    except (urllib.error.URLError, ConnectionError):
        return False


def send_grpc(work, port, body):
    """One unary LogsService/Export call over h2c with curl: a
    length-prefixed (uncompressed) message; success is grpc-status 0 in the
    trailers (curl writes trailers with the headers)."""
    f = os.path.join(work, "grpc.bin")
    h = os.path.join(work, "grpc.hdr")
    with open(f, "wb") as o:
        o.write(b"\0" + len(body).to_bytes(4, "big") + body)
    r = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-m", "15",
                        "-H", "content-type: application/grpc", "-H", "te: trailers",
                        "--data-binary", "@" + f, "-D", h, "-o", os.devnull,
                        "http://127.0.0.1:%d/opentelemetry.proto.collector.logs.v1."
                        "LogsService/Export" % port], capture_output=True, text=True)
    hdr = open(h).read().lower() if os.path.exists(h) else ""
    ok = r.returncode == 0 and "grpc-status: 0" in hdr
    if not ok:
        print("grpc call: rc %d %s %s" % (r.returncode, r.stderr, hdr), flush=True)
    return ok


def scenario_sdk(work):
    """examples/partial.yaml as shipped, fed SDK-shaped heartbeat and stop
    logs over OTLP/HTTP (protobuf, as the Python OTLP exporter sends) and
    OTLP/gRPC (as the .NET default): the same outcome on both transports."""
    out = os.path.join(work, "sdk.jsonl")
    o, (hport, gport) = start(work, "sdk", 2, lambda hport, gport: dict(
        cfg=os.path.join(HERE, "..", "..", "examples", "partial.yaml"),
        env={"OTFLOW_HTTP_ENDPOINT": "127.0.0.1:%d" % hport,
             "OTFLOW_GRPC_ENDPOINT": "127.0.0.1:%d" % gport,
             "OTFLOW_PARTIAL_POSTGRES": DSN, "OTFLOW_FILE_PATH": out,
             "OTFLOW_PARTIAL_GC_INTERVAL": "200ms", "OTFLOW_PARTIAL_JITTER": "50ms"},
        # the shipped file serves self-metrics on :8888 and the admin API on
        # :8889, which another process on the machine may hold: not what
        # this test is about
        extra="service: {telemetry: {metrics: {level: none}}, admin: {endpoint: \"\"}}\n"))
    want = {}
    for tr in ("http", "grpc"):
        ids = lambda: ("%032x" % random.getrandbits(128), "%016x" % random.getrandbits(64))
        (pt, ps), (dt, ds), (st, ss) = ids(), ids(), ids()
        t0 = time.time_ns()
        # 2 s heartbeats (6 s expiry): the three calls of a transport must
        # all land before the first expiry even on a loaded machine or under
        # ASan, or the span that is stopped would already have been emitted.
        py = logs_proto([py_heartbeat(pt, ps, "py-" + tr, t0, freq_ms=2000),
                         py_heartbeat(st, ss, "stopped-" + tr, t0, freq_ms=2000)], "py-job")
        dn = logs_proto([dotnet_heartbeat(dt, ds, "dotnet-" + tr, t0, freq_ms=2000)],
                        "dotnet-job")
        stop = logs_proto([py_heartbeat(st, ss, "stopped-" + tr, t0, event="stop",
                                        freq_ms=2000)], "py-job")
        send = (lambda b: send_http_proto(hport, b)) if tr == "http" else \
            (lambda b: send_grpc(work, gport, b))
        for what, b in (("python heartbeats", py), (".NET heartbeat", dn), ("stop", stop)):
            check(send(b), "%s over %s acknowledged" % (what, tr))
        stored = sql("SELECT span_id, stopped_at IS NOT NULL FROM partial_traces "
                     "WHERE span_id IN ('%s','%s','%s') ORDER BY span_id" % (ps, ds, ss))
        check(sorted(map(tuple, stored)) == sorted([(ps, "f"), (ds, "f"), (ss, "t")]),
              "%s: two live rows and a tombstone once acknowledged: %s" % (tr, stored))
        want[ps] = (pt, "py-" + tr, t0, "py-job", {"rows.done": "42", "job.kind": "export"})
        want[ds] = (dt, "dotnet-" + tr, t0, "dotnet-job", {"rows.done": "42"})
    ok = wait_for(lambda: len(read_spans(out)) >= 4, 30)
    time.sleep(1.5)  # more cycles: nothing may come twice, the stopped spans never
    spans = read_spans(out)
    check(ok and len(spans) == 4, "4 spans emitted once each: %s" %
          [sp["name"] for _, _, sp in spans])
    for rs, ss_, sp in spans:
        w = want.get(sp["spanId"])
        if not check(w is not None, "emitted span %s was expected" % sp.get("name")):
            continue
        tid, name, t0, svc, sattrs = w
        a, ra = attrs(sp.get("attributes")), attrs(rs["resource"]["attributes"])
        check(sp["traceId"] == tid and sp["name"] == name, "ids and name of " + name)
        check(a.get("partial.gc") is True, "partial.gc=true on %s: %s" % (name, a))
        check(all(a.get(k) == v for k, v in sattrs.items()), "%s attributes: %s" % (name, a))
        check(ra.get("service.name") == svc and ra.get("host.name") == "sdk-host",
              "%s resource (span's wins, log's merged): %s" % (name, ra))
        check(sp["startTimeUnixNano"] == str(t0) and int(sp["endTimeUnixNano"]) > t0,
              "%s start kept, end at the last heartbeat" % name)
        check(not [k for k in a if k.startswith("partial.") and k != "partial.gc"],
              "no partial.* log attributes on %s" % name)
    o.stop()


def yaml_exporter(port, extra=""):
    return """
runtime: {workers: 2}
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:%d"}}
    wait_for_result: true
exporters:
  partial:
    postgres: "%s"
%s
service:
  admin: {endpoint: ""}
  telemetry: {logs: {level: info}, metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], exporters: [partial]}
""" % (port, DSN, extra)


def post_body(port, records):
    """post() returning (status, body) for the error-message checks."""
    req = {"resourceLogs": [{"resource": {"attributes": [kv("service.name", "logsvc")]},
                             "scopeLogs": [{"logRecords": records}]}]}
    r = urllib.request.Request("http://127.0.0.1:%d/v1/logs" % port,
                               data=json.dumps(req).encode(),
                               headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(r, timeout=15) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def drop_schema():
    sql("DROP TABLE IF EXISTS partial_traces; DROP TABLE IF EXISTS partial_traces_dead; "
        "DROP TABLE IF EXISTS otflow_partial_schema")


def tables():
    return [r[0] for r in sql("SELECT tablename FROM pg_tables WHERE tablename LIKE "
                              "'%partial%' ORDER BY 1")]


def row_or_error(span):
    try:
        return row(span)
    except RuntimeError as e:
        return str(e).strip()


def scenario_schema(work):
    """The exporter creates its schema at start (create_schema, default true)."""
    drop_schema()
    # Fresh database, no migrate: the first heartbeat is stored.
    o, (port,) = start(work, "autoschema", 1, lambda p: {"yaml": yaml_exporter(p)})
    B = Span("B")
    code, body = post_body(port, [record(B, "heartbeat")])
    check(code == 200, "fresh database: heartbeat answered %s %r" % (code, body))
    r = row_or_error(B)
    check(isinstance(r, list) and r[0] == "f" and int(r[1]) > 0, "fresh database: heartbeat row stored: %s" % r)
    check(sql("SELECT version FROM otflow_partial_schema") == [["3"]],
          "schema version 3 recorded")
    o.stop()
    # Two processes (two workers each) starting at once on an empty database.
    drop_schema()
    ports = [free_port(), free_port()]
    procs = [Otflow(work, "race%d" % i, yaml_exporter(p)) for i, p in enumerate(ports)]
    for i in range(2):
        try:
            wait_port(ports[i], procs[i].proc, procs[i].log)
        except Exited as e:  # a port taken since its choice: once more on another
            print("race%d exited while starting:\n%s" % (i, e), flush=True)
            procs[i], (ports[i],) = start(work, "race%d" % i, 1,
                                          lambda p: {"yaml": yaml_exporter(p)})
    spans = [Span("R%d" % i) for i in range(2)]
    results = [None, None]

    def send(i):
        results[i] = post_body(ports[i], [record(spans[i], "heartbeat")])


    ts = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for i in range(2):
        check(results[i] and results[i][0] == 200,
              "process %d starting beside another: %s" % (i, results[i]))
        r = row_or_error(spans[i])
        check(isinstance(r, list) and r[0] == "f", "process %d: row stored: %s" % (i, r))
    for o in procs:
        o.stop()
        log = open(o.log).read()
        check("cannot create the partial_traces schema" not in log,
              "no migration failure when starting together:\n" + log)

    # create_schema: false on an empty database: today's behaviour, a clear error, nothing created.
    drop_schema()
    o, (port,) = start(work, "noschema", 1,
                       lambda p: {"yaml": yaml_exporter(p, "    create_schema: false")})
    A = Span("A")
    code, body = post_body(port, [record(A, "heartbeat")])
    check(code != 200 and "partial_traces" in body and "does not exist" in body,
          "create_schema false, no table: refused naming the table, got %s %r" % (code, body))
    o.stop()
    log = open(o.log).read()
    check("otflow partial migrate" in log, "create_schema false: the log names the command:\n"
          + log)
    check(tables() == [], "create_schema false created tables: %s" % tables())


def main():
    atexit.register(ports.release)
    atexit.register(kill_all)
    random.seed()
    name, work = sys.argv[1], sys.argv[2]
    sql("DROP TABLE IF EXISTS partial_traces; DROP TABLE IF EXISTS otflow_partial_schema")
    subprocess.run([BIN, "partial", "migrate", "--postgres", DSN], check=True,
                   capture_output=True)
    {"basic": scenario_basic, "exactly_once": scenario_exactly_once,
     "db_restart": scenario_db_restart, "sdk": scenario_sdk,
     "schema": scenario_schema}[name](work)
    print("%s: %d passed, %d failed" % (name, passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
