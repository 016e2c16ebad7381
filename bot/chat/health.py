"""The health endpoint for container probes: GET /healthz answers 200 "ok", anything else 404.

A probe is answered even under a flood of idle connections: each must send its request within
5 s, and beyond :data:`MAX_CONNECTIONS` a new connection closes the oldest."""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict

__all__ = ["MAX_CONNECTIONS", "start_health_server"]

MAX_CONNECTIONS = 50


async def start_health_server(host: str, port: int) -> asyncio.Server:
    """Listen for probes on ``host:port`` until the server is closed."""
    open_: OrderedDict[asyncio.StreamWriter, None] = OrderedDict()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while len(open_) >= MAX_CONNECTIONS:
            oldest, _ = open_.popitem(last=False)
            oldest.close()
        open_[writer] = None
        try:
            await _health(reader, writer)
        finally:
            open_.pop(writer, None)

    return await asyncio.start_server(connected, host, port)


async def _health(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """GET /healthz → 200 "ok" (for container probes); anything else → 404."""
    try:
        async with asyncio.timeout(5):
            request = await reader.readuntil(b"\r\n\r\n")
        line = request.split(b"\r\n", 1)[0].split()
        ok = len(line) >= 2 and line[0] in (b"GET", b"HEAD") and line[1] == b"/healthz"
        status, body = (b"200 OK", b"ok") if ok else (b"404 Not Found", b"not found")
        writer.write(
            b"HTTP/1.1 "
            + status
            + b"\r\nContent-Type: text/plain\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )
        await writer.drain()
    except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
