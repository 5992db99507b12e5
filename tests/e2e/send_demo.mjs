#!/usr/bin/env node
// Sends spans shaped like the OpenTelemetry demo's frontend (Next.js) to an
// OTLP/HTTP protobuf endpoint with the OpenTelemetry JS SDK, and prints on
// stdout a JSON description of what the SDK exported (captured by wrapping
// the exporter): per span its name, kind, status code and attributes, and
// the resource's service.name. e2e_demo_transform.sh compares otflow's
// output (after the demo's transform statements and spanmetrics) with it.
//
//   node send_demo.mjs --endpoint http://127.0.0.1:PORT
//
// Exits non-zero when an export did not succeed.
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';

let endpoint = 'http://127.0.0.1:4318';
for (let i = 2; i < process.argv.length; i += 2) {
  if (process.argv[i] !== '--endpoint' || process.argv[i + 1] === undefined) {
    throw new Error(`bad argument ${process.argv[i]}`);
  }
  endpoint = process.argv[i + 1].replace(/\/+$/, '');
}

const failures = [];
const sent = { spans: [] };
const exporter = new OTLPTraceExporter({ url: `${endpoint}/v1/traces`, timeoutMillis: 10000 });
const capture = {
  export(spans, done) {
    exporter.export(spans, (res) => {
      if (res.code !== 0) {
        failures.push(`export failed: ${res.error ? res.error.message || res.error : res.code}`);
      } else {
        for (const s of spans) {
          sent.spans.push({
            service: s.resource.attributes['service.name'],
            name: s.name,
            kind: s.kind,
            status: s.status.code,
            attributes: s.attributes,
          });
        }
      }
      done(res);
    });
  },
  shutdown: () => exporter.shutdown(),
  forceFlush: () => exporter.forceFlush(),
};

const providers = [];
function tracerOf(service) {
  const p = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'service.namespace': 'opentelemetry-demo' }),
    spanProcessors: [new BatchSpanProcessor(capture, { maxExportBatchSize: 5, scheduledDelayMillis: 20 })],
  });
  providers.push(p);
  return p.getTracer('next.js', '0.0.1');
}

const frontend = tracerOf('frontend');
const checkout = tracerOf('checkout');
// What the demo's browser traffic gives the frontend: product pages with
// ids, the cart with a session query string, checkout; 3 rounds.
const products = ['OLJCESPC7Z', '66VCHSJNUP', '1YMWWN1N4O'];
for (let round = 0; round < 3; round++) {
  for (const id of products) {
    const s = frontend.startSpan(`GET /api/products/${id}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.method': 'GET', 'http.target': `/api/products/${id}`, 'http.status_code': 200 },
    });
    s.end();
  }
  const q = frontend.startSpan(`GET /api/products/${products[round]}?currencyCode=USD`, {
    kind: SpanKind.SERVER,
    attributes: { 'http.method': 'GET', 'app.currency': 'USD' },
  });
  q.end();
  const cart = frontend.startSpan(`GET /api/cart?sessionId=s-${round}&currencyCode=EUR`, {
    kind: SpanKind.SERVER,
    attributes: { 'http.method': 'GET', 'app.session.id': `s-${round}` },
  });
  cart.end();
  const co = frontend.startSpan('POST /api/checkout', { kind: SpanKind.SERVER, attributes: { 'http.method': 'POST' } });
  if (round === 2) co.setStatus({ code: SpanStatusCode.ERROR, message: 'payment declined' });
  co.end();
  const po = checkout.startSpan('oteldemo.CheckoutService/PlaceOrder', {
    kind: SpanKind.SERVER,
    attributes: { 'rpc.system': 'grpc', 'app.order.items.count': round + 1 },
  });
  po.end();
}
for (const p of providers) await p.forceFlush();
for (const p of providers) await p.shutdown();
if (failures.length) {
  process.stderr.write(failures.join('\n') + '\n');
  process.exit(1);
}
process.stdout.write(JSON.stringify(sent) + '\n');
