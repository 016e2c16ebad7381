"""A round-robin reverse proxy on 127.0.0.1, the load balancer in front of bot replicas: each
POST goes to the next backend in turn, headers (the webhook secret) and body as they came."""

from __future__ import annotations

import itertools
import socket

import aiohttp
from aiohttp import web

__all__ = ["RoundRobinProxy"]

_FORWARDED = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")


class RoundRobinProxy:
    """``url`` is where Telegram (the stand-in) posts; ``served[i]`` counts backend i's share."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.served = [0] * len(backends)
        self._next = itertools.cycle(range(len(backends)))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        index = next(self._next)
        self.served[index] += 1
        headers = {k: request.headers[k] for k in _FORWARDED if k in request.headers}
        body = await request.read()
        try:
            async with self._session.post(
                self.backends[index], data=body, headers=headers
            ) as answer:
                return web.Response(status=answer.status, body=await answer.read())
        except aiohttp.ClientError:
            return web.Response(status=502)
