#!/usr/bin/env python3
"""Where a request's time goes (bench/suite-latency.sh, the traced run).

usage: latency_breakdown.py SYSCALLS.txt TIMEHIST.txt CLIENT.trace OTFLOW_PID SINK_PID OUT.md
                            [CPU.txt]

TRACE.txt: `perf script` of `perf record -e syscalls:sys_{enter,exit}_{read,
readv,write,writev} -p OTFLOW_PID` (the first otflow's socket reads and
writes; a tracepoint costs ~1 µs, `perf trace` several times that). Each request is followed on the worker
thread through its socket calls:
  receive   first read of the request on its client connection -> last read
  pipeline  -> the exporter's writev that carries it (ingest: validation,
            message, batch by size, exporter, gRPC framing; plus any wait
            behind other requests on the same thread)
  write     the writev to the second otflow (the copy into loopback TCP)
  backend   -> the read of the second otflow's response
  answer    -> the end of the write of our response to the client
TIMEHIST.txt: `perf sched timehist` over the whole machine: for each of our
threads the delay from its wakeup to running (run queue), and its longest
timeslices (a timeslice of several ms on a thread that works ~0.2 ms per
request is a stall of the virtual CPU: nothing, not even its timer
interrupts, ran meanwhile).
CLIENT.trace: the load generator's --trace-out (due, sent, done in ms).
CPU.txt: `perf script -F cpu,time,event,trace` of a `perf sched record -a -k
CLOCK_MONOTONIC -e irq_vectors:local_timer_entry`: a CPU that is not idle
takes its scheduler tick every 4 ms (CONFIG_HZ=250) and records an event
each time, so a longer silence on a busy CPU is time the hypervisor did not
run that virtual CPU (steal), with nothing of ours or the kernel's on it.
The slowest requests are checked against those stalls.
"""
import re
import sys
from collections import defaultdict

trace_path, hist_path, client_path, opid, spid, out = sys.argv[1:7]
cpu_path = sys.argv[7] if len(sys.argv) > 7 else None

ENTER = re.compile(r"^\s*\S+\s+(\d+) \[\d+\]\s+([\d.]+):\s+syscalls:sys_enter_(\w+): fd: (0x[0-9a-f]+)")
EXIT = re.compile(r"^\s*\S+\s+(\d+) \[\d+\]\s+([\d.]+):\s+syscalls:sys_exit_(\w+): (0x[0-9a-f]+|-\d+)")


def q(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))] if v else 0.0


# (start ms, end ms, syscall, fd, bytes) of every read/write that moved data
ev, pending = [], {}
for line in open(trace_path, errors="replace"):
    m = ENTER.match(line)
    if m:
        pending[m.group(1)] = (float(m.group(2)) * 1e3, m.group(3), int(m.group(4), 16))
        continue
    m = EXIT.match(line)
    if m and m.group(1) in pending:
        ts, name, fd = pending.pop(m.group(1))
        n = int(m.group(4), 16) if m.group(4).startswith("0x") else -1
        if n > 0 and n < 1 << 40:
            ev.append((ts, float(m.group(2)) * 1e3, name, fd, n))
ev.sort()
wrote = defaultdict(int)
for e in ev:
    if e[2].startswith("write"):
        wrote[e[3]] += e[4]
exp_fd = max(wrote, key=wrote.get) if wrote else -1

MIN_REQUEST_BYTES = 300000
seg_names = ["receive", "pipeline", "write", "backend", "answer"]
segs = {k: [] for k in seg_names}
resid = []
open_req = {}  # client fd -> request being received or waiting
waiting = []  # complete requests not yet in an exporter writev
last_resp = None
for ts, end, name, fd, n in ev:
    if fd == exp_fd:
        if name.startswith("write"):
            for r in waiting:
                r["w0"], r["w1"] = ts, end
            waiting = []
        else:
            last_resp = end
        continue
    if name.startswith("read"):
        r = open_req.get(fd)
        if r is None:
            if n < 1000:  # control frames between requests (WINDOW_UPDATE, PING)
                continue
            r = open_req[fd] = {"first": ts, "bytes": 0}
        if "queued" not in r:
            r["last"] = end
            r["bytes"] += n
            # the bench's requests are ~343 KB: once most of that is in,
            # the message is complete (later small reads are frames such
            # as WINDOW_UPDATE or the next request's start)
            if r["bytes"] >= MIN_REQUEST_BYTES:
                r["queued"] = True
                waiting.append(r)
        continue
    r = open_req.pop(fd, None)  # the answer
    if not r or "w0" not in r or last_resp is None:
        continue
    vals = [r["last"] - r["first"], r["w0"] - r["last"], r["w1"] - r["w0"],
            last_resp - r["w1"], end - last_resp]
    if min(vals) < 0:
        continue
    for k, v in zip(seg_names, vals):
        segs[k].append(v)
    resid.append(end - r["first"])

