#!/bin/sh
# Packaging and first run: otflow --version/--help, validate listing the
# components used with their stability, `cmake --install` (what make install
# runs) into a DESTDIR and into a prefix (binary, libotmmap with its SONAME,
# otmm.h, otmm.pc that builds a C program, Python package, unit, default
# config), the Debian package (scripts/make-deb.sh, what make deb runs)
# unpacked into a temporary root running `otflow validate` on its default
# configuration, and `pip install sdk/python` (offline, in-tree backend)
# whose OpenTelemetry-API-shaped bridge writes spans that `otflow mmap dump`
# reads back with their names, attributes and parent/child ids.
set -u
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { pass=$((pass + 1)); }
bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}
B=$OTF_BUILD_DIR
asan=0
grep -q '^OTF_SANITIZE:BOOL=ON' "$B/CMakeCache.txt" 2>/dev/null && asan=1

# --version: version, commit, ABI versions.
want_ver=$(sed -n 's/^project(otflow VERSION \([0-9.]*\).*/\1/p' "$OTF_SOURCE_DIR/CMakeLists.txt")
"$OTF_BIN" --version > "$tmp/ver" 2>&1
head -n 1 "$tmp/ver" | grep -qx "otflow $want_ver" && ok || bad "--version first line: $(head -n 1 "$tmp/ver")"
grep -Eq '^commit: +([0-9a-f]{7,}|unknown)$' "$tmp/ver" && ok || bad "--version has no commit: $(cat "$tmp/ver")"
grep -Eq '^component ABI: +1$' "$tmp/ver" && grep -Eq '^otlp-mmap file formats: +1, 1001$' "$tmp/ver" &&
	grep -Eq '^libotmmap SONAME: +libotmmap\.so\.0$' "$tmp/ver" && ok || bad "--version ABI lines: $(cat "$tmp/ver")"
# --help: every subcommand.
"$OTF_BIN" --help > "$tmp/help"
for c in validate print-dag components pdata partial mmap --version; do
	grep -q "^  $c " "$tmp/help" && ok || bad "--help does not list $c"
done
# validate: each component used, with its stability per signal.
"$OTF_BIN" validate --config "$OTF_SOURCE_DIR/examples/default.yaml" > "$tmp/val" 2>&1 || bad "default.yaml invalid"
for l in 'receiver +otlp +traces: beta, metrics: beta, logs: beta' \
	'exporter +debug +traces: development, metrics: development, logs: development' \
	'exporter +file +traces: alpha, metrics: alpha, logs: alpha' 'extension +health_check '; do
	grep -Eq "^  $l" "$tmp/val" && ok || bad "validate does not print '$l': $(cat "$tmp/val")"
done
# Only what the pipelines use, with the signals they use it for.
cat > "$tmp/one.yaml" <<Y
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}
processors: {batch: {}}
exporters: {debug: {}, file/unused: {path: $tmp/x}}
service:
  pipelines: {logs/a: {receivers: [otlp], processors: [batch], exporters: [debug]}}
Y
"$OTF_BIN" validate --config "$tmp/one.yaml" > "$tmp/val1" 2>&1
grep -Eq '^  processor +batch +logs: [a-z]+$' "$tmp/val1" && ! grep -q 'file/unused' "$tmp/val1" && ok ||
	bad "validate lists unused components or misses batch (logs): $(cat "$tmp/val1")"

# make install: DESTDIR + PREFIX.
DESTDIR="$tmp/dest" cmake --install "$B" --prefix /opt/otflow > "$tmp/inst.log" 2>&1 || bad "install failed: $(cat "$tmp/inst.log")"
d="$tmp/dest/opt/otflow"
for f in bin/otflow lib/libotmmap.so.0 lib/libotmmap.so lib/libotmmap.a include/otmm.h \
	lib/pkgconfig/otmm.pc lib/python3/dist-packages/otmm/__init__.py \
	lib/python3/dist-packages/otmm/otel.py share/otflow/otflow.yaml share/otflow/otflow.service; do
	[ -e "$d/$f" ] && ok || bad "make install: $f missing"
done
readelf -d "$d/lib/libotmmap.so.0" | grep -q 'SONAME.*\[libotmmap\.so\.0\]' && ok || bad "libotmmap has no SONAME libotmmap.so.0"
grep -q '^ExecStart=/opt/otflow/bin/otflow --config ' "$d/share/otflow/otflow.service" && ok ||
	bad "unit ExecStart does not name the prefix: $(grep Exec "$d/share/otflow/otflow.service")"
