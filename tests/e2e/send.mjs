#!/usr/bin/env node
// Sends a fixed set of spans, log records and metrics to an OTLP/HTTP or
// OTLP/gRPC endpoint with the OpenTelemetry JS SDK, and prints on stdout a JSON
// description of exactly what the SDK exported: every record as the SDK
// handed it to the OTLP exporter (captured by wrapping the exporter), in a
// normalised form that check.mjs compares against otflow's file output.
//
//   node send.mjs --protocol proto|json --endpoint http://127.0.0.1:PORT
//                 [--compression none|gzip] [--run NAME]
//   node send.mjs --protocol grpc --endpoint 127.0.0.1:PORT
//                 [--compression none|gzip] [--run NAME]
//                 [--ca CA.pem [--cert CLIENT.pem --key CLIENT.key]]
//
// With --ca the gRPC exporters use TLS: grpc-js credentials.createSsl with
// that CA (and the client certificate for mTLS), endpoint https://host:port.
//
// proto and json are OTLP/HTTP (POST /v1/{traces,logs,metrics}); grpc is
// the SDK's OTLP/gRPC exporters (@grpc/grpc-js, plaintext h2c: the
// endpoint is host:port, or http://host:port).
//
// Exits non-zero when any export did not succeed.
import { context, trace, SpanKind, SpanStatusCode, TraceFlags, ValueType } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader, DataPointType } from '@opentelemetry/sdk-metrics';
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as TraceJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPLogExporter as LogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as LogsJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter as MetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as MetricsJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter as TraceGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPLogExporter as LogsGrpc } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPMetricExporter as MetricsGrpc } from '@opentelemetry/exporter-metrics-otlp-grpc';
// The grpc-js the OTLP gRPC exporters use (their dependency, hoisted).
import { credentials as grpcCredentials } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';

function parseArgs(argv) {
  const a = { protocol: 'proto', endpoint: 'http://127.0.0.1:4318', compression: 'none', run: '', ca: '', cert: '', key: '' };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (!k.startsWith('--') || v === undefined) throw new Error(`bad argument ${k}`);
    a[k.slice(2)] = v;
    i++;
  }
  if (!['proto', 'json', 'grpc'].includes(a.protocol)) throw new Error(`--protocol proto|json|grpc, not ${a.protocol}`);
  if (!['none', 'gzip'].includes(a.compression)) throw new Error('--compression none|gzip');
  if (!a.run) a.run = `${a.protocol}-${a.compression}`;
  return a;
}

const args = parseArgs(process.argv);
const base = args.endpoint.replace(/\/+$/, '');
const grpc = args.protocol === 'grpc';
// gRPC: the SDK takes an endpoint without a scheme as https (TLS); http://
// selects insecure credentials, which is what otflow serves.
const grpcUrl = /^[a-z]+:\/\//.test(base) ? base : `${args.ca ? 'https' : 'http'}://${base}`;
const grpcTls = args.ca
  ? {
      credentials: grpcCredentials.createSsl(readFileSync(args.ca),
        args.key ? readFileSync(args.key) : null, args.cert ? readFileSync(args.cert) : null),
    }
  : {};
const expCfg = (signal) => (grpc
  ? { url: grpcUrl, compression: args.compression, timeoutMillis: 10000, ...grpcTls }
  : { url: `${base}/v1/${signal}`, compression: args.compression, timeoutMillis: 10000 });

// ---- normalisation: SDK objects -> the OTLP/JSON shape check.mjs expects ----

const nanos = (hr) => (BigInt(hr[0]) * 1000000000n + BigInt(hr[1])).toString();

