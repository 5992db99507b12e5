"""unittest for the otmm Python binding: what the API writes is read back from the file with an
independent reader (mmap_reader.py) and compared field by field; the example apps' JSON is
compared with the file they wrote."""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import unittest

import otmm
from tests import mmap_reader

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "examples")


class Base(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="otmm-py-")
        self.path = os.path.join(self.dir, "app.mmap")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def read(self):
        r = mmap_reader.File(self.path)
        self.addCleanup(r.close)
        return r


class TestTraces(Base):
    def test_context_manager_spans(self):
        with otmm.File(self.path, resource={"service.name": "py"}) as f:
            tracer = f.tracer("py.tracer", "0.1", {"scope.attr": 1})
            with tracer.start_span("outer", otmm.SpanKind.SERVER,
                                   attributes={"s": "x", "i": 7, "d": 1.5, "b": True,
                                               "l": [1, 2], "bytes": b"\x00\x01"}) as outer:
                with tracer.start_span("inner") as inner:
                    inner.set_attribute("i", 8)
                    inner.set_attribute("i", 9)
                    inner.update_name("inner2")
                    inner.add_event("evt", {"k": "v"})
                with self.assertRaises(ValueError):
                    with tracer.start_span("failing"):
                        raise ValueError("bad input")
            self.assertEqual(f.stats()["dropped"], [0, 0, 0])
        r = self.read()
        self.assertEqual(r.version, 1)
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)
        spans = {s["name"]: s for s in r.spans_assembled().values()}
        self.assertEqual(set(spans), {"outer", "inner2", "failing"})
        o, i, fl = spans["outer"], spans["inner2"], spans["failing"]
        self.assertEqual(o["attributes"], {"s": "x", "i": 7, "d": 1.5, "b": True, "l": [1, 2],
                                           "bytes": b"\x00\x01"})
        self.assertEqual(o["kind"], 2)
        self.assertEqual(o["parent_span_id"], "")
        self.assertEqual(i["parent_span_id"], o["span_id"])
        self.assertEqual(fl["parent_span_id"], o["span_id"])
        self.assertEqual(i["trace_id"], o["trace_id"])
        self.assertEqual(i["kind"], 1)
        self.assertEqual(i["attributes"], {"i": 9})
        self.assertEqual(fl["status"], {"code": 2, "message": "ValueError: bad input"})
        for s in spans.values():
            self.assertTrue(s["end"] >= s["start"] > 0)
        sc = r.scope(o["scope_ref"])
        self.assertEqual(sc, {"name": "py.tracer", "version": "0.1",
                              "resource": {"service.name": "py"}})
        events = r.events()
        self.assertEqual([e["event_name"] for e in events], ["evt", "exception"])
        self.assertEqual(events[0]["span_id"], i["span_id"])
        self.assertEqual(events[0]["trace_id"], i["trace_id"])
        self.assertEqual(events[1]["attributes"]["exception.type"], "ValueError")
        self.assertEqual(events[1]["attributes"]["exception.message"], "bad input")
        self.assertIn("raise ValueError", events[1]["attributes"]["exception.stacktrace"])

    def test_links_remote_parent_and_full_ring(self):
        with otmm.File(self.path, ring_slots=8, spin_ns=0) as f:
            tracer = f.tracer("t")
            remote = otmm.SpanContext(b"\x01" * 16, b"\x02" * 8, 1, is_remote=True)
            other = otmm.SpanContext(b"\x03" * 16, b"\x04" * 8)
            s = tracer.start_span("child", parent=remote,
                                  links=[otmm.Link(other, {"why": "batch"}, "a=b")])
            s.end()
            self.assertEqual(s.context.trace_id, remote.trace_id)
            for _ in range(10):
                tracer.start_span("x")
            st = f.stats()
            self.assertEqual(st["written"][1], 7)
            self.assertEqual(st["dropped"][1], 6)  # start + link + end, then 4 of 10
        r = self.read()
        sp = [s for s in r.spans_assembled().values() if s["name"] == "child"][0]
        self.assertEqual(sp["parent_span_id"], "02" * 8)
        self.assertEqual(sp["flags"], 0x301)
        self.assertEqual(sp["links"], [{"trace_id": "03" * 16, "span_id": "04" * 8,
                                        "attributes": {"why": "batch"}}])
        self.assertEqual(r.dropped(), [0, 6, 0])

    def test_threads(self):
        with otmm.File(self.path, ring_slots=8192) as f:
            tracer = f.tracer("threads")

            def work(t):
                for k in range(500):
                    with tracer.start_span(f"t{t}", attributes={"k": k}):
                        pass
            threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        spans = self.read().spans_assembled().values()
        self.assertEqual(len(spans), 2000)
        for t in range(4):
            ks = sorted(s["attributes"]["k"] for s in spans if s["name"] == f"t{t}")
            self.assertEqual(ks, list(range(500)))
        self.assertTrue(all(s["end"] for s in spans))


