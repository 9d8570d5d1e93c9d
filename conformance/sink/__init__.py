"""The callback sink used by `certify --callback-listen HOST:PORT`.

    from conformance.sink import CallbackSink
    with CallbackSink(host="127.0.0.1", port=0, recorder=None) as sink:
        mock.set_callback_url(sink.url)
        ...
        sink.deliveries, sink.results, sink.finish()
"""

from ._routing import Route, Router
from ._sink import CallbackSink

__all__ = ["CallbackSink", "Route", "Router"]
