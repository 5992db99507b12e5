#!/usr/bin/env bash
# The OTLP/JSON parser is a module, libotflow-json.so (src/pdata/json_sj_dl.h),
# that otflow loads at the first JSON decode. From an install tree (cmake
# --install into a staging root, as scripts/make-deb.sh does) the installed
# otflow finds it in LIBDIR/otflow and decodes a JSON request: every record
# arrives in the file exporter with its body, and a program linking the
# installed libotflow.so decodes JSON through it too. Without the module the same
# request gets 500 with a message naming the file, the log names the path
# looked at, protobuf requests on the same server are still accepted, and
# the process stays up and exits 0 on SIGTERM; `pdata convert` from JSON
# fails with the same reason instead of aborting, and a file there that does
# not load gives the loader's reason.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD=${OTF_BUILD_DIR:-$(dirname "$OTF_BIN")}
ROOT="$TMP/root"
if ! DESTDIR="$ROOT" cmake --install "$BUILD" --prefix /usr >"$TMP/install.log" 2>&1; then
	bad "cmake --install: $(tail -3 "$TMP/install.log")"
	finish
fi
IBIN="$ROOT/usr/bin/otflow"
MOD=$(find "$ROOT/usr/lib" -name libotflow-json.so | head -1)
[ -n "$MOD" ] && ok "the install tree holds ${MOD#"$ROOT"}" || bad "no libotflow-json.so installed under /usr/lib"
case "$MOD" in */otflow/libotflow-json.so) ok "in the lib dir's otflow/ subdirectory" ;;
*) bad "module not under LIBDIR/otflow: ${MOD#"$ROOT"}" ;; esac
if readelf -d "$IBIN" | grep -qE 'NEEDED.*(libstdc\+\+|libsimdjson)'; then
	bad "installed otflow links libstdc++ or libsimdjson"
else
	ok "installed otflow links neither libstdc++ nor libsimdjson"
fi
if readelf -d "$IBIN" | grep -q 'R.*PATH'; then
	bad "installed otflow has an RPATH (would find the build tree)"
else
	ok "installed otflow has no RPATH"
fi

body='{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"one"}},{"body":{"stringValue":"two"}},{"body":{"stringValue":"three"}}]}]}]}'
bodies() {
	python3 - "$1" <<'P'
import json, sys
out = []
for line in open(sys.argv[1]):
    for rl in json.loads(line).get("resourceLogs", []):
        for sl in rl["scopeLogs"]:
            out += [r["body"]["stringValue"] for r in sl["logRecords"]]
print(" ".join(out))
P
}
post() { # post CONTENT-TYPE DATA-ARG... : prints "CODE BODY"
	local ct=$1
	shift
	curl -s -m 10 -o "$TMP/resp" -w '%{http_code}' -XPOST -H "Content-Type: $ct" "$@" \
		"$OTF_URL/v1/logs"
	echo " $(cat "$TMP/resp")"
}

# 1. installed, module present
OTF_BIN=$IBIN
otf_start installed || { bad "installed otflow did not start"; finish; }
if grep -q libotflow-json "/proc/$OTF_PID/maps"; then bad "module mapped before any JSON request"; else
	ok "module not mapped at idle"; fi
got=$(post application/json --data "$body")
expect_eq "JSON request to the installed otflow" 200 "${got%% *}"
expect_eq "records out as in" "one two three" "$(bodies "$OTF_OUT")"
grep -q "$ROOT/usr/lib/.*otflow/libotflow-json.so" "/proc/$OTF_PID/maps" &&
	ok "the installed module is the one mapped" ||
	bad "mapped: $(grep -o '/[^ ]*libotflow-json[^ ]*' "/proc/$OTF_PID/maps" | head -1)"
otf_stop

