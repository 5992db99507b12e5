"""otmm: the Python binding of libotmmap (ctypes, standard library only).

Telemetry goes into a memory-mapped file (docs/mmap-protocol.md) that a collector drains;
whatever a call has published survives a crash of the process.

    import otmm
    with otmm.File("/var/run/app.mmap", resource={"service.name": "shop"}) as f:
        tracer = f.tracer("shop.checkout", "1.0")
        with tracer.start_span("checkout", kind=otmm.SpanKind.SERVER,
                               attributes={"cart.items": 3}) as span:
            span.add_event("payment.authorised")
        f.logger("shop").emit("done", severity_number=otmm.Severity.INFO)
        f.meter("shop").create_counter("orders").add(1, {"region": "eu"})

The shared library is found through the OTMM_LIBRARY environment variable, then where `make
install` put it (otmm/_installed.py), then next to this package, then in a build directory of the
source tree (build*/sdk/libotmmap.so), then on the system library path. otmm.otel has the
OpenTelemetry API's shape (TracerProvider, start_as_current_span) over it. Thread safety: a File, its tracers, loggers, meters and instruments may be
used from any thread; a Span from one thread at a time.
"""

import contextvars
import ctypes
import ctypes.util
import enum
import glob
import os
import time

__all__ = ["File", "SpanKind", "StatusCode", "Severity", "SpanContext", "Link", "Observation",
           "OtmmError", "FORMAT_V1", "FORMAT_AGGREGATED"]

FORMAT_V1 = 1
FORMAT_AGGREGATED = 1001
_MAX_BOUNDS = 32


class OtmmError(OSError):
    """A libotmmap error: .code is the negative OTMM_E_* value."""

    def __init__(self, code, what=""):
        msg = _lib.otmm_strerror(code).decode() if _lib else str(code)
        super().__init__(f"{what}: {msg}" if what else msg)
        self.code = code


class SpanKind(enum.IntEnum):
    INTERNAL = 1
    SERVER = 2
    CLIENT = 3
    PRODUCER = 4
    CONSUMER = 5


class StatusCode(enum.IntEnum):
    UNSET = 0
    OK = 1
    ERROR = 2


class Severity(enum.IntEnum):
    TRACE = 1
    DEBUG = 5
    INFO = 9
    WARN = 13
    ERROR = 17
    FATAL = 21