grep -qx 'LIBRARY = "/opt/otflow/lib/libotmmap.so.0"' "$d/lib/python3/dist-packages/otmm/_installed.py" && ok ||
	bad "_installed.py: $(cat "$d/lib/python3/dist-packages/otmm/_installed.py")"
# otmm.pc (relocatable) builds and links a C program against the installed library.
cat > "$tmp/pc.c" <<'C'
#include <otmm.h>
#include <stdio.h>
int main(void) { printf("%lld\n", (long long)OTMM_FORMAT_V1); return otmm_now() > 0 ? 0 : 1; }
C
# The build's compiler, with the build's sanitizers (an instrumented library needs their runtime).
CC=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$B/CMakeCache.txt")
san=""
[ "$asan" = 1 ] && san="-fsanitize=address,undefined"
if ${CC:-cc} $san -o "$tmp/pc" "$tmp/pc.c" $(PKG_CONFIG_PATH="$d/lib/pkgconfig" pkg-config --cflags --libs otmm) 2> "$tmp/cc.log" &&
	[ "$(LD_LIBRARY_PATH="$d/lib" "$tmp/pc")" = 1 ]; then ok; else bad "otmm.pc: $(cat "$tmp/cc.log")"; fi
# otflow.pc builds the embedding example against the installed libotflow.so,
# which then runs a pipeline in that program.
for f in lib/libotflow.so.0 lib/libotflow.so include/otflow/service.h include/otflow/plugin.h \
	lib/pkgconfig/otflow.pc; do
	[ -e "$d/$f" ] && ok || bad "make install: $f missing"
done
readelf -d "$d/lib/libotflow.so.0" | grep -q 'SONAME.*\[libotflow\.so\.0\]' && ok || bad "libotflow has no SONAME libotflow.so.0"
if ${CC:-cc} $san -o "$tmp/embed" "$OTF_SOURCE_DIR/examples/embed/embed.c" \
	$(PKG_CONFIG_PATH="$d/lib/pkgconfig" pkg-config --cflags --libs otflow) -lpthread 2> "$tmp/cc2.log" &&
	LD_LIBRARY_PATH="$d/lib" "$tmp/embed" "$tmp/embed.jsonl" 50 > "$tmp/embed.log" 2>&1 &&
	[ "$(grep -o "embedded-[0-9]*" "$tmp/embed.jsonl" | sort -u | wc -l)" = 50 ]; then ok; else
	bad "otflow.pc + embed example: $(cat "$tmp/cc2.log" "$tmp/embed.log" 2>/dev/null | tail -5)"; fi

# Debian package: unpack into a temporary root, run validate on its default configuration.
deb=$(sh "$OTF_SOURCE_DIR/scripts/make-deb.sh" "$B" "$tmp/deb" 2> "$tmp/deb.log") || bad "make-deb: $(cat "$tmp/deb.log")"
if [ -f "$deb" ]; then
	[ "$(dpkg-deb -f "$deb" Package)" = otflow ] && [ "$(dpkg-deb -f "$deb" Version)" = "$want_ver" ] && ok ||
		bad "deb control: $(dpkg-deb -f "$deb")"
	dpkg-deb -f "$deb" Depends | grep -q 'libuv1' && ok || bad "deb Depends lacks libuv1: $(dpkg-deb -f "$deb" Depends)"
	# loaded at first use (dlopen), so dpkg-shlibdeps alone would leave them out
	for p in libcurl4 libpq5 librdkafka1; do
		dpkg-deb -f "$deb" Depends | grep -q "$p" && ok || bad "deb Depends lacks $p: $(dpkg-deb -f "$deb" Depends)"
	done
	dpkg -x "$deb" "$tmp/root"
	for f in usr/bin/otflow usr/lib/libotmmap.so.0 usr/include/otmm.h usr/lib/pkgconfig/otmm.pc \
		usr/lib/python3/dist-packages/otmm/otel.py etc/otflow/otflow.yaml usr/share/otflow/otflow.service; do
		[ -e "$tmp/root/$f" ] && ok || bad "deb: $f missing"
	done
	"$tmp/root/usr/bin/otflow" validate --config "$tmp/root/etc/otflow/otflow.yaml" > "$tmp/dval" 2>&1 &&
		grep -q '^configuration is valid' "$tmp/dval" && grep -Eq '^  exporter +file ' "$tmp/dval" && ok ||
		bad "packaged otflow validate on its default config: $(cat "$tmp/dval")"
	# Every shared library the packaged binary needs resolves on this system.
	! ldd "$tmp/root/usr/bin/otflow" | grep -q 'not found' && ok || bad "deb otflow: $(ldd "$tmp/root/usr/bin/otflow" | grep 'not found')"
