#!/bin/sh
# otflow validate / print-dag / components from the command line: valid
# configs pass, invalid ones exit 2 naming file, line and key.
set -u
. "$OTF_SOURCE_DIR/tests/support/check.sh"

check version 0 "otflow " "$OTF_BIN" --version
check help 0 "print-dag" "$OTF_BIN" --help
check unknown_command 2 "unknown command" "$OTF_BIN" frobnicate
check components 0 "exporter   file" "$OTF_BIN" components
check default_valid 0 "configuration is valid" "$OTF_BIN" validate --config "$OTF_SOURCE_DIR/examples/default.yaml"
check print_dag 0 "receiver receiver:otlp (type otlp)" "$OTF_BIN" print-dag --config "$OTF_SOURCE_DIR/examples/default.yaml"
check print_dag_dot 0 '"receiver:otlp" -> "exporter:debug"' "$OTF_BIN" print-dag --format dot --config "$OTF_SOURCE_DIR/examples/default.yaml"
check no_config 2 "--config FILE is required" "$OTF_BIN" validate

cat > "$tmp/typo.yaml" <<'Y'
receivers:
  otlp:
    protocols:
      http:
        endpoint: localhost:4318
        max_request_body_sise: 1MiB
exporters:
  debug:
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
Y
check unknown_key 2 "typo.yaml:6:9" "$OTF_BIN" validate --config "$tmp/typo.yaml"
check unknown_key_name 2 "max_request_body_sise" "$OTF_BIN" validate --config "$tmp/typo.yaml"

cat > "$tmp/type.yaml" <<'Y'
receivers:
  otlp:
    protocols: {http: {endpoint: localhost:4318}}
exporters:
  file:
    path: out.jsonl
    flush_interval: soon
service:
  pipelines:
    logs: {receivers: [otlp], exporters: [file]}
Y
check bad_duration 2 "type.yaml:7" "$OTF_BIN" validate --config "$tmp/type.yaml"

cat > "$tmp/undefined.yaml" <<'Y'
receivers:
  otlp:
    protocols: {http: }
exporters:
  debug:
service:
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [debug/missing]
Y
check undefined_ref 2 "'debug/missing' is not defined under exporters" "$OTF_BIN" validate --config "$tmp/undefined.yaml"
check syntax 2 "syntax.yaml:" sh -c "printf 'receivers: [\n' > '$tmp/syntax.yaml'; '$OTF_BIN' validate --config '$tmp/syntax.yaml'"
check missing_file 2 "nope.yaml" "$OTF_BIN" validate --config "$tmp/nope.yaml"

# merge: the second file overrides the endpoint; env expansion with default
cat > "$tmp/override.yaml" <<'Y'
receivers:
  otlp:
    protocols:
      http:
        endpoint: ${env:OTF_TEST_UNSET_ENDPOINT:-127.0.0.1:0}
Y
check merge_env 0 "configuration is valid" "$OTF_BIN" validate --config "$OTF_SOURCE_DIR/examples/default.yaml" --config "$tmp/override.yaml"
check grpc_valid 0 "configuration is valid" sh -c "printf 'receivers:\n  otlp:\n    protocols:\n      grpc:\nexporters:\n  debug:\nservice:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n' > '$tmp/grpc.yaml'; '$OTF_BIN' validate --config '$tmp/grpc.yaml'"
check grpc_bad_size 2 "protocols.grpc.max_recv_msg_size_mib" sh -c "printf 'receivers:\n  otlp:\n    protocols:\n      grpc: {max_recv_msg_size_mib: 0}\nexporters:\n  debug:\nservice:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n' > '$tmp/grpc.yaml'; '$OTF_BIN' validate --config '$tmp/grpc.yaml'"

check same_port 2 "is also the grpc endpoint" sh -c "printf 'receivers:\n  otlp:\n    protocols:\n      grpc: {endpoint: \"127.0.0.1:4317\"}\n      http: {endpoint: \"127.0.0.1:4317\"}\nexporters:\n  debug:\nservice:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n' > '$tmp/same.yaml'; '$OTF_BIN' validate --config '$tmp/same.yaml'"

check_done
