"""The OpenTelemetry Python API's shape over otmm, so code written for opentelemetry-api reads
the same (no dependency on it: this is a lookalike, not an SDK plug-in).

    from otmm import otel as trace
    trace.set_tracer_provider(trace.TracerProvider("/run/app.mmap",
                                                   resource={"service.name": "shop"}))
    tracer = trace.get_tracer("shop.checkout", "1.0")
    with tracer.start_as_current_span("checkout", kind=trace.SpanKind.SERVER) as span:
        span.set_attribute("cart.items", 3)
        with tracer.start_as_current_span("charge"):   # child of "checkout"
            ...

What matches opentelemetry-api: TracerProvider.get_tracer(name, version), Tracer.start_span /
start_as_current_span (kind, attributes, links, start_time, record_exception,
set_status_on_exception, end_on_exit), get_current_span(), Span.get_span_context(),
set_attribute(s), add_event, record_exception, set_status(StatusCode or Status), update_name,
end, is_recording; SpanKind and StatusCode values. What differs: the parent is passed as
`context=` holding a Span or SpanContext (there is no Context object), the provider owns one
otlp-mmap file (otmm.File) and shutdown() closes it. Threads: as otmm (a span from one thread
at a time; the current span is per thread / asyncio task).
"""

import contextlib

import otmm
from otmm import SpanKind, StatusCode  # same numeric values as opentelemetry-api

__all__ = ["TracerProvider", "Tracer", "Status", "SpanKind", "StatusCode", "get_tracer",
           "get_tracer_provider", "set_tracer_provider", "get_current_span"]


class Status:
    """opentelemetry.trace.Status: a code and an optional description."""

    def __init__(self, status_code=StatusCode.UNSET, description=None):
        self.status_code = status_code
        self.description = description


class _Span(otmm.Span):
    def get_span_context(self):
        return self.context

    def set_status(self, status, description=None):
        if isinstance(status, Status):
            status, description = status.status_code, status.description
        super().set_status(status, description)


def _parent(context):
    # opentelemetry passes a Context; here a Span or SpanContext (or None: the current span).
    return context


class Tracer:
    def __init__(self, tracer):
        self._t = tracer

    def start_span(self, name, context=None, kind=SpanKind.INTERNAL, attributes=None, links=None,
                   start_time=None, record_exception=True, set_status_on_exception=True):
        """A span that is not made current; end it with span.end()."""
        return _Span(self._t, name, kind, _parent(context), attributes, links, start_time)

    @contextlib.contextmanager
    def start_as_current_span(self, name, context=None, kind=SpanKind.INTERNAL, attributes=None,
                              links=None, start_time=None, record_exception=True,
                              set_status_on_exception=True, end_on_exit=True):
        """Starts a span, makes it the current one for the block (its children's parent)
        and ends it on exit; an escaping exception is recorded and sets status ERROR."""
        span = self.start_span(name, context, kind, attributes, links, start_time)
        token = otmm._current.set(span)
        try:
            yield span
        except BaseException as exc:
            if record_exception:
                span.record_exception(exc)
            if set_status_on_exception:
                span.set_status(StatusCode.ERROR, "%s: %s" % (type(exc).__name__, exc))
            raise
        finally:
            otmm._current.reset(token)
            if end_on_exit:
                span.end()


class TracerProvider:
    """Owns one otlp-mmap file; path and options as otmm.File (or pass file=otmm.File)."""

    def __init__(self, path=None, resource=None, file=None, **options):
        if file is None:
            if path is None:
                raise ValueError("TracerProvider needs the path of the otlp-mmap file")
            file = otmm.File(path, resource=resource, **options)
        self.file = file

    def get_tracer(self, instrumenting_module_name, instrumenting_library_version=None,
                   schema_url=None, attributes=None):
        return Tracer(self.file.tracer(instrumenting_module_name, instrumenting_library_version,
                                       attributes))

    def force_flush(self, timeout_millis=None):
        self.file.flush()
        return True

    def shutdown(self):
        self.file.close()


_provider = None


def set_tracer_provider(provider):
    global _provider
    _provider = provider


def get_tracer_provider():
    return _provider


def get_tracer(instrumenting_module_name, instrumenting_library_version=None,
               tracer_provider=None, schema_url=None, attributes=None):
    p = tracer_provider or _provider
    if p is None:
        raise RuntimeError("no TracerProvider: call otmm.otel.set_tracer_provider first")
    return p.get_tracer(instrumenting_module_name, instrumenting_library_version, schema_url,
                        attributes)


def get_current_span():
    return otmm._current.get()
