#!/usr/bin/env bash
# REB (resource budget) end to end, real processes and sockets: otflow's
# OTLP/HTTP receiver (wait_for_result false: 200 once the message is in the
# pipeline) in front of an otlphttp exporter whose sending queue holds 5
# requests (Collector default wait_for_result false: acknowledged once
# queued) and whose backend is down (connection refused, retried forever).
#  1. The queue fills, publishes budget 0, the receiver refuses the next
#     request at once: 503 with Retry-After, measured (< 100 ms from the
#     last 200 to the 503). Without REB the receiver answered 200 and the
#     full queue dropped the request: accepted, then lost.
#  2. The refused connection reads nothing more: a client that keeps
#     sending on it is held back by TCP (the kernel buffers take a few MB
#     at most of the 64 MB it tries) and otflow's RSS stays flat.
#  3. Backend up: the queue drains, the budget returns, requests are
#     accepted again, and every span answered 200 reaches the backend
#     (span names compared).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BACK=$(free_port)
RX=$(free_port)
HEALTH=$(free_port)

cat > "$TMP/back.py" <<'PY'
import http.server, sys
port, log = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(log, "ab") as f:
            f.write(body + b"\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY

cat > "$TMP/otflow.yaml" <<Y
receivers:
  otlp:
    wait_for_result: false
    protocols: {http: {endpoint: "127.0.0.1:$RX"}}
exporters:
  otlphttp:
    endpoint: "http://127.0.0.1:$BACK"
    encoding: json
    compression: none
    timeout: 2s
    retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 0s}
    sending_queue: {queue_size: 5, num_consumers: 1}
extensions:
  health_check: {endpoint: "127.0.0.1:$HEALTH"}
service:
  extensions: [health_check]
  admin: {endpoint: ""}
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], exporters: [otlphttp]}
runtime: {workers: 1}
Y

"$OTF_BIN" --config "$TMP/otflow.yaml" > "$TMP/otflow.log" 2>&1 &
PID=$!
track "$PID"
up=0
for _ in $(seq 100); do
	[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HEALTH/")" = 200 ] && { up=1; break; }
	sleep 0.1
done
[ $up = 1 ] || { bad "otflow did not come up"; tail -20 "$TMP/otflow.log"; finish; }

cat > "$TMP/client.py" <<'PY'
import http.client, json, os, socket, sys, time
rx, pid, phase, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]

def body(name, pad=0):
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "00000000000000a1",
        "name": name + "x" * pad, "startTimeUnixNano": "1", "endTimeUnixNano": "2"}]}]}]}).encode()

