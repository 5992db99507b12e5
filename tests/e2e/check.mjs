#!/usr/bin/env node
// Compares otflow's file exporter output (OTLP/JSON, one request per line)
// with what was sent.
//
//   node check.mjs sdk OUT.jsonl SENT.json [SENT.json ...]
//     SENT.json are send.mjs descriptions. Every span, log record and metric
//     data point described must be in OUT exactly once with every field
//     equal (ids, names, attributes, timestamps, values), and OUT must hold
//     nothing else. The file is also checked to be canonical OTLP/JSON: hex
//     ids, 64-bit integers as strings, lowerCamelCase keys only.
//
//   node check.mjs same OUT.jsonl EXPECTED.json [EXPECTED.json ...]
//     Each line of OUT and each EXPECTED document (one OTLP/JSON request
//     each) must match one to one, content-equal (fields holding their
//     default value count as absent, 64-bit integers compare as numbers).
//
// Prints the differences and exits 1 on any mismatch.
import { readFileSync } from 'node:fs';

const problems = [];
const problem = (m) => problems.push(m);

function readLines(path) {
  const text = readFileSync(path, 'utf8');
  const out = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push({ where: `${path}:${i + 1}`, doc: JSON.parse(line) });
    } catch (e) {
      problem(`${path}:${i + 1}: not JSON: ${e.message}`);
    }
  });
  return out;
}

// ---------------------------------------------------------------- strict reader

// Reads an OTLP/JSON document as otflow must write it, records every
// deviation from canonical OTLP/JSON, and returns normalised records in the
// shape send.mjs describes.
class Reader {
  constructor(where) {
    this.where = where;
  }

  bad(path, msg) {
    problem(`${this.where}: ${path}: ${msg}`);
  }