class TestLogsAndMetrics(Base):
    def test_logs(self):
        with otmm.File(self.path) as f:
            log = f.logger("py.logger")
            tracer = f.tracer("py.logger")
            log.emit("plain", otmm.Severity.WARN, "WARN", {"a": 1}, timestamp=123)
            with tracer.start_span("s") as s:
                log.emit({"k": 1} and 42, event_name="app.event")
        ev = self.read().events()
        self.assertEqual(ev[0]["body"], "plain")
        self.assertEqual(ev[0]["severity_number"], 13)
        self.assertEqual(ev[0]["severity_text"], "WARN")
        self.assertEqual(ev[0]["time_unix_nano"], 123)
        self.assertEqual(ev[0]["attributes"], {"a": 1})
        self.assertEqual(ev[0]["span_id"], "")
        self.assertEqual(ev[1]["body"], 42)
        self.assertEqual(ev[1]["event_name"], "app.event")
        self.assertEqual(ev[1]["span_id"], s.context.span_id_hex)

    def test_metrics_v1(self):
        with otmm.File(self.path) as f:
            m = f.meter("py.meter")
            c = m.create_counter("c", "1", "a counter")
            h = m.create_histogram("h", "ms", boundaries=[1, 2, 3])
            g = m.create_gauge("g")
            oc = m.create_observable_counter("oc", [lambda: [otmm.Observation(10, {"x": "y"})]])
            c.add(3, {"route": "/a"})
            self.assertEqual(c.add(-1), -1)  # monotonic counters refuse negative values
            h.record(2.5)
            g.set(0.25)
            c.bind({"route": "/b"}).add(4)
            f.collect()
        ms = self.read().measurements()
        self.assertEqual([(x["metric"]["name"], x["value"], x["attributes"]) for x in ms],
                         [("c", 3, {"route": "/a"}), ("h", 2.5, {}), ("g", 0.25, {}),
                          ("c", 4, {"route": "/b"}), ("oc", 10, {"x": "y"})])
        self.assertEqual(ms[0]["metric"]["temporality"], 1)
        self.assertTrue(ms[0]["metric"]["monotonic"])
        self.assertEqual(ms[0]["metric"]["unit"], "1")
        self.assertEqual(ms[1]["metric"]["bounds"], [1, 2, 3])
        self.assertEqual(ms[2]["metric"]["type"], "gauge")
        self.assertEqual(ms[4]["metric"]["temporality"], 2)
        self.assertTrue(all(x["time"] > 0 for x in ms))

    def test_metrics_aggregated(self):
        with otmm.File(self.path, aggregate=True) as f:
            m = f.meter("agg")
            c = m.create_counter("c")
            d = m.create_up_down_counter("d", value_type=float)
            h = m.create_histogram("h", boundaries=[10, 20])
            g = m.create_gauge("g", value_type=int)
            for k in range(100):
                c.add(1, {"k": k % 2})
                d.add(-0.5)
                h.record(k)
            g.set(5)
            b = c.bind({"k": 0})
            b.add(1000)
            self.assertEqual(f.stats()["version"], otmm.FORMAT_AGGREGATED)
        r = self.read()
        self.assertEqual(r.version, 1001)
        self.assertEqual(r.measurements(), [])
        cells = {(x["metric"]["name"], tuple(sorted(x["attributes"].items()))): x
                 for x in r.cells()}
        self.assertEqual(cells[("c", (("k", 0),))]["value"], 1050)
        self.assertEqual(cells[("c", (("k", 1),))]["value"], 50)
        self.assertEqual(cells[("d", ())]["value"], -50.0)
        hc = cells[("h", ())]
        self.assertEqual((hc["buckets"], hc["count"], hc["value"], hc["min"], hc["max"]),
                         ([11, 10, 79], 100, 4950.0, 0.0, 99.0))
        self.assertEqual(cells[("g", ())]["value"], 5)