def post(name, timeout=5):
    c = http.client.HTTPConnection("127.0.0.1", rx, timeout=timeout)
    t0 = time.monotonic()
    c.request("POST", "/v1/traces", body(name), {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    t1 = time.monotonic()
    ra = r.getheader("Retry-After")
    c.close()
    return r.status, ra, t0, t1

def rss_kb():
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

res = {}
if phase == "fill":
    accepted, first_refused = [], None
    last_ok_t = None
    for i in range(1, 40):
        st, ra, t0, t1 = post("reb-a%d" % i)
        if st == 200:
            accepted.append("reb-a%d" % i)
            last_ok_t = t1
        else:
            first_refused = {"status": st, "retry_after": ra,
                             "latency_ms": (t1 - t0) * 1000,
                             "since_last_200_ms": (t1 - last_ok_t) * 1000 if last_ok_t else -1}
            break
    res = {"accepted": accepted, "refused": first_refused}
elif phase == "flood":
    # One connection: a request is refused (the connection is then held),
    # then we keep writing requests on it without reading for 2 s.
    s = socket.create_connection(("127.0.0.1", rx))
    b = body("reb-flood", 60000)
    req = (b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\n\r\n" % len(b)) + b
    s.sendall(req)
    s.settimeout(2)
    first = s.recv(65536).split(b"\r\n", 1)[0].decode()
    rss0 = rss_kb()
    s.setblocking(False)
    sent, tried, t_end = 0, 0, time.monotonic() + 2.0
    buf = req * 16
    while time.monotonic() < t_end and tried < 64 * 1024 * 1024:
        try:
            n = s.send(buf)
            sent += n
            tried += n
        except BlockingIOError:
            time.sleep(0.01)
            tried += len(buf)
    time.sleep(0.2)
    rss1 = rss_kb()
    # Still held: nothing more was answered on this connection.
    try:
        more = s.recv(65536)
    except BlockingIOError:
        more = b""
    s.close()
    res = {"first": first, "sent_bytes": sent, "rss0_kb": rss0, "rss1_kb": rss1,
           "answered_more": len(more)}
elif phase == "after":
    accepted, t_end = [], time.monotonic() + 15
    i = 0
    while time.monotonic() < t_end and len(accepted) < 5:
        i += 1
        st, ra, t0, t1 = post("reb-c%d" % i)
        if st == 200:
            accepted.append("reb-c%d" % i)
        else:
            time.sleep(0.1)
    res = {"accepted": accepted}
json.dump(res, open(out, "w"))
PY

python3 "$TMP/client.py" "$RX" "$PID" fill "$TMP/fill.json" || bad "fill client failed"
read -r n_acc st ra lat since < <(python3 -c '
import json,sys; r=json.load(open(sys.argv[1])); f=r["refused"] or {}
print(len(r["accepted"]), f.get("status"), f.get("retry_after"), round(f.get("latency_ms",-1),1), round(f.get("since_last_200_ms",-1),1))' "$TMP/fill.json")
echo "figures: accepted before push-back $n_acc; refusal $st Retry-After $ra; its latency $lat ms; ${since} ms after the last 200"
expect_eq "queue of 5 requests: 5 accepted, then refused" 5 "$n_acc"
expect_eq "refusal is 503" 503 "$st"
[ -n "$ra" ] && [ "$ra" != None ] && ok "Retry-After given ($ra)" || bad "no Retry-After"
python3 -c "import sys; sys.exit(0 if 0 <= float('$since') < 100 else 1)" &&
	ok "push-back within 100 ms of the queue filling ($since ms)" ||
	bad "push-back took $since ms after the last 200 (want < 100)"

python3 "$TMP/client.py" "$RX" "$PID" flood "$TMP/flood.json" || bad "flood client failed"
read -r first sent rss0 rss1 more < <(python3 -c '
import json,sys; r=json.load(open(sys.argv[1]))
print(r["first"].replace(" ","_"), r["sent_bytes"], r["rss0_kb"], r["rss1_kb"], r["answered_more"])' "$TMP/flood.json")
echo "figures: flood: first answer $first; kernel took $sent bytes of 64 MiB tried in 2 s; RSS $rss0 -> $rss1 KiB"
case "$first" in *503*) ok "flood connection refused with 503" ;; *) bad "flood first answer: $first" ;; esac
[ "$sent" -lt $((16 * 1024 * 1024)) ] && ok "held connection not read: $sent bytes buffered (< 16 MiB)" ||
	bad "held connection took $sent bytes: otflow kept reading"
expect_eq "nothing more answered on the held connection" 0 "$more"
[ $((rss1 - rss0)) -lt 8192 ] && ok "RSS flat while the client keeps sending ($rss0 -> $rss1 KiB)" ||
	bad "RSS grew $rss0 -> $rss1 KiB"

python3 "$TMP/back.py" "$BACK" "$TMP/back.log" &
BPID=$!
track "$BPID"
python3 "$TMP/client.py" "$RX" "$PID" after "$TMP/after.json" || bad "after client failed"
n_after=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["accepted"]))' "$TMP/after.json")
expect_eq "backend back: accepted again" 5 "$n_after"

# Every span answered 200 reaches the backend (the queue retried them).
want=$(python3 -c 'import json,sys; print(" ".join(sorted(json.load(open(sys.argv[1]))["accepted"] + json.load(open(sys.argv[2]))["accepted"])))' "$TMP/fill.json" "$TMP/after.json")
got=""
for _ in $(seq 100); do
	got=$(python3 -c '
import json,sys,re
names=set()
for line in open(sys.argv[1],"rb"):
    line=line.strip()
    if not line: continue
    d=json.loads(line)
    for rs in d.get("resourceSpans",[]):
        for ss in rs.get("scopeSpans",[]):
            for sp in ss.get("spans",[]):
                n=sp.get("name","")
                if re.fullmatch(r"reb-[ac]\d+", n): names.add(n)
print(" ".join(sorted(names)))' "$TMP/back.log" 2>/dev/null)
	[ "$got" = "$want" ] && break
	sleep 0.1
done
expect_eq "every accepted span delivered once the backend is back" "$want" "$got"

kill -TERM "$PID"
wait_pid "$PID" 20
expect_eq "otflow exits 0 on SIGTERM" 0 "$?"
finish
