"""The webhook server, hardened for the open internet (PTB's own reads any body in full before it
looks at the secret, and has no timeouts and no connection limit).

- headers must arrive within :data:`HEADER_SECONDS` and the body within :data:`BODY_SECONDS`
  (a slowloris holds a connection seconds, not for ever);
- the secret token, the method, the content type and the declared length are checked as soon as
  the headers are in, **before any of the body is read**; a body over :data:`MAX_BODY_BYTES`
  (Telegram's updates are a few kB) is refused from its Content-Length;
- at most :data:`MAX_CONNECTIONS` connections at once: one more closes the oldest (a
  slowloris's, or an idle keep-alive: Telegram's own requests take milliseconds), so a flood of
  idle connections neither takes the process's file descriptors (which the bot's own calls to
  Telegram need) nor keeps Telegram out;
- refusals are logged at most once a minute, with a count.

An accepted update goes into the application's update queue (:class:`bot.chat.intake.HeldQueue`,
which holds it before the 200 goes back to Telegram).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections import OrderedDict
from http import HTTPStatus
from typing import Any

import tornado.web
from telegram import Bot, Update
from tornado.httpserver import HTTPServer
from tornado.iostream import IOStream

__all__ = [
    "BODY_SECONDS",
    "HEADER_SECONDS",
    "MAX_BODY_BYTES",
    "MAX_CONNECTIONS",
    "MAX_HEADER_BYTES",
    "WebhookServer",
]

logger = logging.getLogger(__name__)

HEADER_SECONDS = 10.0
BODY_SECONDS = 10.0
MAX_BODY_BYTES = 1 << 20
MAX_HEADER_BYTES = 16 << 10
#: Telegram opens at most ``max_connections`` (40 by default, 100 at most) to a webhook.
MAX_CONNECTIONS = 200
_WARN_EVERY = 60.0


class _Refusals:
    """Counts refused requests and connections; says so at most once a minute."""

    def __init__(self) -> None:
        self.count = 0
        self._warned = float("-inf")

    def note(self, why: str) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self._warned >= _WARN_EVERY:
            self._warned = now
            logger.warning("webhook: refused %s (%d refused so far)", why, self.count)


class _Server(HTTPServer):
    """Tornado's server with a cap on open connections: a new one closes the oldest."""

    def initialize(  # type: ignore[override]
        self, *args: Any, refusals: _Refusals, max_connections: int, **kwargs: Any
    ) -> None:
        self._refusals = refusals
        self._max_connections = max_connections
        self._streams: OrderedDict[IOStream, None] = OrderedDict()
        super().initialize(*args, **kwargs)

    def handle_stream(self, stream: IOStream, address: tuple[Any, ...]) -> None:
        while len(self._streams) >= self._max_connections:
            oldest, _ = self._streams.popitem(last=False)
            if not oldest.closed():
                self._refusals.note("the oldest connection, over the limit")
                oldest.close()
        self._streams[stream] = None
        super().handle_stream(stream, address)


@tornado.web.stream_request_body
class _UpdateHandler(tornado.web.RequestHandler):
    """POST of one update: checked on its headers, read up to the limit, queued."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(
        self, bot: Bot, queue: asyncio.Queue[object], secret: str | None, refusals: _Refusals
    ) -> None:
        self._bot = bot
        self._queue = queue
        self._secret = secret
        self._refusals = refusals
        self._body = bytearray()

    def prepare(self) -> None:
        """Before the body: the secret, the content type and the declared size."""
        if self._secret is not None:
            given = self.request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            if not hmac.compare_digest(given.encode(), self._secret.encode()):
                self._refuse(HTTPStatus.FORBIDDEN, "a request without the secret token")
                return
        if self.request.headers.get("Content-Type", "").split(";")[0].strip() != (
            "application/json"
        ):
            self._refuse(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "a request that is not JSON")
            return
        try:
            declared = int(self.request.headers.get("Content-Length", "0"))
        except ValueError:
            declared = MAX_BODY_BYTES + 1
        if declared > MAX_BODY_BYTES:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "a request body over the limit")

    def data_received(self, chunk: bytes) -> None:
        if len(self._body) + len(chunk) > MAX_BODY_BYTES:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "a request body over the limit")
            return
        self._body.extend(chunk)

    async def post(self) -> None:
        try:
            data = json.loads(self._body)
            update = Update.de_json(data, self._bot) if isinstance(data, dict) else None
        except (ValueError, TypeError, KeyError):
            update = None
        if update is None:
            self._refuse(HTTPStatus.BAD_REQUEST, "a body that is no update")
            return
        await self._queue.put(update)
        self.set_status(HTTPStatus.OK)
        self.finish()

    def _refuse(self, status: HTTPStatus, why: str) -> None:
        self._refusals.note(why)
        self.set_status(status)
        self.set_header("Connection", "close")
        self.finish()
        self.request.connection.close()  # type: ignore[union-attr]

    def log_exception(self, *args: Any) -> None:
        """Tornado's traceback per failed request would let a client fill the log."""
        self._refusals.note("a request that failed")


class _Application(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """No access log: Telegram posts every update; refusals are counted instead."""


class WebhookServer:
    """Listens on ``listen:port`` for Telegram's POSTs to ``path``."""

    def __init__(
        self,
        bot: Bot,
        queue: asyncio.Queue[object],
        *,
        listen: str,
        port: int,
        path: str,
        secret: str | None,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.refusals = _Refusals()
        app = _Application(
            [
                (
                    rf"/{path.strip('/')}/?" if path.strip("/") else r"/",
                    _UpdateHandler,
                    {"bot": bot, "queue": queue, "secret": secret, "refusals": self.refusals},
                )
            ]
        )
        self._server = _Server(
            app,
            refusals=self.refusals,
            max_connections=max_connections,
            idle_connection_timeout=HEADER_SECONDS,
            body_timeout=BODY_SECONDS,
            max_body_size=MAX_BODY_BYTES,
            max_header_size=MAX_HEADER_BYTES,
        )
        self._listen = listen
        self._port = port

    def start(self) -> None:
        self._server.listen(self._port, address=self._listen)

    async def stop(self) -> None:
        """No new connections; the open ones are closed."""
        self._server.stop()
        await self._server.close_all_connections()