// AnyValue in a canonical form. OTLP maps JS numbers to intValue when
// integral and to doubleValue otherwise; Uint8Array to bytes, arrays to
// arrayValue, plain objects to kvlistValue.
function anyValue(v) {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  if (v instanceof Uint8Array) return { bytesValue: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  if (v !== null && typeof v === 'object') return { kvlistValue: { values: attrs(v) } };
  return {};
}
const attrs = (o) => Object.keys(o || {}).map((k) => ({ key: k, value: anyValue(o[k]) }));

// Span flags: W3C trace flags in the low byte, plus HAS_IS_REMOTE (0x100)
// and IS_REMOTE (0x200) as the OTLP specification defines them.
const spanFlags = (traceFlags, isRemote) => (traceFlags & 0xff) | 0x100 | (isRemote ? 0x200 : 0);

function scopeOf(s) {
  return { name: s.name, version: s.version || '' };
}

function spanDesc(s) {
  const ctx = s.spanContext();
  return {
    resource: attrs(s.resource.attributes),
    scope: scopeOf(s.instrumentationScope),
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: s.parentSpanContext?.spanId || '',
    traceState: ctx.traceState ? ctx.traceState.serialize() : '',
    flags: spanFlags(ctx.traceFlags, s.parentSpanContext?.isRemote),
    name: s.name,
    kind: s.kind + 1, // API enum starts at INTERNAL=0; OTLP has UNSPECIFIED=0
    startTimeUnixNano: nanos(s.startTime),
    endTimeUnixNano: nanos(s.endTime),
    attributes: attrs(s.attributes),
    droppedAttributesCount: s.droppedAttributesCount,
    events: s.events.map((e) => ({
      name: e.name,
      timeUnixNano: nanos(e.time),
      attributes: attrs(e.attributes),
      droppedAttributesCount: e.droppedAttributesCount || 0,
    })),
    droppedEventsCount: s.droppedEventsCount,
    links: s.links.map((l) => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
      traceState: l.context.traceState ? l.context.traceState.serialize() : '',
      flags: spanFlags(l.context.traceFlags, l.context.isRemote),
      attributes: attrs(l.attributes),
      droppedAttributesCount: l.droppedAttributesCount || 0,
    })),
    droppedLinksCount: s.droppedLinksCount,
    status: { code: s.status.code, message: s.status.message || '' },
  };
}

function logDesc(l) {
  return {
    resource: attrs(l.resource.attributes),
    scope: scopeOf(l.instrumentationScope),
    timeUnixNano: nanos(l.hrTime),
    observedTimeUnixNano: nanos(l.hrTimeObserved),
    severityNumber: l.severityNumber ?? 0,
    severityText: l.severityText || '',
    body: l.body === undefined ? null : anyValue(l.body),
    eventName: l.eventName || '',
    attributes: attrs(l.attributes),
    droppedAttributesCount: l.droppedAttributesCount,
    traceId: l.spanContext?.traceId || '',
    spanId: l.spanContext?.spanId || '',
    flags: l.spanContext ? l.spanContext.traceFlags : 0,
  };
}

// One entry per exported data point, with its metric's descriptor.
function metricDescs(rm) {
  const out = [];
  for (const sm of rm.scopeMetrics) {
    for (const m of sm.metrics) {
      const d = m.descriptor;
      const isInt = d.valueType === ValueType.INT;
      const num = (v) => (isInt ? { asInt: String(v) } : { asDouble: v });
      for (const p of m.dataPoints) {
        const e = {
          resource: attrs(rm.resource.attributes),
          scope: scopeOf(sm.scope),
          name: d.name,
          description: d.description || '',
          unit: d.unit || '',
          attributes: attrs(p.attributes),
          startTimeUnixNano: nanos(p.startTime),
          timeUnixNano: nanos(p.endTime),
        };
        if (m.dataPointType === DataPointType.SUM) {
          e.type = 'sum';
          e.aggregationTemporality = m.aggregationTemporality === 0 ? 1 : 2; // SDK DELTA=0,CUMULATIVE=1
          e.isMonotonic = !!m.isMonotonic;
          Object.assign(e, num(p.value));
        } else if (m.dataPointType === DataPointType.GAUGE) {
          e.type = 'gauge';
          Object.assign(e, num(p.value));
        } else if (m.dataPointType === DataPointType.HISTOGRAM) {
          e.type = 'histogram';
          e.aggregationTemporality = m.aggregationTemporality === 0 ? 1 : 2;
          e.count = String(p.value.count);
          e.sum = p.value.sum;
          e.min = p.value.min;
          e.max = p.value.max;
          e.bucketCounts = p.value.buckets.counts.map(String);
          e.explicitBounds = p.value.buckets.boundaries.slice();
        } else {
          throw new Error(`unexpected data point type ${m.dataPointType} for ${d.name}`);
        }
        out.push(e);
      }
    }
  }
  return out;
}

// ---- exporters wrapped to capture exactly what is exported ----

const failures = [];
const requests = { traces: 0, logs: 0, metrics: 0 };

