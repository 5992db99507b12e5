#!/usr/bin/env python3
"""Worker scaling runs for bench/suite-workers.sh (public tools only).

One run: otflow (OTLP/gRPC receiver -> nop exporter, runtime.workers W)
takes OTLP/gRPC logs (1000 records of ~310 B per request) from a client
on the same two cores, for a few seconds:
  many:   otflow-loadgen, 16 connections, one call at a time each;
  one:    h2load (nghttp2-client), 1 connection, BENCH_STREAMS (32)
          concurrent streams, not niced (BENCH_H2LOAD_NICE): at nice 19 it
          got too little of the shared cores to keep its connection's
          worker saturated, which is what this case is about;
  onelg:  otflow-loadgen, 1 connection, BENCH_STREAMS calls per wave
          (--streams), not niced either;
  onegz:  as onelg with gzip-compressed requests (--compression gzip).
Per-thread CPU comes from /proc/PID/task/TID/schedstat (ns on CPU), read
before and after the window. Printed per run: items acknowledged per
second, items per otflow CPU-second, and the busiest worker's CPU share:
a worker thread is one core's worth of work at most, so items divided by
the busiest worker's CPU time is the throughput the process reaches when
every worker has a core of its own (the loop that saturates first bounds
it), which the shared 2-core machine cannot show as wall-clock figures.

usage: workers_run.py OTFLOW LOADGEN MODE WORKERS SECONDS [ENV=VAL...]
prints one JSON line.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def kv(k, v):
    return field(1, k.encode()) + field(2, field(1, v.encode()))


def logs_request(n=1000):
    """ExportLogsServiceRequest: one resource, one scope, n records."""
    recs = bytearray()
    for i in range(n):
        r = bytearray()
        r += b"\x09" + struct.pack("<Q", 1700000000000000000 + i)  # time_unix_nano
        r += b"\x10" + varint(9)  # severity_number INFO
        r += field(3, b"INFO")
        r += field(5, field(1, ("GET /api/v1/items/%06d 200 in 12 ms from 10.0.0.%d" % (i, i % 250)).encode()))
        r += field(6, kv("http.request.method", "GET"))
        r += field(6, kv("url.path", "/api/v1/items/%06d" % i))
        r += field(6, kv("http.response.status_code", "200"))
        r += field(6, kv("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) bench"))
        r += field(6, kv("client.address", "10.0.0.%d" % (i % 250)))
        r += b"\x59" + struct.pack("<Q", i)  # observed_time_unix_nano (field 11)
        r += field(9, bytes(16))  # trace_id (all zero: valid length)
        r += field(10, bytes(8))  # span_id
        recs += field(2, bytes(r))
    scope = field(1, field(1, b"bench"))
    resource = field(1, field(1, kv("service.name", "bench")))
    return field(1, resource + field(2, scope + bytes(recs)))


def thread_cpu(pid):
    out = {}
    for tid in sorted(os.listdir("/proc/%d/task" % pid), key=int):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                out[int(tid)] = int(f.read().split()[0])
        except OSError:
            pass
    return out


def main():
    otflow, loadgen, mode, workers, secs = sys.argv[1:6]
    workers, secs = int(workers), float(secs)
    env = dict(os.environ)
    for a in sys.argv[6:]:
        k, v = a.split("=", 1)
        env[k] = v
    tmp = tempfile.mkdtemp()
    port = free_port()
    # MODE+transform: a transform processor (OTTL on every record: decode,
    # edit, encode) before the exporter, a pipeline with work per item.
    mode, _, proc = mode.partition("+")
    procs = ""
    chain = ""
    if proc == "transform":
        procs = ("processors:\n  transform:\n    log_statements:\n"
                 "      - set(log.attributes[\"tier\"], \"gold\")\n"
                 "      - replace_pattern(log.body, \"items/[0-9]+\", \"items/{id}\")\n")
        chain = ", processors: [transform]"
    cfg = os.path.join(tmp, "otflow.yaml")
    with open(cfg, "w") as f:
        f.write(
            "receivers:\n  otlp:\n    protocols:\n      grpc: {endpoint: \"127.0.0.1:%d\"}\n"
            "%sexporters:\n  nop:\nservice:\n  telemetry: {metrics: {level: none}}\n"
            "  pipelines:\n    logs: {receivers: [otlp]%s, exporters: [nop]}\n"
            "runtime: {workers: %d}\n" % (port, procs, chain, workers))
    log = open(os.path.join(tmp, "otflow.log"), "w")
    p = subprocess.Popen([otflow, "--config", cfg], stdout=log, stderr=log, env=env)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise SystemExit("otflow did not listen on %d" % port)
        # Workers are the threads after the main one, in creation order.
        c0 = thread_cpu(p.pid)
        t0 = time.monotonic()
        streams = os.environ.get("BENCH_STREAMS", "32")
        if mode in ("many", "onelg", "onegz"):
            conns = ["--connections", "16"] if mode == "many" else [
                "--connections", "1", "--streams", streams]
            if mode == "onegz":
                conns += ["--compression", "gzip"]
            nice = "19" if mode == "many" else os.environ.get("BENCH_H2LOAD_NICE", "0")
            out = subprocess.run(
                ["nice", "-n", nice, loadgen, "--endpoint", "127.0.0.1:%d" % port, "--signal",
                 "logs", "--duration", str(secs), "--batch", "1000"] + conns + ["--json"],
                capture_output=True, text=True).stdout
            r = json.loads(out)
            items = r["items_acked"]
            failed = r["items_failed"]
        else:
            body = os.path.join(tmp, "body.bin")
            msg = logs_request()
            # h2load counts HTTP statuses (200 even for a gRPC error):
            # the body must be a valid request, checked by otflow itself.
            with open(body + ".pb", "wb") as f:
                f.write(msg)
            subprocess.run([otflow, "pdata", "validate", "--signal", "logs", body + ".pb"],
                           check=True, capture_output=True)
            with open(body, "wb") as f:
                f.write(b"\x00" + struct.pack(">I", len(msg)) + msg)
            out = subprocess.run(
                ["nice", "-n", os.environ.get("BENCH_H2LOAD_NICE", "0"), "h2load", "-c1",
                 "-m" + streams, "-D", str(int(secs)), "-d", body,
                 "-H", "content-type: application/grpc", "-H", "te: trailers",
                 "http://127.0.0.1:%d/opentelemetry.proto.collector.logs.v1.LogsService/Export"
                 % port], capture_output=True, text=True).stdout
            ok = 0
            for line in out.splitlines():
                line = line.strip()
                if line.startswith("status codes:"):
                    ok = int(line.split()[2])  # "N 2xx"
            items = ok * 1000
            failed = 0
            for line in out.splitlines():
                if line.strip().startswith("requests:"):
                    parts = line.replace(",", "").split()
                    failed = int(parts[parts.index("failed") - 1]) * 1000
        wall = time.monotonic() - t0
        c1 = thread_cpu(p.pid)
    finally:
        p.terminate()
        p.wait()
    tids = sorted(c1, key=int)
    deltas = [(c1[t] - c0.get(t, 0)) / 1e9 for t in tids]
    worker_cpu = deltas[1:1 + workers]
    total = sum(deltas)
    busiest = max(worker_cpu) if worker_cpu else total
    print(json.dumps({
        "mode": mode + ("+" + proc if proc else ""), "workers": workers, "items": items, "failed": failed,
        "items_per_s": items / wall, "cpu_s": total,
        "items_per_cpu_s": items / total if total else 0,
        "worker_cpu_s": [round(x, 3) for x in worker_cpu],
        "capacity": items / busiest if busiest else 0,
    }))


if __name__ == "__main__":
    main()