# ---- C structures (sdk/include/otmm.h) ----
class _Value(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int32), ("b", ctypes.c_int32), ("i", ctypes.c_int64),
                ("d", ctypes.c_double), ("ptr", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class _Attr(ctypes.Structure):
    _fields_ = [("key", ctypes.c_char_p), ("value", _Value)]


class _Options(ctypes.Structure):
    _fields_ = [("events_slots", ctypes.c_uint32), ("spans_slots", ctypes.c_uint32),
                ("measurements_slots", ctypes.c_uint32), ("events_slot_size", ctypes.c_uint32),
                ("spans_slot_size", ctypes.c_uint32), ("measurements_slot_size", ctypes.c_uint32),
                ("dictionary_size", ctypes.c_uint64), ("dictionary_max", ctypes.c_uint64),
                ("intern_capacity", ctypes.c_uint32), ("spin_ns", ctypes.c_uint32),
                ("aggregate", ctypes.c_int32), ("cells", ctypes.c_uint32),
                ("cell_size", ctypes.c_uint32), ("resource_attrs", ctypes.POINTER(_Attr)),
                ("n_resource_attrs", ctypes.c_size_t)]


class _Stats(ctypes.Structure):
    _fields_ = [("written", ctypes.c_uint64 * 3), ("dropped", ctypes.c_uint64 * 3),
                ("dictionary_bytes", ctypes.c_uint64), ("dictionary_entries", ctypes.c_uint64),
                ("dictionary_refused", ctypes.c_uint64), ("cells_used", ctypes.c_uint64),
                ("cells_refused", ctypes.c_uint64), ("version", ctypes.c_int64),
                ("epoch", ctypes.c_uint64)]


class _Scope(ctypes.Structure):
    _fields_ = [("m", ctypes.c_void_p), ("ref", ctypes.c_int64)]


class _SpanContext(ctypes.Structure):
    _fields_ = [("trace_id", ctypes.c_uint8 * 16), ("span_id", ctypes.c_uint8 * 8),
                ("trace_flags", ctypes.c_uint8), ("is_remote", ctypes.c_uint8),
                ("pad", ctypes.c_uint8 * 6)]


class _Link(ctypes.Structure):
    _fields_ = [("ctx", _SpanContext), ("trace_state", ctypes.c_char_p),
                ("attrs", ctypes.POINTER(_Attr)), ("n_attrs", ctypes.c_size_t)]


class _Span(ctypes.Structure):
    _fields_ = [("m", ctypes.c_void_p), ("scope_ref", ctypes.c_int64), ("ctx", _SpanContext),
                ("status_code", ctypes.c_int32), ("recording", ctypes.c_uint8),
                ("ended", ctypes.c_uint8), ("pad", ctypes.c_uint8 * 2),
                ("status_message", ctypes.c_char * 128)]


class _LogRecord(ctypes.Structure):
    _fields_ = [("time_unix_nano", ctypes.c_uint64), ("severity_number", ctypes.c_int32),
                ("severity_text", ctypes.c_char_p), ("body", _Value),
                ("event_name", ctypes.c_char_p), ("span_context", ctypes.POINTER(_SpanContext)),
                ("attrs", ctypes.POINTER(_Attr)), ("n_attrs", ctypes.c_size_t)]


class _Instrument(ctypes.Structure):
    _fields_ = [("m", ctypes.c_void_p), ("metric_ref", ctypes.c_int64), ("kind", ctypes.c_int32),
                ("is_double", ctypes.c_int32), ("n_bounds", ctypes.c_uint32),
                ("pad", ctypes.c_uint32), ("bounds", ctypes.c_double * _MAX_BOUNDS)]


class _Series(ctypes.Structure):
    _fields_ = [("inst", ctypes.POINTER(_Instrument)), ("cell", ctypes.c_void_p),
                ("attr_len", ctypes.c_uint32), ("pad", ctypes.c_uint32),
                ("attr_enc", ctypes.c_uint8 * 240)]


def _find_library():
    env = os.environ.get("OTMM_LIBRARY")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = []
    try:  # written by `make install` / the Debian package: the library installed beside it
        from otmm._installed import LIBRARY
        candidates.append(LIBRARY)
    except ImportError:
        pass
    candidates.append(os.path.join(here, "libotmmap.so"))
    root = os.path.abspath(os.path.join(here, "..", "..", ".."))
    candidates += sorted(glob.glob(os.path.join(root, "build*", "sdk", "libotmmap.so")))
    for c in candidates:
        if os.path.exists(c):
            return c
    found = ctypes.util.find_library("otmmap")
    if found:
        return found
    raise OSError("libotmmap not found: set OTMM_LIBRARY to the path of libotmmap.so")


def _load():
    lib = ctypes.CDLL(_find_library())
    P = ctypes.POINTER
    sigs = {
        "otmm_strerror": (ctypes.c_char_p, [ctypes.c_int]),
        "otmm_options_init": (None, [P(_Options)]),
        "otmm_open": (ctypes.c_int, [ctypes.c_char_p, P(_Options), P(ctypes.c_void_p)]),
        "otmm_close": (None, [ctypes.c_void_p]),
        "otmm_flush": (ctypes.c_int, [ctypes.c_void_p]),
        "otmm_last_errno": (ctypes.c_int, []),
        "otmm_stats": (ctypes.c_int, [ctypes.c_void_p, P(_Stats)]),
        "otmm_scope": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                      P(_Attr), ctypes.c_size_t, P(_Scope)]),
        "otmm_now": (ctypes.c_uint64, []),
        "otmm_span_start": (ctypes.c_int, [P(_Scope), ctypes.c_char_p, ctypes.c_int,
                                           P(_SpanContext), P(_Attr), ctypes.c_size_t, P(_Link),
                                           ctypes.c_size_t, ctypes.c_uint64, P(_Span)]),
        "otmm_span_set_attributes": (ctypes.c_int, [P(_Span), P(_Attr), ctypes.c_size_t]),
        "otmm_span_update_name": (ctypes.c_int, [P(_Span), ctypes.c_char_p]),
        "otmm_span_add_links": (ctypes.c_int, [P(_Span), P(_Link), ctypes.c_size_t]),
        "otmm_span_add_event": (ctypes.c_int, [P(_Span), ctypes.c_char_p, ctypes.c_uint64,
                                               P(_Attr), ctypes.c_size_t]),
        "otmm_span_set_status": (None, [P(_Span), ctypes.c_int, ctypes.c_char_p]),
        "otmm_span_end": (ctypes.c_int, [P(_Span), ctypes.c_uint64]),
        "otmm_log_emit": (ctypes.c_int, [P(_Scope), P(_LogRecord)]),
        "otmm_instrument_create": (ctypes.c_int, [P(_Scope), ctypes.c_int, ctypes.c_char_p,
                                                  ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int,
                                                  P(ctypes.c_double), ctypes.c_size_t,
                                                  P(_Instrument)]),
        "otmm_record_i64": (ctypes.c_int, [P(_Instrument), ctypes.c_int64, P(_Attr),
                                           ctypes.c_size_t]),
        "otmm_record_f64": (ctypes.c_int, [P(_Instrument), ctypes.c_double, P(_Attr),
                                           ctypes.c_size_t]),
        "otmm_series_bind": (ctypes.c_int, [P(_Instrument), P(_Attr), ctypes.c_size_t,
                                            P(_Series)]),
        "otmm_series_record_i64": (ctypes.c_int, [P(_Series), ctypes.c_int64]),
        "otmm_series_record_f64": (ctypes.c_int, [P(_Series), ctypes.c_double]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    return lib


_lib = None
_lib = _load()


def _b(s):
    return None if s is None else s.encode() if isinstance(s, str) else bytes(s)


def _value(v, keep):
    """A Python value as an otmm_value_t; `keep` holds the buffers alive during the call."""
    out = _Value()
    if v is None:
        return out
    if isinstance(v, bool):
        out.type, out.b = 2, int(v)
    elif isinstance(v, int):
        out.type, out.i = 3, v
    elif isinstance(v, float):
        out.type, out.d = 4, v
    elif isinstance(v, str):
        raw = v.encode()
        buf = ctypes.create_string_buffer(raw, len(raw))
        keep.append(buf)
        out.type, out.ptr, out.len = 1, ctypes.addressof(buf), len(raw)
    elif isinstance(v, (bytes, bytearray, memoryview)):
        raw = bytes(v)
        buf = ctypes.create_string_buffer(raw, len(raw))
        keep.append(buf)
        out.type, out.ptr, out.len = 5, ctypes.addressof(buf), len(raw)
    elif isinstance(v, (list, tuple)):
        items = (_Value * max(len(v), 1))()
        for i, x in enumerate(v):
            if isinstance(x, (list, tuple)):
                raise TypeError("nested arrays are not supported")
            items[i] = _value(x, keep)
        keep.append(items)
        out.type, out.ptr, out.len = 6, ctypes.addressof(items), len(v)
    else:
        raise TypeError(f"unsupported attribute value {type(v).__name__}")
    return out


def _attrs(attributes, keep):
    if not attributes:
        return None, 0
    items = list(attributes.items())
    arr = (_Attr * len(items))()
    for i, (k, v) in enumerate(items):
        key = _b(str(k))
        keep.append(key)
        arr[i].key = key
        arr[i].value = _value(v, keep)
    keep.append(arr)
    return arr, len(items)


def _check(rc, what):
    if rc < 0:
        raise OtmmError(rc, what)
    return rc


def _ns(t):
    """None -> 0 (now); float seconds or int nanoseconds since the epoch."""
    if t is None:
        return 0
    return int(t * 1e9) if isinstance(t, float) else int(t)


class SpanContext:
    """W3C span context: trace_id (16 bytes), span_id (8 bytes), flags, remote or not."""

    __slots__ = ("trace_id", "span_id", "trace_flags", "is_remote")

    def __init__(self, trace_id, span_id, trace_flags=1, is_remote=False):
        if len(trace_id) != 16 or len(span_id) != 8:
            raise ValueError("trace_id must be 16 bytes and span_id 8 bytes")
        self.trace_id, self.span_id = bytes(trace_id), bytes(span_id)
        self.trace_flags, self.is_remote = trace_flags, bool(is_remote)

    @classmethod
    def _from_c(cls, c):
        return cls(bytes(c.trace_id), bytes(c.span_id), c.trace_flags, bool(c.is_remote))

    def _to_c(self):
        c = _SpanContext()
        ctypes.memmove(c.trace_id, self.trace_id, 16)
        ctypes.memmove(c.span_id, self.span_id, 8)
        c.trace_flags, c.is_remote = self.trace_flags, int(self.is_remote)
        return c

    @property
    def trace_id_hex(self):
        return self.trace_id.hex()

    @property
    def span_id_hex(self):
        return self.span_id.hex()

    def __eq__(self, other):
        return isinstance(other, SpanContext) and (self.trace_id, self.span_id) == (
            other.trace_id, other.span_id)

    def __hash__(self):
        return hash((self.trace_id, self.span_id))

    def __repr__(self):
        return f"SpanContext({self.trace_id_hex}, {self.span_id_hex})"


class Link:
    def __init__(self, context, attributes=None, trace_state=None):
        self.context, self.attributes, self.trace_state = context, attributes, trace_state


def _links(links, keep):
    if not links:
        return None, 0
    arr = (_Link * len(links))()
    for i, l in enumerate(links):
        ctx = l.context if isinstance(l, Link) else l
        attrs = l.attributes if isinstance(l, Link) else None
        arr[i].ctx = ctx._to_c()
        if isinstance(l, Link) and l.trace_state:
            ts = _b(l.trace_state)
            keep.append(ts)
            arr[i].trace_state = ts
        arr[i].attrs, arr[i].n_attrs = _attrs(attrs, keep)
    keep.append(arr)
    return arr, len(links)


_current = contextvars.ContextVar("otmm_current_span", default=None)


class Span:
    """A span; also a context manager (ends it, records an escaping exception as an error)."""

    def __init__(self, tracer, name, kind, parent, attributes, links, start_time):
        self._c = _Span()
        keep = []
        pctx = None
        if parent is None:
            parent = _current.get()
        if isinstance(parent, Span):
            parent = parent.context
        if parent is not None:
            pctx = parent._to_c()
        a, n = _attrs(attributes, keep)
        la, ln = _links(links, keep)
        rc = _lib.otmm_span_start(ctypes.byref(tracer._scope), _b(name), int(kind),
                                  ctypes.byref(pctx) if pctx is not None else None, a, n, la, ln,
                                  _ns(start_time), ctypes.byref(self._c))
        self._tracer = tracer  # keeps the file mapped while the span lives
        self.start_error = rc  # 0, or OTMM_E_FULL etc.: the span is then not recording
        self._token = None
        self.name = name
        if rc == -1:
            raise OtmmError(rc, "start_span")

    @property
    def context(self):
        return SpanContext._from_c(self._c.ctx)

    def is_recording(self):
        return bool(self._c.recording) and not self._c.ended

    def set_attribute(self, key, value):
        return self.set_attributes({key: value})

    def set_attributes(self, attributes):
        keep = []
        a, n = _attrs(attributes, keep)
        return _lib.otmm_span_set_attributes(ctypes.byref(self._c), a, n)

    def update_name(self, name):
        self.name = name
        return _lib.otmm_span_update_name(ctypes.byref(self._c), _b(name))

    def add_link(self, context, attributes=None):
        keep = []
        la, ln = _links([Link(context, attributes)], keep)
        return _lib.otmm_span_add_links(ctypes.byref(self._c), la, ln)

    def add_event(self, name, attributes=None, timestamp=None):
        keep = []
        a, n = _attrs(attributes, keep)
        return _lib.otmm_span_add_event(ctypes.byref(self._c), _b(name), _ns(timestamp), a, n)

    def record_exception(self, exc, attributes=None):
        import traceback
        attrs = {"exception.type": type(exc).__name__, "exception.message": str(exc),
                 "exception.stacktrace": "".join(traceback.format_exception(exc))}
        attrs.update(attributes or {})
        return self.add_event("exception", attrs)

    def set_status(self, code, description=None):
        _lib.otmm_span_set_status(ctypes.byref(self._c), int(code), _b(description))

    def end(self, end_time=None):
        return _lib.otmm_span_end(ctypes.byref(self._c), _ns(end_time))

    def __enter__(self):
        self._token = _current.set(self)
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._token is not None:
            _current.reset(self._token)
            self._token = None
        if exc is not None:
            self.record_exception(exc)
            self.set_status(StatusCode.ERROR, f"{exc_type.__name__}: {exc}")
        self.end()
        return False


class _ScopeBase:
    def __init__(self, file, name, version, attributes):
        self._file = file
        self._scope = _Scope()
        keep = []
        a, n = _attrs(attributes, keep)
        _check(_lib.otmm_scope(file._m, _b(name), _b(version), a, n, ctypes.byref(self._scope)),
               "scope")
        self.name, self.version = name, version


class Tracer(_ScopeBase):
    def start_span(self, name, kind=SpanKind.INTERNAL, parent=None, attributes=None, links=None,
                   start_time=None):
        """Starts a span (parent: a Span or SpanContext; default the current span of a `with`
        block). Use as `with tracer.start_span(...) as span:` or call span.end()."""
        return Span(self, name, kind, parent, attributes, links, start_time)

    @staticmethod
    def current_span():
        return _current.get()


class Logger(_ScopeBase):
    def emit(self, body=None, severity_number=Severity.INFO, severity_text=None, attributes=None,
             event_name=None, span=None, timestamp=None):
        """One log record; span (Span or SpanContext) defaults to the current span."""
        keep = []
        r = _LogRecord()
        r.time_unix_nano = _ns(timestamp)
        r.severity_number = int(severity_number)
        r.severity_text = _b(severity_text)
        r.body = _value(body, keep)
        r.event_name = _b(event_name)
        if span is None:
            span = _current.get()
        if isinstance(span, Span):
            span = span.context
        if span is not None:
            c = span._to_c()
            keep.append(c)
            r.span_context = ctypes.pointer(c)
        r.attrs, r.n_attrs = _attrs(attributes, keep)
        return _lib.otmm_log_emit(ctypes.byref(self._scope), ctypes.byref(r))


class Observation:
    def __init__(self, value, attributes=None):
        self.value, self.attributes = value, attributes


class Series:
    """An instrument bound to one attribute set: recording skips encoding and lookup."""

    def __init__(self, inst, attributes):
        self._inst = inst
        self._c = _Series()
        keep = []
        a, n = _attrs(attributes, keep)
        _check(_lib.otmm_series_bind(ctypes.byref(inst._c), a, n, ctypes.byref(self._c)),
               "bind")

    def record(self, value):
        if self._inst._double:
            return _lib.otmm_series_record_f64(ctypes.byref(self._c), float(value))
        return _lib.otmm_series_record_i64(ctypes.byref(self._c), int(value))

    add = set = record


class Instrument:
    """A metric instrument. add() for counters, record() for histograms, set() for gauges
    (all three are the same call: the kind decides what the value means)."""

    def __init__(self, meter, kind, name, unit, description, value_type, boundaries,
                 callbacks=None):
        self._c = _Instrument()
        self._meter = meter  # keeps the file mapped while the instrument lives
        self._double = value_type is float
        self.name = name
        self._callbacks = list(callbacks or [])
        bounds, nb = None, 0
        if boundaries:
            nb = len(boundaries)
            bounds = (ctypes.c_double * nb)(*boundaries)
        _check(_lib.otmm_instrument_create(ctypes.byref(meter._scope), kind, _b(name),
                                           _b(description), _b(unit), int(self._double), bounds,
                                           nb, ctypes.byref(self._c)), f"instrument {name}")
        if self._callbacks:
            meter._file._observables.append(self)

    def record(self, value, attributes=None):
        keep = []
        a, n = _attrs(attributes, keep)
        if self._double:
            return _lib.otmm_record_f64(ctypes.byref(self._c), float(value), a, n)
        return _lib.otmm_record_i64(ctypes.byref(self._c), int(value), a, n)

    add = set = record

    def bind(self, attributes=None):
        return Series(self, attributes)

    def _observe(self):
        for cb in self._callbacks:
            for o in cb() or ():
                if isinstance(o, Observation):
                    self.record(o.value, o.attributes)
                else:
                    self.record(o)


class Meter(_ScopeBase):
    def create_counter(self, name, unit="", description="", value_type=int):
        return Instrument(self, 1, name, unit, description, value_type, None)

    def create_up_down_counter(self, name, unit="", description="", value_type=int):
        return Instrument(self, 2, name, unit, description, value_type, None)

    def create_histogram(self, name, unit="", description="", boundaries=None, value_type=float):
        return Instrument(self, 3, name, unit, description, value_type, boundaries)

    def create_gauge(self, name, unit="", description="", value_type=float):
        return Instrument(self, 4, name, unit, description, value_type, None)

    def create_observable_counter(self, name, callbacks, unit="", description="",
                                  value_type=int):
        return Instrument(self, 5, name, unit, description, value_type, None, callbacks)

    def create_observable_up_down_counter(self, name, callbacks, unit="", description="",
                                          value_type=int):
        return Instrument(self, 6, name, unit, description, value_type, None, callbacks)

    def create_observable_gauge(self, name, callbacks, unit="", description="",
                                value_type=float):
        return Instrument(self, 7, name, unit, description, value_type, None, callbacks)


class File:
    """An otlp-mmap file opened for writing (created 0600 or re-initialised in place)."""

    def __init__(self, path, resource=None, aggregate=False, ring_slots=1024, slot_size=512,
                 dictionary_size=64 << 10, dictionary_max=64 << 20, spin_ns=5000, cells=1024,
                 cell_size=256):
        o = _Options()
        _lib.otmm_options_init(ctypes.byref(o))
        o.events_slots = o.spans_slots = o.measurements_slots = ring_slots
        o.events_slot_size = o.spans_slot_size = o.measurements_slot_size = slot_size
        o.dictionary_size, o.dictionary_max = dictionary_size, dictionary_max
        o.spin_ns, o.aggregate, o.cells, o.cell_size = spin_ns, int(aggregate), cells, cell_size
        keep = []
        o.resource_attrs, o.n_resource_attrs = _attrs(resource, keep)
        self._m = ctypes.c_void_p()
        rc = _lib.otmm_open(os.fsencode(path), ctypes.byref(o), ctypes.byref(self._m))
        if rc < 0:
            self._m = None
            err = OtmmError(rc, os.fspath(path))
            err.errno = _lib.otmm_last_errno() if rc == -2 else None
            raise err
        self.path = path
        self._observables = []

    def tracer(self, name, version=None, attributes=None):
        return Tracer(self, name, version, attributes)

    def logger(self, name, version=None, attributes=None):
        return Logger(self, name, version, attributes)

    def meter(self, name, version=None, attributes=None):
        return Meter(self, name, version, attributes)

    def collect(self):
        """Runs the callbacks of observable instruments (the library starts no thread)."""
        for inst in self._observables:
            inst._observe()

    def stats(self):
        s = _Stats()
        _check(_lib.otmm_stats(self._m, ctypes.byref(s)), "stats")
        return {"written": list(s.written), "dropped": list(s.dropped),
                "dictionary_bytes": s.dictionary_bytes,
                "dictionary_entries": s.dictionary_entries,
                "dictionary_refused": s.dictionary_refused, "cells_used": s.cells_used,
                "cells_refused": s.cells_refused, "version": s.version, "epoch": s.epoch}

    def flush(self):
        _check(_lib.otmm_flush(self._m), "flush")

    def close(self):
        if self._m:
            _lib.otmm_close(self._m)
            self._m = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        self.close()


def now():
    """Current time in ns since the epoch (the clock libotmmap uses)."""
    return _lib.otmm_now() if _lib else time.time_ns()