# perf sched timehist: time [cpu] task wait sch_delay run_time
procs = {opid: "otflow", spid: "second otflow"}
delay, runs = defaultdict(list), defaultdict(list)
for line in open(hist_path, errors="replace"):
    f = line.split()
    if len(f) < 6 or not f[1].startswith("["):
        continue
    m = re.match(r"(\S+)\[(\d+)(?:/(\d+))?\]", f[2])
    if not m:
        continue
    pid = m.group(3) or m.group(2)
    who = procs.get(pid) or ("client" if m.group(1).startswith("otflow-loadg") else None)
    if not who:
        continue
    try:
        delay[who].append(float(f[4]))
        runs[who].append(float(f[5]))
    except ValueError:
        pass

cl, t0 = [], 0.0
for line in open(client_path):
    if line.startswith("# t0 "):
        t0 = float(line.split()[2])
    elif line.strip() and not line.startswith("#"):
        cl.append(tuple(map(float, line.split())))

# virtual CPU stalls: silences longer than STALL_MS on a CPU that was busy
TICK_MS, STALL_MS = 4.0, 6.0
stalls = []  # (start s, end s, cpu)
if cpu_path:
    last, idle = {}, {}
    ev_re = re.compile(r"^\s*\[(\d+)\]\s+([\d.]+):\s+(\S+):(.*)")
    for line in open(cpu_path, errors="replace"):
        m = ev_re.match(line)
        if not m:
            continue
        cpu, t, name, rest = m.group(1), float(m.group(2)), m.group(3), m.group(4)
        if cpu in last and not idle.get(cpu) and (t - last[cpu]) * 1e3 > STALL_MS:
            stalls.append((last[cpu], t, cpu))
        last[cpu] = t
        if name == "sched:sched_switch":
            idle[cpu] = " next_pid=0 " in rest + " "
# per connection the lines are in order; a due time lower than the line
# before starts the next connection
late_conn, late_wake, from_sent = [], [], []
prev_done, prev_due = None, None
for due, sent, done in cl:
    if prev_due is not None and due < prev_due:
        prev_done = None
    busy_until = max(due, prev_done) if prev_done is not None else due
    late_conn.append(max(0.0, min(sent, busy_until) - due))
    late_wake.append(max(0.0, sent - busy_until))
    from_sent.append(done - sent)
    prev_done, prev_due = done, due
total = [d - u for u, s, d in cl]

with open(out, "w") as f:
    f.write("| per request (ms) | p50 | p90 | p99 | p999 | max |\n|---|---|---|---|---|---|\n")

    def row(name, v, scale=1.0):
        if v:
            f.write(f"| {name} | " + " | ".join(
                f"{q(v, p) * scale:.3f}" for p in (0.5, 0.9, 0.99, 0.999)) +
                f" | {max(v) * scale:.3f} |\n")

    row("client: due -> response (the published latency)", total)
    row("client: due -> its connection free (the previous call still running)", late_conn)
    row("client: -> its thread sending (wakeup, run queue)", late_wake)
    row("client: sending -> response", from_sent)
    row("otflow: first read -> answer written (in otflow)", resid)
    for k in seg_names:
        row(f"otflow: {k}", segs[k])
    f.write(
        "\n| thread wakeups (perf sched) | wakeups | run-queue delay p50 ms | p99 | max "
        "| timeslice p50 ms | p99 | max | timeslices >= 2 ms |\n|---|---|---|---|---|---|---|---|---|\n"
    )
    for who in ("otflow", "second otflow", "client"):
        d, r = delay.get(who, []), runs.get(who, [])
        if d:
            f.write(f"| {who} | {len(d)} | {q(d, .5):.3f} | {q(d, .99):.3f} | {max(d):.3f} "
                    f"| {q(r, .5):.3f} | {q(r, .99):.3f} | {max(r):.3f} "
                    f"| {sum(1 for x in r if x >= 2)} |\n")
    f.write(f"\n(requests followed in otflow: {len(resid)} of {len(cl)})\n")
    if cpu_path:
        gaps = sorted((b - a) * 1e3 for a, b, _ in stalls)
        span = (max(d for _, _, d in cl) - min(u for u, _, _ in cl)) / 1e3 if cl else 0

        def hit(u, d):
            a, b = t0 + u / 1e3, t0 + d / 1e3
            return any(x < b and y > a for x, y, _ in stalls)

        p99 = q(total, 0.99)
        slow = [(u, d) for u, s_, d in cl if d - u >= p99]
        fast = [(u, d) for u, s_, d in cl if d - u < p99]
        f.write(
            f"\nVirtual CPU stalls (a busy CPU silent > {STALL_MS:.0f} ms, its tick being every "
            f"{TICK_MS:.0f} ms) during the {span:.1f} s: {len(gaps)}"
            + (f", {sum(gaps):.1f} ms in all, longest {gaps[-1]:.1f} ms" if gaps else "")
            + f". Requests at or above the p99 ({p99:.2f} ms) that overlap one: "
            f"{sum(1 for u, d in slow if hit(u, d))} of {len(slow)}; below it: "
            f"{sum(1 for u, d in fast if hit(u, d))} of {len(fast)}.\n")
