#!/usr/bin/env bash
# CFG of a router's table: a content_router's route condition changed
# through POST /api/v1/nodes/{id}/config on two workers. Before, tenant
# "acme" goes to file/acme and "zeta" to default (file/other); after the
# 200, "acme" goes to default and "zeta" to file/acme. Renaming a route
# (a port) is refused with 409 (test_admin_cfg has the other refusals).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export OTF_E2E_ADMIN_PORT
OTF_E2E_ADMIN_PORT=$(free_port)
cat > "$TMP/r.yaml" <<'Y'
nodes:
  otlp:
    kind: receiver
    type: otlp
    config:
      wait_for_result: true
      protocols: {http: {endpoint: "127.0.0.1:${env:OTF_E2E_PORT}"}}
  router:
    type: content_router
    config:
      routes:
        acme: 'attributes["tenant"] == "acme"'
  file/acme:
    kind: exporter
    type: file
    config: {path: "${env:OTF_E2E_OUT}.acme", format: json, flush_interval: 50ms}
  file/other:
    kind: exporter
    type: file
    config: {path: "${env:OTF_E2E_OUT}.other", format: json, flush_interval: 50ms}
connections:
  - {from: otlp, to: router}
  - {from: router.acme, to: file/acme}
  - {from: router.default, to: file/other}
extensions:
  health_check: {endpoint: "127.0.0.1:${env:OTF_E2E_HEALTH_PORT}"}
service:
  extensions: [health_check]
  admin: {endpoint: "127.0.0.1:${env:OTF_E2E_ADMIN_PORT}"}
  telemetry: {metrics: {level: none}}
runtime: {workers: 2}
Y
otf_start router "$TMP/r.yaml" || { bad "otflow did not start"; finish; }
send() { # TENANT BODY: one record, answered once the file exporter has it
	curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data \
		"{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"tenant\",\"value\":{\"stringValue\":\"$1\"}}]},\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":\"$2\"}}]}]}]}" \
		"$OTF_URL/v1/logs"
}
cfg() {
	curl -s -m 10 -o "$TMP/r.out" -w '%{http_code}' -XPOST -H 'Content-Type: application/yaml' \
		--data-binary "$1" "http://127.0.0.1:$OTF_E2E_ADMIN_PORT/api/v1/nodes/router/config"
}
# Several of each, so that both workers' instances are exercised.
for i in 1 2 3 4; do
	send acme "before-acme-$i" > /dev/null
	send zeta "before-zeta-$i" > /dev/null
done
expect_eq "new condition for route acme: 200" 200 "$(cfg "routes: {acme: 'attributes[\"tenant\"] == \"zeta\"'}")"
for i in 1 2 3 4; do
	send acme "after-acme-$i" > /dev/null
	send zeta "after-zeta-$i" > /dev/null
done
expect_eq "renaming a route (a port): 409" 409 "$(cfg "routes: {beta: 'true'}")"
otf_stop
bodies() { grep -o '"stringValue":"[a-z]*-[a-z]*-[0-9]"' "$OTF_OUT.$1" | cut -d'"' -f4 | sort | tr '\n' ' '; }
expect_eq "file/acme: acme before, zeta after" \
	"after-zeta-1 after-zeta-2 after-zeta-3 after-zeta-4 before-acme-1 before-acme-2 before-acme-3 before-acme-4 " \
	"$(bodies acme)"
expect_eq "file/other: zeta before, acme after" \
	"after-acme-1 after-acme-2 after-acme-3 after-acme-4 before-zeta-1 before-zeta-2 before-zeta-3 before-zeta-4 " \
	"$(bodies other)"
finish
