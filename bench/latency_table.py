#!/usr/bin/env python3
"""Tables of bench/suite-latency.sh: one row per run, then the median per load.

usage: latency_table.py ROWS.jsonl OUT_DIR
ROWS.jsonl has one JSON object per run (written by the suite's point()):
  name, level (0 = saturation), run, offered, requests, acked_per_s, failed,
  lat {p50, p99, p999, max} (ms, from the load generator),
  late {p50, p99, p999} (ms: the client's thread began sending after its
  connection was free and the request due), from_sent {p50, p99, p999}
  (ms from then to the response),
  otflow/sink/client {cpu_us, runq_us, slices} (schedstat deltas),
  steal_ms (both cores, /proc/stat), steal_cpu_ms [core 0, core 1], busy_ms (all non-idle CPU of the
  machine), dur_s.
A fixed-rate run that acknowledged less than 95% of its offered rate is
marked overloaded and left out of its level's medians (unless all were).
Writes OUT_DIR/runs.md (every run), OUT_DIR/summary.md (median per load),
OUT_DIR/pick (for each level the run whose p99 is the median: "level run")
and OUT_DIR/p50_p99, OUT_DIR/p50_all (the 50% figures for the text).
"""
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
out = sys.argv[2]


def per_req(r, who, key):
    return r[who][key] / max(r["requests"], 1)


def other_cores(r):
    # CPU of everything that is not one of the three processes, in cores
    # (both cores busy = 2.0): the machine's other load during the run.
    ours = (r["otflow"]["cpu_us"] + r["sink"]["cpu_us"] + r["client"]["cpu_us"]) / 1000
    return max(r["busy_ms"] - ours, 0) / 1000 / r["dur_s"]


def overloaded(r):
    # a fixed-rate run that acknowledged less than 95% of what it offered
    return r["level"] > 0 and r["acked_per_s"] < 0.95 * r["offered"]


def label(r):
    if r["level"] == 0:
        return "saturation"
    return f'{r["level"]}% ({r["offered"]})' + (" **overloaded**" if overloaded(r) else "")


with open(f"{out}/runs.md", "w") as f:
    f.write(
        "| load (offered logs/s) | run | acked logs/s | p50 ms | p99 ms | p999 ms | max ms | p99 from send ms "
        "| client late p99 ms "
        "| run queue µs/req otflow / sink / client | steal ms core 0 / 1 | other load (cores) |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    for r in rows:
        lat, late = r["lat"], r["late"]
        f.write(
            f'| {label(r)} | {r["run"]} | {r["acked_per_s"]:.0f} | {lat["p50"]:.2f} '
            f'| {lat["p99"]:.2f} | {lat["p999"]:.2f} | {lat["max"]:.2f} | {r["from_sent"]["p99"]:.2f} '
            f'| {late["p99"]:.2f} '
            f'| {per_req(r, "otflow", "runq_us"):.0f} / {per_req(r, "sink", "runq_us"):.0f} '
            f'/ {per_req(r, "client", "runq_us"):.0f} '
            f'| {r["steal_cpu_ms"][0]:.0f} / {r["steal_cpu_ms"][1]:.0f} '
            f"| {other_cores(r):.2f} |\n"
        )

med = statistics.median
picks = []
with open(f"{out}/summary.md", "w") as f:
    f.write(
        "| offered | runs | acked logs/s | p50 ms | p99 ms (each run) | p999 ms | p99 from send ms "
        "| client late p99 ms | otflow CPU µs/req | sink CPU µs/req | run queue µs/req (all three) "
        "| otflow wakeups/req | steal ms/run | other load (cores) |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    for level in sorted({r["level"] for r in rows}, key=lambda x: (x != 0, x)):
        every = [r for r in rows if r["level"] == level]
        rs = [r for r in every if not overloaded(r)] or every
        n_over = sum(1 for r in every if overloaded(r))
        p99s = sorted(r["lat"]["p99"] for r in rs)
        # the run whose p99 is the median (the lower middle for an even
        # count) is the one plotted
        mid = sorted(rs, key=lambda r: r["lat"]["p99"])[(len(rs) - 1) // 2]
        picks.append(f'{level} {mid["run"]}')
        offered = (
            "saturation (as fast as possible)"
            if level == 0
            else f'{level}% (median {med(r["offered"] for r in rs):.0f} logs/s)'
        )
        runs = f"{len(rs)}" + (f" (+{n_over} overloaded)" if n_over and len(rs) < len(every) else "")
        runq = med(
            per_req(r, "otflow", "runq_us") + per_req(r, "sink", "runq_us")
            + per_req(r, "client", "runq_us") for r in rs
        )
        f.write(
            f"| {offered} | {runs} | {med(r['acked_per_s'] for r in rs):.0f} "
            f"| {med(r['lat']['p50'] for r in rs):.2f} "
            f"| **{med(p99s):.2f}** ({', '.join(f'{x:.2f}' for x in p99s)}) "
            f"| {med(r['lat']['p999'] for r in rs):.2f} "
            f"| {med(r['from_sent']['p99'] for r in rs):.2f} "
            f"| {med(r['late']['p99'] for r in rs):.2f} "
            f"| {med(per_req(r, 'otflow', 'cpu_us') for r in rs):.0f} "
            f"| {med(per_req(r, 'sink', 'cpu_us') for r in rs):.0f} | {runq:.0f} "
            f"| {med(per_req(r, 'otflow', 'slices') for r in rs):.1f} "
            f"| {med(r['steal_ms'] for r in rs):.0f} "
            f"| {med(other_cores(r) for r in rs):.2f} |\n"
        )
        if level == 50:
            open(f"{out}/p50_p99", "w").write(f"{med(p99s):.2f}")
            open(f"{out}/p50_all", "w").write(", ".join(f"{x:.2f}" for x in p99s))
open(f"{out}/pick", "w").write("\n".join(picks) + "\n")