def run_example(cmd, path, extra=()):
    out = subprocess.run(cmd + [path, "--count", "12", *extra], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    return json.loads(out)


class TestExamples(Base):
    def compare(self, desc):
        r = self.read()
        self.assertEqual(r.version, desc["format"])
        spans = {s["span_id"]: s for s in r.spans_assembled().values()}
        self.assertEqual(len(spans), len(desc["spans"]))
        for want in desc["spans"]:
            got = spans[want["span_id"]]
            for k in ("trace_id", "parent_span_id", "name", "kind", "attributes", "status"):
                self.assertEqual(got[k], want[k], k)
            self.assertEqual(got["start"], want["start_time_unix_nano"])
            self.assertEqual(got["end"], want["end_time_unix_nano"])
            self.assertEqual([(l["trace_id"], l["span_id"]) for l in got["links"]],
                             [(l["trace_id"], l["span_id"]) for l in want["links"]])
            sc = r.scope(got["scope_ref"])
            self.assertEqual(sc["resource"], desc["resource"])
            self.assertEqual(sc["name"], desc["scope"]["name"])
        events = r.events()
        self.assertEqual(len(events), len(desc["logs"]))
        for got, want in zip(events, desc["logs"]):
            for k, v in want.items():
                self.assertEqual(got[k], v, k)
        if desc["format"] == 1:
            sums = {}
            for x in r.measurements():
                if x["metric"]["name"] == "example.requests":
                    key = x["attributes"]["http.route"]
                    sums[key] = sums.get(key, 0) + x["value"]
            want = {p["attributes"]["http.route"]: p["sum"] for p in desc["metrics"][0]["points"]}
            self.assertEqual(sums, want)
        else:
            cells = {(c["metric"]["name"], c["attributes"].get("http.route")): c
                     for c in r.cells()}
            for p in desc["metrics"][0]["points"]:
                self.assertEqual(cells[("example.requests", p["attributes"]["http.route"])]
                                 ["value"], p["sum"])
            hist = [c for c in r.cells() if c["metric"]["name"] == "example.duration"]
            self.assertEqual([sum(x) for x in zip(*[c["buckets"] for c in hist])],
                             desc["metrics"][1]["total"]["bucket_counts"])

    def test_python_example(self):
        for extra in ((), ("--aggregate",)):
            desc = run_example([sys.executable, os.path.join(EXAMPLES, "example_app.py")],
                               self.path, extra)
            self.compare(desc)

    @unittest.skipUnless(os.environ.get("OTMM_EXAMPLE_APP"), "OTMM_EXAMPLE_APP not set")
    def test_c_example(self):
        for extra in ((), ("--aggregate",)):
            desc = run_example([os.environ["OTMM_EXAMPLE_APP"]], self.path, extra)
            self.compare(desc)


if __name__ == "__main__":
    unittest.main()