# 1b. a program embedding the installed libotflow.so (LIBDIR) decodes JSON:
# the module is found in LIBDIR/otflow, beside the library.
cat >"$TMP/dec.c" <<'C'
#include <otflow/arena.h>
#include <otflow/pdata_codec.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
	otf_arena_t a;
	otf_logs_t l;
	otf_pdata_error_t e;
	char buf[300];
	otf_arena_init(&a, 0);
	int rc = otf_pdata_json_decode_logs(&l, argv[1], strlen(argv[1]), &a, NULL, &e);
	if (rc) {
		printf("error %d: %s\n", rc, otf_pdata_error_format(&e, buf, sizeof buf));
		return 1;
	}
	const otf_scope_logs_t *sl = &l.resource_logs[0].scope_logs[0];
	for (size_t i = 0; i < sl->log_records_len; i++)
		printf("%s%.*s", i ? " " : "", (int)sl->log_records[i].body.u.string_value.len,
		       (const char *)sl->log_records[i].body.u.string_value.ptr);
	printf("\n");
	otf_arena_close(&a);
	(void)argc;
	return 0;
}
C
LIBDIR=$(dirname "$(find "$ROOT/usr/lib" -name 'libotflow.so.0' | head -1)")
CCFLAGS=""
grep -q __asan_init "$OTF_BIN" 2>/dev/null && CCFLAGS="-fsanitize=address,undefined"
if ${CC:-cc} $CCFLAGS -I"$ROOT/usr/include" "$TMP/dec.c" -L"$LIBDIR" -lotflow -o "$TMP/dec" 2>"$TMP/cc.log"; then
	expect_eq "embedding program on the installed libotflow.so" "one two three" \
		"$(LD_LIBRARY_PATH=$LIBDIR "$TMP/dec" "$body" 2>&1)"
else
	bad "cc: $(head -3 "$TMP/cc.log")"
fi

# 2. installed, module missing
"$BUILD/otflow" pdata convert --signal logs --from json --to proto <(echo "$body") \
	-o "$TMP/logs.pb" || bad "pdata convert with the build tree's otflow"
mv "$MOD" "$MOD.away"
otf_start missing || { bad "otflow without the module did not start"; finish; }
got=$(post application/json --data "$body")
expect_eq "JSON request without the module: status" 500 "${got%% *}"
case "$got" in *"libotflow-json.so"*) ok "the response names the module: ${got#* }" ;;
*) bad "response: $got" ;; esac
got=$(post application/json --data "$body")
expect_eq "a second JSON request: 500 again" 500 "${got%% *}"
got=$(post application/x-protobuf --data-binary "@$TMP/logs.pb")
expect_eq "protobuf request on the same server" 200 "${got%% *}"
expect_eq "the protobuf request's records" "one two three" "$(bodies "$OTF_OUT")"
n=$(grep -c "looked for $ROOT/usr/bin/libotflow-json.so, .*, $ROOT/usr/bin/../lib/otflow/libotflow-json.so and" "$OTF_LOG")
expect_eq "one error log line naming the path looked at" 1 "$n"
grep "OTLP/JSON decoding unavailable" "$OTF_LOG" | sed 's/^/  | /'
otf_alive && ok "otflow still running" || bad "otflow exited"
otf_stop
out=$("$IBIN" pdata convert --signal logs --from json --to proto <(echo "$body") -o "$TMP/x.pb" 2>&1)
rc=$?
[ $rc -ne 0 ] && [ $rc -lt 128 ] && ok "pdata convert without the module fails (exit $rc)" ||
	bad "pdata convert without the module: exit $rc"
case "$out" in *libotflow-json.so*) ok "and says why: $out" ;; *) bad "convert output: $out" ;; esac
# A file there that is not a loadable module: the loader's reason.
echo "not an ELF file" >"$MOD"
out=$("$IBIN" pdata convert --signal logs --from json --to proto <(echo "$body") -o "$TMP/x.pb" 2>&1)
case "$out" in *"cannot load libotflow-json.so: "*"/otflow/libotflow-json.so: file too short"*) ok "a broken module: the loader's reason" ;;
*) bad "broken module: $out" ;; esac
mv "$MOD.away" "$MOD"
finish