function capture(signal, inner, sink, describe) {
  const w = {
    export(items, done) {
      requests[signal]++;
      inner.export(items, (res) => {
        if (res.code !== 0) {
          failures.push(`${signal} export failed: ${res.error ? res.error.message || res.error : 'code ' + res.code}`);
        } else {
          sink.push(...describe(items));
        }
        done(res);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => (inner.forceFlush ? inner.forceFlush() : Promise.resolve()),
  };
  // Metric exporters also choose temporality and aggregation.
  if (inner.selectAggregationTemporality) w.selectAggregationTemporality = (t) => inner.selectAggregationTemporality(t);
  if (inner.selectAggregation) w.selectAggregation = (t) => inner.selectAggregation(t);
  return w;
}

const json = args.protocol === 'json';
const pick = (Proto, Json, Grpc, signal) => {
  const Exporter = grpc ? Grpc : json ? Json : Proto;
  return new Exporter(expCfg(signal));
};
const sent = { protocol: args.protocol, compression: args.compression, run: args.run, spans: [], logs: [], metrics: [] };

const resource = resourceFromAttributes({
  'service.name': 'otflow-e2e',
  'service.version': '1.2.3',
  'service.instance.id': `e2e-${args.run}`,
  'deployment.environment.name': 'test',
  'e2e.run': args.run,
  'e2e.protocol': args.protocol,
  'host.cpu.count': 8,
  'e2e.ratio': 0.75,
});

const tracerProvider = new BasicTracerProvider({
  resource,
  spanProcessors: [
    new BatchSpanProcessor(
      capture('traces', pick(TraceProto, TraceJson, TraceGrpc, 'traces'), sent.spans,
        (spans) => spans.map(spanDesc)),
      { maxExportBatchSize: 3, scheduledDelayMillis: 50 },
    ),
  ],
});
const loggerProvider = new LoggerProvider({
  resource,
  processors: [
    new BatchLogRecordProcessor(
      capture('logs', pick(LogsProto, LogsJson, LogsGrpc, 'logs'), sent.logs,
        (logs) => logs.map(logDesc)),
      { maxExportBatchSize: 4, scheduledDelayMillis: 50 },
    ),
  ],
});
const metricReader = new PeriodicExportingMetricReader({
  exporter: capture('metrics', pick(MetricsProto, MetricsJson, MetricsGrpc, 'metrics'),
    sent.metrics, (rms) => (Array.isArray(rms) ? rms : [rms]).flatMap(metricDescs)),
  exportIntervalMillis: 3600000, // only the explicit flush below exports
  exportTimeoutMillis: 10000,
});
const meterProvider = new MeterProvider({ resource, readers: [metricReader] });

// ---- traces ----
const tracer = tracerProvider.getTracer('otflow.e2e.tracer', '0.9.1');

// A fixed start time with every nanosecond digit set, to test precision.
const t0 = [Math.floor(Date.now() / 1000) - 60, 123456789];
const at = (ms) => {
  const ns = t0[1] + ms * 1000000;
  return [t0[0] + Math.floor(ns / 1e9), ns % 1e9];
};

const root = tracer.startSpan('GET /orders/{id}', {
  kind: SpanKind.SERVER,
  startTime: t0,
  attributes: {
    'http.request.method': 'GET',
    'http.response.status_code': 500,
    'url.path': '/orders/42',
    'e2e.double': 0.1 + 0.2,
    'e2e.negative': -42,
    'e2e.max_safe': Number.MAX_SAFE_INTEGER,
    'e2e.bool': true,
    'e2e.false': false,
    'e2e.strings': ['a', 'b', 'ünïcødé ✓'],
    'e2e.ints': [1, -2, 3],
    'e2e.doubles': [1.5, -2.25, 1e-7],
    'e2e.bools': [true, false],
    'e2e.empty': '',
    'e2e.quote': 'line1\nline2\t"quoted" \\ back',
  },
});
root.addEvent('exception', {
  'exception.type': 'TimeoutError',
  'exception.message': 'upstream timed out',
  'exception.escaped': false,
  'retry.count': 3,
}, at(5));
root.addEvent('no-attrs', at(6));
root.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream timed out after 3 retries' });
const rootCtx = trace.setSpan(context.active(), root);

const client = tracer.startSpan('SELECT orders', {
  kind: SpanKind.CLIENT,
  startTime: at(1),
  attributes: { 'db.system.name': 'postgresql', 'db.response.returned_rows': 1, 'server.port': 5432 },
}, rootCtx);
client.setStatus({ code: SpanStatusCode.OK });
client.end(at(4));
const clientCtx = trace.setSpan(rootCtx, client);

const internal = tracer.startSpan('compute-price', {
  kind: SpanKind.INTERNAL,
  links: [
    { context: client.spanContext(), attributes: { 'link.reason': 'caused-by', 'link.weight': 2.5 } },
    {
      context: {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
        traceState: new TraceState('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'),
      },
      attributes: { 'link.remote': true },
    },
  ],
}, clientCtx);
internal.addEvent('cache miss', { 'cache.key': 'price:42', 'cache.ttl_s': 300 });
internal.setAttribute('e2e.late', 'set after start');
internal.end();
root.end(at(9));

// A span whose parent is remote, with a trace state: flags carry IS_REMOTE.
const remoteParent = trace.setSpanContext(context.active(), {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
  traceState: new TraceState('vendor=opaque-value'),
});
const consumer = tracer.startSpan('process message', {
  kind: SpanKind.CONSUMER,
  attributes: { 'messaging.system': 'kafka', 'messaging.batch.message_count': 7 },
}, remoteParent);
consumer.end();
const producer = tracer.startSpan('publish', { kind: SpanKind.PRODUCER }, trace.setSpan(context.active(), consumer));
producer.end();

// ---- logs ----
const logger = loggerProvider.getLogger('otflow.e2e.logger', '2.0.0');
let seq = 0;
logger.emit({
  severityNumber: SeverityNumber.INFO,
  severityText: 'INFO',
  body: 'order 42 accepted',
  timestamp: at(2),
  attributes: { 'e2e.seq': seq++, 'order.id': 42, 'order.total': 99.95, 'order.express': true },
});
logger.emit({
  severityNumber: SeverityNumber.ERROR,
  severityText: 'ERROR',
  body: 'upstream timed out',
  timestamp: at(5),
  context: rootCtx,
  attributes: { 'e2e.seq': seq++, 'exception.type': 'TimeoutError', 'tags': ['db', 'slow'] },
});
logger.emit({
  severityNumber: SeverityNumber.WARN2,
  severityText: 'WARN2',
  body: { kind: 'structured', count: 3, ratio: 0.5, nested: { ok: false, list: [1, 'two', 3.5] } },
  context: clientCtx,
  attributes: { 'e2e.seq': seq++, 'e2e.map': { a: 1, b: 'x' } },
});
logger.emit({
  severityNumber: SeverityNumber.DEBUG,
  body: new Uint8Array([0, 1, 2, 253, 254, 255]),
  attributes: { 'e2e.seq': seq++ },
});
logger.emit({
  eventName: 'e2e.checkout',
  severityNumber: SeverityNumber.FATAL4,
  severityText: 'FATAL4',
  body: 'multi-line\nbody with "quotes" and ünïcødé',
  attributes: { 'e2e.seq': seq++ },
});
logger.emit({ attributes: { 'e2e.seq': seq++, 'e2e.nobody': true } });

// ---- metrics ----
const meter = meterProvider.getMeter('otflow.e2e.meter', '3.0.0');
const requestsCounter = meter.createCounter('e2e.requests', {
  description: 'Requests handled', unit: '{request}', valueType: ValueType.INT,
});
requestsCounter.add(5, { route: '/a' });
requestsCounter.add(7, { route: '/b', 'http.response.status_code': 200 });
requestsCounter.add(1, { route: '/a' });
const bytesCounter = meter.createCounter('e2e.bytes', { description: 'Bytes', unit: 'By' });
bytesCounter.add(1536.25);
const inflight = meter.createUpDownCounter('e2e.inflight', { valueType: ValueType.INT });
inflight.add(3);
inflight.add(-1);
const latency = meter.createHistogram('e2e.latency', {
  description: 'Latency', unit: 'ms', advice: { explicitBucketBoundaries: [0, 5, 10, 25, 100] },
});
for (const v of [0.5, 3, 7, 7, 12.5, 30, 250]) latency.record(v, { route: '/a' });
latency.record(42, { route: '/b' });
const temperature = meter.createGauge('e2e.temperature', { unit: 'Cel' });
temperature.record(21.5, { room: 'lab' });
temperature.record(-3.25, { room: 'outside' });
const queueDepth = meter.createObservableGauge('e2e.queue.depth', { valueType: ValueType.INT });
queueDepth.addCallback((r) => {
  r.observe(17, { queue: 'q1' });
  r.observe(0, { queue: 'q2' });
});

// ---- export everything ----
await tracerProvider.forceFlush();
await loggerProvider.forceFlush();
await metricReader.forceFlush();
await Promise.all([tracerProvider.shutdown(), loggerProvider.shutdown(), meterProvider.shutdown()]);

sent.requests = requests;
process.stdout.write(JSON.stringify(sent, null, 1) + '\n');
if (failures.length) {
  for (const f of failures) process.stderr.write(`send.mjs: ${f}\n`);
  process.exit(1);
}
const want = { spans: 5, logs: 6 };
for (const [k, n] of Object.entries(want)) {
  if (sent[k].length !== n) {
    process.stderr.write(`send.mjs: exported ${sent[k].length} ${k}, expected ${n}\n`);
    process.exit(1);
  }
}
if (sent.metrics.length < 9) {
  process.stderr.write(`send.mjs: exported ${sent.metrics.length} data points, expected at least 9\n`);
  process.exit(1);
}
