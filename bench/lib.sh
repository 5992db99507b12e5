#!/bin/sh
# Shared helpers for the benchmark scripts (sourced).

# Markdown lines describing this machine, for the figures' context.
bench_machine() {
	cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
	mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
	echo "- machine: $cpu, $(nproc) cores, $mem, Linux $(uname -r)"
	echo "- compiler: $(cc --version | head -n1)"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
}

# bench_section NAME FILE: replaces the text between
# <!-- bench:NAME:begin --> and <!-- bench:NAME:end --> in docs/benchmarks.md
# with FILE's contents (appending the section when it is missing), so each
# suite rewrites only its own figures.
bench_section() {
	name=$1
	body=$2
	doc=docs/benchmarks.md
	[ -f "$doc" ] || printf '# otflow benchmarks\n\nFigures written by `make bench`; each section says how it was measured.\n' > "$doc"
	python3 - "$doc" "$name" "$body" <<'PY'
import sys
doc, name, body = sys.argv[1], sys.argv[2], open(sys.argv[3]).read().rstrip("\n")
text = open(doc).read()
begin, end = f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"
block = f"{begin}\n{body}\n{end}"
if begin in text and end in text:
    a = text.index(begin)
    b = text.index(end) + len(end)
    text = text[:a] + block + text[b:]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open(doc, "w").write(text)
PY
}
