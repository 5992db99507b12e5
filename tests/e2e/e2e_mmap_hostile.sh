#!/bin/bash
# otlp_mmap against hostile files, directory mode:
#  (a) a 64 MiB file toggled between 200 KiB and its full size every few
#      milliseconds for 4 s while records and dictionary entries past
#      200 KiB are read: otflow survives (before, SIGBUS killed it in most
#      runs), counts the file corrupt and serves a file written afterwards;
#  (b) a file deleted and re-created under the same name: the deleted inode
#      is drained and no longer mapped (/proc/PID/maps has no "(deleted)"
#      mapping of it), and the new file's records arrive.
source "$(dirname "$0")/lib.sh"
WDIR="$OTF_SOURCE_DIR/tests/e2e"
D="$TMP/mm"
mkdir -p "$D"
MPORT=$(free_port)
cat >"$TMP/c.yaml" <<Y
receivers:
  otlp_mmap:
    path: $D
    scan_interval: 100ms
exporters:
  file: {path: "\${env:OTF_E2E_OUT}", flush_interval: 50ms}
extensions:
  health_check: {endpoint: "127.0.0.1:\${env:OTF_E2E_HEALTH_PORT}"}
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: basic
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: $MPORT}}}
  pipelines:
    logs: {receivers: [otlp_mmap], exporters: [file]}
runtime: {workers: 1}
Y
cat >"$TMP/h.py" <<'P'
import os, random, struct, sys, threading, time
sys.path.insert(0, sys.argv[1])
import mmap_orig_writer as w

def shrink(path, seconds):
    # 8 KiB slots: most of the events ring, the other rings and the
    # dictionary lie past 200 KiB, so reading them races the shrink.
    w.B = 8192
    w.RING = 32 + 4 * w.N + w.N * w.B
    w.SPANS, w.MEAS, w.DICT = 64 + w.RING, 64 + 2 * w.RING, 64 + 3 * w.RING
    big = 64 << 20
    w.SIZE = big
    f = w.File(path, w.now())
    sc = f.scope(b"hostile")
    lock = threading.Lock()
    stop = time.time() + seconds
    fd = os.open(path, os.O_RDWR)
    def toggle():
        while time.time() < stop:
            time.sleep(random.uniform(0.002, 0.02))
            with lock:
                end = struct.unpack_from("<q", f.m, w.DICT)[0]
                os.ftruncate(fd, 200 << 10)
                time.sleep(random.uniform(0, 0.002))
                os.ftruncate(fd, big)
                # What lay past 200 KiB reads zeros now: restore the
                # headers there (the reader sees the same layout again).
                for off in (w.SPANS, w.MEAS):
                    struct.pack_into("<qqqq", f.m, off, w.N, w.B, -1, -1)
                    struct.pack_into("<%di" % w.N, f.m, off + 32, *([-1] * w.N))
                struct.pack_into("<qq", f.m, w.DICT, end, 0)
    t = threading.Thread(target=toggle)
    t.start()
    i = 0
    while time.time() < stop:
        with lock:
            for _ in range(20):
                key = f.intern(b"hostile.key.%d" % i)
                ev = w.fv(1, sc) + w.ff64(2, w.now()) + w.fl(5, w.fl(1, b"h-%d" % i))
                ev += w.fl(8, w.fv(1, key) + w.fl(2, w.fl(1, b"v" * 4000)))
                if struct.unpack_from("<q", f.m, w.EVENTS + 24)[0] - \
                   struct.unpack_from("<q", f.m, w.EVENTS + 16)[0] < w.N - 1:
                    f.write(w.EVENTS, ev)
                i += 1
        time.sleep(0.001)
    t.join()

def logs(path, prefix, n):
    w.SIZE = w.DICT + 64 + 64 * 1024
    f = w.File(path, w.now())
    sc = f.scope(b"hostile")
    for i in range(n):
        f.write(w.EVENTS, w.log_event(sc, b"%s-%d" % (prefix.encode(), i)))

if sys.argv[2] == "shrink":
    shrink(sys.argv[3], float(sys.argv[4]))
else:
    logs(sys.argv[3], sys.argv[4], int(sys.argv[5]))
P
h() { python3 "$TMP/h.py" "$WDIR" "$@"; }
has() { # BODY...: every body in the output
	python3 - "$OTF_OUT" "$@" <<'P'
import json, sys
b = set()
try:
    for l in open(sys.argv[1]):
        for rl in json.loads(l).get("resourceLogs", []):
            for sl in rl.get("scopeLogs", []):
                for lr in sl.get("logRecords", []):
                    b.add(lr.get("body", {}).get("stringValue"))
except (OSError, ValueError):
    pass
sys.exit(0 if all(x in b for x in sys.argv[2:]) else 1)
P
}
await() { # WHAT CMD...: retries CMD for 20 s
	local what=$1 i=0
	shift
	while [ $i -lt 200 ]; do
		"$@" && { ok "$what"; return 0; }
		otf_alive || { bad "$what: otflow is gone"; return 1; }
		sleep 0.1
		i=$((i + 1))
	done
	bad "$what (not within 20 s)"
	return 1
}
counter() {
	curl -s -m 2 "http://127.0.0.1:$MPORT/metrics" |
		awk -v n="otelcol_receiver_otlp_mmap_$1{receiver=\"otlp_mmap\"}" '$1 == n {print $2}'
}
corrupt_seen() { [ "$(counter corrupt_files)" -ge 1 ] 2>/dev/null; }
old_unmapped() { ! grep -qF "$1 (deleted)" "/proc/$OTF_PID/maps"; }

otf_start hostile "$TMP/c.yaml" || { bad "otflow did not start"; finish; }

# (a)
h shrink "$D/shrinking.mm" 4 || bad "shrinking writer failed"
otf_alive && ok "otflow survives a file shrinking under it" || bad "otflow died: $(tail -3 "$OTF_LOG")"
await "the shrinking file is counted corrupt" corrupt_seen
rm -f "$D/shrinking.mm"
h logs "$D/later.mm" later 5
await "a file written afterwards is served" has later-0 later-4

# (b)
h logs "$D/app.mm" first 5
await "first file's records arrive" has first-0 first-4
rm "$D/app.mm"
await "the deleted file is drained and no longer mapped" old_unmapped "$D/app.mm"
h logs "$D/app.mm" second 5
await "the re-created file's records arrive" has second-0 second-4
otf_stop
finish