fi

# Python: pip install from the source tree, no index; the bridge writes spans.
if [ "$asan" = 1 ]; then
	echo "python part skipped: sanitizer build (python cannot load an instrumented libotmmap.so)"
else
	# Installed into a real prefix this time: _installed.py must lead to the library.
	cmake --install "$B" --prefix "$tmp/prefix" > /dev/null 2>&1 || bad "install --prefix failed"
	if python3 -m pip --version > /dev/null 2>&1; then
		PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install -q --no-index --target "$tmp/py" \
			"$OTF_SOURCE_DIR/sdk/python" > "$tmp/pip.log" 2>&1 && ok || bad "pip install sdk/python: $(cat "$tmp/pip.log")"
	else
		bad "python3 has no pip (scripts/deps.sh installs python3-pip)"
	fi
	cat > "$tmp/app.py" <<'PY'
import sys
from otmm import otel as trace
trace.set_tracer_provider(trace.TracerProvider(sys.argv[1], resource={"service.name": "shop"}))
tracer = trace.get_tracer("shop.checkout", "1.0")
with tracer.start_as_current_span("checkout", kind=trace.SpanKind.SERVER,
                                  attributes={"http.method": "POST"}) as span:
    span.set_attribute("cart.items", 3)
    with tracer.start_as_current_span("charge") as child:
        child.set_attribute("amount", 9.5)
        assert trace.get_current_span() is child
    try:
        with tracer.start_as_current_span("refund"):
            raise ValueError("declined")
    except ValueError:
        pass
    assert trace.get_current_span() is span
trace.get_tracer_provider().shutdown()
PY
	check_dump() { # mmap-file label
		"$OTF_BIN" mmap dump "$1" --format json > "$tmp/dump.json" 2>&1 || { bad "$2: mmap dump failed"; return; }
		python3 - "$tmp/dump.json" <<'PY' && ok || bad "$2: spans read back differ"
import json, sys
d = json.load(open(sys.argv[1]))
spans = {}
for t in d["traces"]:
    for rs in t["resourceSpans"]:
        res = {a["key"]: a["value"] for a in rs["resource"]["attributes"]}
        assert res["service.name"] == {"stringValue": "shop"}, res
        for ss in rs["scopeSpans"]:
            assert ss["scope"] == {"name": "shop.checkout", "version": "1.0"}, ss["scope"]
            for s in ss["spans"]:
                spans[s["name"]] = s
assert sorted(spans) == ["charge", "checkout", "refund"], sorted(spans)
attrs = lambda s: {a["key"]: list(a["value"].values())[0] for a in s.get("attributes", [])}
root, charge, refund = spans["checkout"], spans["charge"], spans["refund"]
assert "parentSpanId" not in root and root["kind"] == 2, root
assert attrs(root) == {"http.method": "POST", "cart.items": "3"}, attrs(root)
assert charge["parentSpanId"] == root["spanId"] and charge["traceId"] == root["traceId"], charge
assert refund["parentSpanId"] == root["spanId"], refund
assert attrs(charge) == {"amount": 9.5}, attrs(charge)
assert refund["status"]["code"] == 2 and "declined" in refund["status"]["message"], refund
PY
	}
	# pip-installed package, library named by OTMM_LIBRARY (the installed one).
	OTMM_LIBRARY="$d/lib/libotmmap.so.0" PYTHONPATH="$tmp/py" PYTHONDONTWRITEBYTECODE=1 \
		python3 "$tmp/app.py" "$tmp/a.mmap" > "$tmp/app.log" 2>&1 && ok || bad "bridge app (pip): $(cat "$tmp/app.log")"
	check_dump "$tmp/a.mmap" "pip install"
	# make-install package, no environment variable: the installed path.
	(cd "$tmp" && env -u OTMM_LIBRARY PYTHONPATH="$tmp/prefix/lib/python3/dist-packages" PYTHONDONTWRITEBYTECODE=1 \
		python3 "$tmp/app.py" "$tmp/b.mmap") > "$tmp/app.log" 2>&1 && ok || bad "bridge app (installed): $(cat "$tmp/app.log")"
	check_dump "$tmp/b.mmap" "make install"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