  keys(path, obj, allowed) {
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      this.bad(path, `expected an object, got ${JSON.stringify(obj)}`);
      return {};
    }
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) this.bad(path, `unexpected key "${k}" (allowed: ${allowed.join(', ')})`);
    }
    return obj;
  }

  list(path, v) {
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.bad(path, `expected an array, got ${JSON.stringify(v)}`);
      return [];
    }
    return v;
  }

  str(path, v) {
    if (v === undefined) return '';
    if (typeof v !== 'string') this.bad(path, `expected a string, got ${JSON.stringify(v)}`);
    return String(v);
  }

  // 64-bit integers: OTLP/JSON writes them as decimal strings.
  int64(path, v, unsigned = false) {
    if (v === undefined) return '0';
    if (typeof v !== 'string') {
      this.bad(path, `64-bit integer must be a JSON string, got ${JSON.stringify(v)}`);
      return String(v);
    }
    if (!(unsigned ? /^(0|[1-9][0-9]*)$/ : /^(0|-?[1-9][0-9]*)$/).test(v)) this.bad(path, `not a canonical integer: "${v}"`);
    return v;
  }

  // 32-bit integers and enums: JSON numbers.
  int32(path, v) {
    if (v === undefined) return 0;
    if (typeof v !== 'number' || !Number.isInteger(v)) this.bad(path, `expected an integer number, got ${JSON.stringify(v)}`);
    return v;
  }

  num(path, v) {
    if (typeof v !== 'number') this.bad(path, `expected a number, got ${JSON.stringify(v)}`);
    return v;
  }

  bool(path, v) {
    if (v === undefined) return false;
    if (typeof v !== 'boolean') this.bad(path, `expected a boolean, got ${JSON.stringify(v)}`);
    return v;
  }

  hexId(path, v, bytes) {
    if (v === undefined) return '';
    if (typeof v !== 'string' || !new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(v)) {
      this.bad(path, `expected ${bytes} bytes as lowercase hex, got ${JSON.stringify(v)}`);
    }
    return String(v);
  }

  anyValue(path, v) {
    const o = this.keys(path, v, ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue']);
    const ks = Object.keys(o);
    if (ks.length > 1) this.bad(path, `AnyValue with several values: ${ks.join(', ')}`);
    if (ks.length === 0) return {};
    const k = ks[0];
    const x = o[k];
    switch (k) {
      case 'stringValue': return { stringValue: this.str(`${path}.stringValue`, x) };
      case 'boolValue': return { boolValue: this.bool(`${path}.boolValue`, x) };
      case 'intValue': return { intValue: this.int64(`${path}.intValue`, x) };
      case 'doubleValue': return { doubleValue: this.num(`${path}.doubleValue`, x) };
      case 'bytesValue': {
        const s = this.str(`${path}.bytesValue`, x);
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4) this.bad(`${path}.bytesValue`, `not standard base64: "${s}"`);
        return { bytesValue: s };
      }
      case 'arrayValue': {
        const a = this.keys(`${path}.arrayValue`, x, ['values']);
        return { arrayValue: { values: this.list(`${path}.arrayValue.values`, a.values).map((e, i) => this.anyValue(`${path}.arrayValue.values[${i}]`, e)) } };
      }
      default: {
        const a = this.keys(`${path}.kvlistValue`, x, ['values']);
        return { kvlistValue: { values: this.attrs(`${path}.kvlistValue.values`, a.values) } };
      }
    }
  }

  attrs(path, v) {
    return this.list(path, v).map((kv, i) => {
      const o = this.keys(`${path}[${i}]`, kv, ['key', 'value']);
      return { key: this.str(`${path}[${i}].key`, o.key), value: o.value === undefined ? {} : this.anyValue(`${path}[${i}].value`, o.value) };
    });
  }

  resource(path, v) {
    const o = this.keys(path, v || {}, ['attributes', 'droppedAttributesCount', 'entityRefs']);
    if (o.droppedAttributesCount) this.bad(path, `droppedAttributesCount ${o.droppedAttributesCount}`);
    return this.attrs(`${path}.attributes`, o.attributes);
  }

  scope(path, v) {
    const o = this.keys(path, v || {}, ['name', 'version', 'attributes', 'droppedAttributesCount']);
    return { name: this.str(`${path}.name`, o.name), version: this.str(`${path}.version`, o.version) };
  }

  spans(doc) {
    const out = [];
    const top = this.keys('', doc, ['resourceSpans']);
    this.list('resourceSpans', top.resourceSpans).forEach((rs, i) => {
      const p = `resourceSpans[${i}]`;
      const r = this.keys(p, rs, ['resource', 'scopeSpans', 'schemaUrl']);
      const resource = this.resource(`${p}.resource`, r.resource);
      this.list(`${p}.scopeSpans`, r.scopeSpans).forEach((ss, j) => {
        const q = `${p}.scopeSpans[${j}]`;
        const s = this.keys(q, ss, ['scope', 'spans', 'schemaUrl']);
        const scope = this.scope(`${q}.scope`, s.scope);
        this.list(`${q}.spans`, s.spans).forEach((sp, k) => out.push(this.span(`${q}.spans[${k}]`, sp, resource, scope)));
      });
    });
    return out;
  }

  span(p, v, resource, scope) {
    const s = this.keys(p, v, ['traceId', 'spanId', 'traceState', 'parentSpanId', 'flags', 'name', 'kind',
      'startTimeUnixNano', 'endTimeUnixNano', 'attributes', 'droppedAttributesCount', 'events',
      'droppedEventsCount', 'links', 'droppedLinksCount', 'status']);
    const st = this.keys(`${p}.status`, s.status || {}, ['code', 'message']);
    return {
      resource,
      scope,
      traceId: this.hexId(`${p}.traceId`, s.traceId, 16),
      spanId: this.hexId(`${p}.spanId`, s.spanId, 8),
      parentSpanId: this.hexId(`${p}.parentSpanId`, s.parentSpanId, 8),
      traceState: this.str(`${p}.traceState`, s.traceState),
      flags: this.int32(`${p}.flags`, s.flags),
      name: this.str(`${p}.name`, s.name),
      kind: this.int32(`${p}.kind`, s.kind),
      startTimeUnixNano: this.int64(`${p}.startTimeUnixNano`, s.startTimeUnixNano, true),
      endTimeUnixNano: this.int64(`${p}.endTimeUnixNano`, s.endTimeUnixNano, true),
      attributes: this.attrs(`${p}.attributes`, s.attributes),
      droppedAttributesCount: this.int32(`${p}.droppedAttributesCount`, s.droppedAttributesCount),
      events: this.list(`${p}.events`, s.events).map((ev, i) => {
        const q = `${p}.events[${i}]`;
        const e = this.keys(q, ev, ['timeUnixNano', 'name', 'attributes', 'droppedAttributesCount']);
        return {
          name: this.str(`${q}.name`, e.name),
          timeUnixNano: this.int64(`${q}.timeUnixNano`, e.timeUnixNano, true),
          attributes: this.attrs(`${q}.attributes`, e.attributes),
          droppedAttributesCount: this.int32(`${q}.droppedAttributesCount`, e.droppedAttributesCount),
        };
      }),
      droppedEventsCount: this.int32(`${p}.droppedEventsCount`, s.droppedEventsCount),
      links: this.list(`${p}.links`, s.links).map((lk, i) => {
        const q = `${p}.links[${i}]`;
        const l = this.keys(q, lk, ['traceId', 'spanId', 'traceState', 'attributes', 'droppedAttributesCount', 'flags']);
        return {
          traceId: this.hexId(`${q}.traceId`, l.traceId, 16),
          spanId: this.hexId(`${q}.spanId`, l.spanId, 8),
          traceState: this.str(`${q}.traceState`, l.traceState),
          flags: this.int32(`${q}.flags`, l.flags),
          attributes: this.attrs(`${q}.attributes`, l.attributes),
          droppedAttributesCount: this.int32(`${q}.droppedAttributesCount`, l.droppedAttributesCount),
        };
      }),
      droppedLinksCount: this.int32(`${p}.droppedLinksCount`, s.droppedLinksCount),
      status: { code: this.int32(`${p}.status.code`, st.code), message: this.str(`${p}.status.message`, st.message) },
    };
  }

  logs(doc) {
    const out = [];
    const top = this.keys('', doc, ['resourceLogs']);
    this.list('resourceLogs', top.resourceLogs).forEach((rl, i) => {
      const p = `resourceLogs[${i}]`;
      const r = this.keys(p, rl, ['resource', 'scopeLogs', 'schemaUrl']);
      const resource = this.resource(`${p}.resource`, r.resource);
      this.list(`${p}.scopeLogs`, r.scopeLogs).forEach((sl, j) => {
        const q = `${p}.scopeLogs[${j}]`;
        const s = this.keys(q, sl, ['scope', 'logRecords', 'schemaUrl']);
        const scope = this.scope(`${q}.scope`, s.scope);
        this.list(`${q}.logRecords`, s.logRecords).forEach((lr, k) => {
          const x = `${q}.logRecords[${k}]`;
          const l = this.keys(x, lr, ['timeUnixNano', 'observedTimeUnixNano', 'severityNumber', 'severityText',
            'body', 'attributes', 'droppedAttributesCount', 'flags', 'traceId', 'spanId', 'eventName']);
          out.push({
            resource,
            scope,
            timeUnixNano: this.int64(`${x}.timeUnixNano`, l.timeUnixNano, true),
            observedTimeUnixNano: this.int64(`${x}.observedTimeUnixNano`, l.observedTimeUnixNano, true),
            severityNumber: this.int32(`${x}.severityNumber`, l.severityNumber),
            severityText: this.str(`${x}.severityText`, l.severityText),
            body: l.body === undefined ? null : this.anyValue(`${x}.body`, l.body),
            eventName: this.str(`${x}.eventName`, l.eventName),
            attributes: this.attrs(`${x}.attributes`, l.attributes),
            droppedAttributesCount: this.int32(`${x}.droppedAttributesCount`, l.droppedAttributesCount),
            traceId: this.hexId(`${x}.traceId`, l.traceId, 16),
            spanId: this.hexId(`${x}.spanId`, l.spanId, 8),
            flags: this.int32(`${x}.flags`, l.flags),
          });
        });
      });
    });
    return out;
  }

  metrics(doc) {
    const out = [];
    const top = this.keys('', doc, ['resourceMetrics']);
    this.list('resourceMetrics', top.resourceMetrics).forEach((rm, i) => {
      const p = `resourceMetrics[${i}]`;
      const r = this.keys(p, rm, ['resource', 'scopeMetrics', 'schemaUrl']);
      const resource = this.resource(`${p}.resource`, r.resource);
      this.list(`${p}.scopeMetrics`, r.scopeMetrics).forEach((sm, j) => {
        const q = `${p}.scopeMetrics[${j}]`;
        const s = this.keys(q, sm, ['scope', 'metrics', 'schemaUrl']);
        const scope = this.scope(`${q}.scope`, s.scope);
        this.list(`${q}.metrics`, s.metrics).forEach((mv, k) => {
          const x = `${q}.metrics[${k}]`;
          const m = this.keys(x, mv, ['name', 'description', 'unit', 'sum', 'gauge', 'histogram',
            'exponentialHistogram', 'summary', 'metadata']);
          const head = {
            resource,
            scope,
            name: this.str(`${x}.name`, m.name),
            description: this.str(`${x}.description`, m.description),
            unit: this.str(`${x}.unit`, m.unit),
          };
          const kinds = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'].filter((t) => m[t] !== undefined);
          if (kinds.length !== 1) {
            this.bad(x, `expected exactly one data kind, got [${kinds.join(', ')}]`);
            return;
          }
          const type = kinds[0];
          if (type === 'exponentialHistogram' || type === 'summary') {
            this.bad(x, `unexpected ${type} (the test sends none)`);
            return;
          }
          const d = this.keys(`${x}.${type}`, m[type], ['dataPoints', 'aggregationTemporality', 'isMonotonic']);
          this.list(`${x}.${type}.dataPoints`, d.dataPoints).forEach((dp, n) => {
            const y = `${x}.${type}.dataPoints[${n}]`;
            const e = { ...head, attributes: [], startTimeUnixNano: '0', timeUnixNano: '0', type };
            if (type === 'histogram') {
              const h = this.keys(y, dp, ['attributes', 'startTimeUnixNano', 'timeUnixNano', 'count', 'sum',
                'bucketCounts', 'explicitBounds', 'exemplars', 'flags', 'min', 'max']);
              e.attributes = this.attrs(`${y}.attributes`, h.attributes);
              e.startTimeUnixNano = this.int64(`${y}.startTimeUnixNano`, h.startTimeUnixNano, true);
              e.timeUnixNano = this.int64(`${y}.timeUnixNano`, h.timeUnixNano, true);
              e.aggregationTemporality = this.int32(`${x}.${type}.aggregationTemporality`, d.aggregationTemporality);
              e.count = this.int64(`${y}.count`, h.count, true);
              e.sum = h.sum === undefined ? undefined : this.num(`${y}.sum`, h.sum);
              e.min = h.min === undefined ? undefined : this.num(`${y}.min`, h.min);
              e.max = h.max === undefined ? undefined : this.num(`${y}.max`, h.max);
              e.bucketCounts = this.list(`${y}.bucketCounts`, h.bucketCounts).map((c, z) => this.int64(`${y}.bucketCounts[${z}]`, c, true));
              e.explicitBounds = this.list(`${y}.explicitBounds`, h.explicitBounds).map((b, z) => this.num(`${y}.explicitBounds[${z}]`, b));
            } else {
              const g = this.keys(y, dp, ['attributes', 'startTimeUnixNano', 'timeUnixNano', 'asInt', 'asDouble', 'exemplars', 'flags']);
              e.attributes = this.attrs(`${y}.attributes`, g.attributes);
              e.startTimeUnixNano = this.int64(`${y}.startTimeUnixNano`, g.startTimeUnixNano, true);
              e.timeUnixNano = this.int64(`${y}.timeUnixNano`, g.timeUnixNano, true);
              if (type === 'sum') {
                e.aggregationTemporality = this.int32(`${x}.sum.aggregationTemporality`, d.aggregationTemporality);
                e.isMonotonic = this.bool(`${x}.sum.isMonotonic`, d.isMonotonic);
              }
              if ((g.asInt !== undefined) === (g.asDouble !== undefined)) this.bad(y, 'expected exactly one of asInt, asDouble');
              if (g.asInt !== undefined) e.asInt = this.int64(`${y}.asInt`, g.asInt);
              if (g.asDouble !== undefined) e.asDouble = this.num(`${y}.asDouble`, g.asDouble);
            }
            out.push(e);
          });
        });
      });
    });
    return out;
  }
}

