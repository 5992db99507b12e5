#!/bin/sh
# Worker scaling: OTLP/gRPC logs (1000 records of ~310 B per request) into
# otflow -> nop exporter with runtime.workers 1 and 2, on this machine's
# two cores with the client beside it (bench/workers_run.py: many =
# otflow-loadgen, 16 connections, niced to 19; one = h2load, 1 connection
# x 32 streams; onelg = otflow-loadgen, 1 connection x 32 streams; onegz =
# the same, gzip).
# Figures from per-thread CPU (/proc/PID/task/*/schedstat), not wall
# clock: items per otflow CPU-second, and "capacity", items divided by the
# busiest worker's CPU time, i.e. the throughput when every worker has a
# core to itself, which a shared 2-core machine cannot show directly. Best of N interleaved rounds; with BASE_OTFLOW set (an otflow
# built from another commit) the same runs for it, side by side.
# Writes the "workers" section of docs/benchmarks.md. Public tools only.
# usage: bench/suite-workers.sh BUILD_DIR
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
. bench/lib.sh
OTF="$build/otflow"
LG="$build/otflow-loadgen"
ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECONDS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v h2load > /dev/null || { echo "bench: workers needs h2load (nghttp2-client)"; exit 1; }

bins="new=$OTF"
[ -n "${BASE_OTFLOW:-}" ] && bins="base=$BASE_OTFLOW $bins"
r=0
while [ $r -lt "$ROUNDS" ]; do
	for b in $bins; do
		for run in many:1 many:2 one:1 one:2 one:2:always one+transform:1 \
			one+transform:2 one+transform:2:always onelg:1 onelg:2 \
			onelg+transform:1 onelg+transform:2 onegz:1 onegz:2; do
			mode=${run%%:*}
			rest=${run#*:}
			w=${rest%%:*}
			env=""
			[ "$rest" != "$w" ] && env="OTFLOW_HANDOFF=${rest#*:}"
			[ -n "$env" ] && [ "${b%%=*}" = base ] && continue
			# shellcheck disable=SC2086
			python3 bench/workers_run.py "${b#*=}" "$LG" "$mode" "$w" "$SECS" $env |
				sed "s/^{/{\"bin\": \"${b%%=*}\", \"env\": \"$env\", /" >> "$tmp/runs.jsonl"
		done
	done
	r=$((r + 1))
done

out="$tmp/section.md"
{
	echo "## Workers (issue 15, goal 2: two cores)"
	echo
	bench_machine
	echo "- command: \`make bench\` (bench/suite-workers.sh; BASE_OTFLOW=path adds a baseline"
	echo "  binary side by side): OTLP/gRPC logs, 1000 records of ~310 B per request, otflow ->"
	echo "  nop exporter, \`runtime.workers\` 1 and 2, no pinning, the client on the same 2 cores."
	echo "  *many*: otflow-loadgen under \`nice -n 19\`, 16 connections, one call at a time each;"
	echo "  *one*: h2load, 1 connection, 32 concurrent streams (the request checked valid with"
	echo "  \`otflow pdata validate\` first: h2load counts HTTP 200s, which a gRPC error also is);"
	echo "  *onelg*: otflow-loadgen, 1 connection, waves of 32 concurrent calls (\`--streams 32\`);"
	echo "  *onegz*: the same with gzip-compressed requests (\`--compression gzip\`)."
	echo "  The one-connection clients are not niced: at nice 19 they got too little of the shared"
	echo "  cores to keep the connection's worker saturated, and saturation is what they test."
	echo "  *transform*: a transform processor (2 OTTL statements per record) before the nop"
	echo "  exporter. *OTFLOW_HANDOFF=always*: requests handed round robin whatever the load (what"
	echo "  can move off the connection's worker). $ROUNDS interleaved rounds of ${SECS} s, best of"
	echo "  each (by capacity)."
	echo "- method: CPU per thread from /proc/PID/task/TID/schedstat over the run (the client's"
	echo "  CPU is not counted). *items/CPU-s*: items acknowledged per otflow CPU-second (all"
	echo "  threads). *capacity*: items / the busiest worker's CPU-seconds: a worker is one loop"
	echo "  and uses one core at most, so this is the rate reached when each worker has a core of"
	echo "  its own (the client elsewhere); *2w/1w* is the ratio of capacities, the scaling a"
	echo "  machine with free cores would see. *split*: each worker's share of otflow's CPU."
	echo "  acked/s is wall clock on the shared machine (client included), for reference only."
	echo
	python3 - "$tmp/runs.jsonl" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
best = {}
for r in runs:
    k = (r["bin"], r["mode"], r["workers"], r["env"])
    if k not in best or r["capacity"] > best[k]["capacity"]:
        best[k] = r
print("| binary | client, pipeline | workers | acked/s | items/CPU-s | capacity | 2w/1w | split | failed |")
print("|---|---|---|---|---|---|---|---|---|")
for b in ("base", "new"):
    for mode in ("many", "one", "one+transform", "onelg", "onelg+transform", "onegz"):
        for w, env in ((1, ""), (2, ""), (2, "OTFLOW_HANDOFF=always")):
            r = best.get((b, mode, w, env))
            if not r:
                continue
            one = best.get((b, mode, 1, ""))
            ratio = "%.2fx" % (r["capacity"] / one["capacity"]) if w == 2 and one else ""
            tot = sum(r["worker_cpu_s"]) or 1
            split = " / ".join("%.0f%%" % (100 * c / tot) for c in r["worker_cpu_s"])
            what = mode.replace("+transform", ", transform") + (", " + env if env else "")
            print("| %s | %s | %d | %.2fM | %.2fM | %.2fM | %s | %s | %d |" % (
                b, what, w, r["items_per_s"] / 1e6, r["items_per_cpu_s"] / 1e6,
                r["capacity"] / 1e6, ratio, split, r["failed"]))
PY
	echo
	cat bench/workers_notes.md
} > "$out"
bench_section workers "$out"
echo "bench: workers figures written to docs/benchmarks.md"
