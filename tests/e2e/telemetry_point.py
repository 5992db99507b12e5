"""The newest otelcol_receiver_accepted_spans point of receiver "otlp" in an
otflow file exporter's JSON lines (self-metrics pushed to another otflow):
prints "value service.name deployment.environment.name instance-id-set", or
None when there is none yet. Only a monotonic cumulative sum counts.
usage: telemetry_point.py FILE"""
import json
import sys

best = None
try:
    lines = open(sys.argv[1]).read().splitlines()
except FileNotFoundError:
    lines = []
for line in lines:
    for rm in json.loads(line).get("resourceMetrics", []):
        res = {a["key"]: a["value"].get("stringValue")
               for a in rm.get("resource", {}).get("attributes", [])}
        for sm in rm.get("scopeMetrics", []):
            for m in sm.get("metrics", []):
                if m["name"] != "otelcol_receiver_accepted_spans":
                    continue
                s = m.get("sum", {})
                for dp in s.get("dataPoints", []):
                    attrs = {a["key"]: a["value"].get("stringValue")
                             for a in dp.get("attributes", [])}
                    if (attrs.get("receiver") == "otlp" and s.get("isMonotonic")
                            and s.get("aggregationTemporality") == 2):
                        best = "%s %s %s %s" % (dp.get("asInt"), res.get("service.name"),
                                                res.get("deployment.environment.name"),
                                                bool(res.get("service.instance.id")))
print(best)
