#!/usr/bin/env bash
# Embedding (otflow/service.h): examples/embed/embed.c, linked against
# libotflow.so, starts a service from a YAML string, has a truncated request
# and an unknown receiver refused at once with their reasons, pushes 500 log
# requests from its own thread into `push/app` with a completion callback
# each, waits for all 500 completions and stops. The file exporter of that
# service holds each record once, body and timestamp intact.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EX="${OTF_BUILD_DIR:-$(dirname "$OTF_BIN")}/plugins/embed_example"
[ -x "$EX" ] || { bad "no $EX: build first"; finish; }
N=500
if "$EX" "$TMP/out.jsonl" $N > "$TMP/embed.log" 2>&1; then ok "the embedding program exits 0"; else
	bad "embed_example: $(tail -5 "$TMP/embed.log")"; fi
grep -q '^refused: resource_logs: length prefix runs past the end' "$TMP/embed.log" &&
	ok "a truncated request is refused with the decoder's reason" || bad "no refusal: $(cat "$TMP/embed.log")"
grep -q "^refused: no running push receiver 'push/nope'" "$TMP/embed.log" &&
	ok "an unknown receiver is refused" || bad "no unknown-receiver refusal"
grep -Eq "^pushed [0-9]+ times, delivered $N, failed 0" "$TMP/embed.log" && ok "every push completed once" ||
	bad "completions: $(tail -2 "$TMP/embed.log")"
got=$(python3 - "$TMP/out.jsonl" <<'P'
import json, sys
seen = {}
for line in open(sys.argv[1]):
    for rl in json.loads(line)["resourceLogs"]:
        for sl in rl["scopeLogs"]:
            for r in sl["logRecords"]:
                b = r["body"]["stringValue"]
                i = int(b.split("-")[1])
                assert int(r["timeUnixNano"]) == 1700000000000000000 + i, (b, r["timeUnixNano"])
                seen[b] = seen.get(b, 0) + 1
print(len(seen), sum(seen.values()))
P
)
expect_eq "records in the file: distinct, total" "$N $N" "$got"

# The Go embedding example (examples/embed/go, cgo + pkg-config otflow),
# pushing from 16 goroutines at a time.
BUILD=${OTF_BUILD_DIR:-$(dirname "$OTF_BIN")}
if grep -q '^OTF_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
	# An instrumented libotflow needs the sanitizer runtime loaded first,
	# which a Go executable does not do; the plain build runs this part.
	echo "note: the Go embedding example is run by the non-sanitizer build"
	finish
fi
if ! command -v go >/dev/null; then
	echo "SKIPPED: the Go embedding example (no go; scripts/deps.sh installs it)"
	finish
fi
if (cd "$OTF_SOURCE_DIR/examples/embed/go" && PKG_CONFIG_PATH="$BUILD/pkgconfig-build" \
	GOCACHE="$BUILD/go-cache" GOPATH="$BUILD/go-path" GOPROXY=off \
	go build -o "$BUILD/plugins/embedgo" .) > "$TMP/go.log" 2>&1; then
	ok "the Go embedding example builds"
else
	bad "go build: $(tail -10 "$TMP/go.log")"
	finish
fi
if LD_LIBRARY_PATH="$BUILD" "$BUILD/plugins/embedgo" "$TMP/go.jsonl" 300 > "$TMP/embedgo.log" 2>&1 &&
	grep -q '^pushed 300 from goroutines, failed 0' "$TMP/embedgo.log"; then
	ok "the Go program pushed 300 requests, each acknowledged"
else
	bad "embedgo: $(tail -5 "$TMP/embedgo.log")"
fi
expect_eq "the Go program's records, each once" "300 300" \
	"$(grep -o '"go-[0-9]*"' "$TMP/go.jsonl" | sort | uniq -c | awk '{d++; t+=$1} END {print d, t}')"
finish