// ---------------------------------------------------------------- comparison

function diff(path, want, got, out) {
  if (out.length > 40) return;
  if (Array.isArray(want) && Array.isArray(got)) {
    if (want.length !== got.length) out.push(`${path}: ${want.length} elements expected, ${got.length} found\n      want ${JSON.stringify(want)}\n      got  ${JSON.stringify(got)}`);
    else want.forEach((w, i) => diff(`${path}[${i}]`, w, got[i], out));
    return;
  }
  if (want && got && typeof want === 'object' && typeof got === 'object' && !Array.isArray(want) && !Array.isArray(got)) {
    for (const k of new Set([...Object.keys(want), ...Object.keys(got)])) {
      if (want[k] === undefined && got[k] === undefined) continue;
      diff(path ? `${path}.${k}` : k, want[k], got[k], out);
    }
    return;
  }
  if (want !== got) out.push(`${path}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
}

const attrValue = (attrs, key) => {
  const a = attrs.find((x) => x.key === key);
  return a ? JSON.stringify(a.value) : '?';
};
const runOf = (r) => attrValue(r.resource, 'e2e.run');

const keyers = {
  spans: (r) => `span ${r.traceId}/${r.spanId}`,
  logs: (r) => `log run=${runOf(r)} seq=${attrValue(r.attributes, 'e2e.seq')}`,
  metrics: (r) => `metric run=${runOf(r)} ${r.name} ${JSON.stringify(r.attributes)} @${r.timeUnixNano}`,
};

function compareSdk(outPath, sentPaths) {
  const want = { spans: [], logs: [], metrics: [] };
  for (const p of sentPaths) {
    const d = JSON.parse(readFileSync(p, 'utf8'));
    for (const k of Object.keys(want)) want[k].push(...d[k]);
  }
  const got = { spans: [], logs: [], metrics: [] };
  for (const { where, doc } of readLines(outPath)) {
    const rd = new Reader(where);
    if (doc.resourceSpans) got.spans.push(...rd.spans(doc));
    else if (doc.resourceLogs) got.logs.push(...rd.logs(doc));
    else if (doc.resourceMetrics) got.metrics.push(...rd.metrics(doc));
    else problem(`${where}: neither resourceSpans, resourceLogs nor resourceMetrics: ${Object.keys(doc).join(', ')}`);
  }
  let matched = 0;
  for (const sig of Object.keys(want)) {
    const key = keyers[sig];
    const found = new Map();
    for (const r of got[sig]) {
      const k = key(r);
      if (found.has(k)) problem(`${k}: in the output more than once`);
      else found.set(k, r);
    }
    const expected = new Set();
    for (const w of want[sig]) {
      const k = key(w);
      if (expected.has(k)) {
        problem(`${k}: described twice by the sender (test bug)`);
        continue;
      }
      expected.add(k);
      const g = found.get(k);
      if (!g) {
        problem(`${k} (${w.name || JSON.stringify(w.body)}): sent but missing from the output`);
        continue;
      }
      const d = [];
      diff('', w, g, d);
      if (d.length) problem(`${k} (${w.name || ''}) differs:\n    ${d.join('\n    ')}`);
      else matched++;
    }
    for (const [k] of found) if (!expected.has(k)) problem(`${k}: in the output but never sent`);
  }
  return `${matched} records equal (${want.spans.length} spans, ${want.logs.length} log records, ${want.metrics.length} data points sent)`;
}

// ---------------------------------------------------------------- content equality

const ONEOF = new Set(['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue',
  'bytesValue', 'asInt', 'asDouble', 'sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary', 'body']);

// proto3 JSON semantics: a field at its default value equals an absent one;
// integers compare by value whether written as strings or numbers.
function canon(v) {
  if (Array.isArray(v)) return v.map((x) => canon(x));
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) {
      const c = canon(v[k]);
      if (!ONEOF.has(k) && isDefault(c)) continue;
      o[k] = c;
    }
    return o;
  }
  if (typeof v === 'string' && /^-?[0-9]+$/.test(v) && v.length < 25) return String(BigInt(v));
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  return v;
}
function isDefault(c) {
  return c === '' || c === '0' || c === 0 || c === false || c === null ||
    (Array.isArray(c) && c.length === 0) || (c && typeof c === 'object' && !Array.isArray(c) && Object.keys(c).length === 0);
}

function compareSame(outPath, expPaths) {
  const got = readLines(outPath).map((l) => ({ ...l, c: JSON.stringify(canon(l.doc)) }));
  const exp = [];
  for (const p of expPaths) exp.push(...readLines(p).map((l) => ({ ...l, c: JSON.stringify(canon(l.doc)) })));
  const unused = [...got];
  for (const e of exp) {
    const i = unused.findIndex((g) => g.c === e.c);
    if (i >= 0) {
      unused.splice(i, 1);
      continue;
    }
    // Explain against the output line of the same signal, if any.
    const top = Object.keys(e.doc)[0];
    const j = unused.findIndex((g) => Object.keys(g.doc)[0] === top);
    if (j < 0) {
      problem(`${e.where}: no ${top} request in ${outPath}`);
      continue;
    }
    const d = [];
    diff('', canon(e.doc), canon(unused[j].doc), d);
    problem(`${e.where} differs from ${unused[j].where}:\n    ${d.join('\n    ')}`);
    unused.splice(j, 1);
  }
  for (const g of unused) problem(`${g.where}: not expected (${Object.keys(g.doc).join(', ')})`);
  return `${exp.length} requests content-equal`;
}

// ---------------------------------------------------------------- main

const [mode, out, ...rest] = process.argv.slice(2);
if (!['sdk', 'same'].includes(mode) || !out || rest.length === 0) {
  process.stderr.write('usage: check.mjs sdk|same OUT.jsonl FILE...\n');
  process.exit(2);
}
let summary;
try {
  summary = mode === 'sdk' ? compareSdk(out, rest) : compareSame(out, rest);
} catch (e) {
  problem(`check.mjs: ${e.stack || e}`);
}
if (problems.length) {
  for (const p of problems.slice(0, 60)) process.stdout.write(`MISMATCH ${p}\n`);
  if (problems.length > 60) process.stdout.write(`... and ${problems.length - 60} more\n`);
  process.exit(1);
}
process.stdout.write(`check.mjs: ${summary}\n`);
