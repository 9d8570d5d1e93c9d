"""The hardening layer every server of the project runs on (the mock provider, the callback sink).

    from conformance.serving import BackgroundServer, ServerLimits, read_body
    server = BackgroundServer(app, "127.0.0.1", 0, ServerLimits(max_body_bytes=65536), name="sink").start()

`ServerLimits` holds the caps and timeouts; `BackgroundServer` runs an ASGI app on uvicorn with a
protocol that enforces them (header size, read and idle timeouts, strict framing, a connection cap);
`read_body` reads a body with a cap, after the app has checked credentials; `too_deep` refuses JSON
nested deeper than recursive code downstream can take.
"""

from ._body import BodyTooLarge, ClientGone, read_body, too_deep
from ._limits import ServerLimits
from ._server import BackgroundServer

__all__ = ["BackgroundServer", "BodyTooLarge", "ClientGone", "ServerLimits", "read_body", "too_deep"]
