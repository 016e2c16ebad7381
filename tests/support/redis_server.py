"""A real Redis server for the tests that need one: Debian's ``redis-server``, started on
127.0.0.1 on a free port with nothing saved to disk, stopped afterwards. Where it is not
installed the tests say so (and fail in CI, whose script installs it)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["redis_server", "require_redis_server"]


def require_redis_server() -> str:
    """The path of ``redis-server``; skips the test (fails it in CI) where there is none."""
    found = shutil.which("redis-server")
    if found is None:
        message = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message + ": .ci/run installs it")
        pytest.skip(message)
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def redis_server(workdir: Path, timeout: float = 20.0) -> Iterator[str]:
    """A running server's URL (``redis://127.0.0.1:<port>/0``), ready when this yields."""
    binary = require_redis_server()
    port = _free_port()
    process = subprocess.Popen(
        [
            binary,
            "--bind", "127.0.0.1", "--port", str(port), "--dir", str(workdir),
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "notice",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        ready = False
        # The server says when it accepts connections; its output ends if it cannot start.
        with _deadline(process, timeout):
            for line in process.stdout:
                if "Ready to accept connections" in line:
                    ready = True
                    break
        if not ready:
            raise RuntimeError(f"redis-server did not start on port {port}")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def _deadline(process: subprocess.Popen[str], seconds: float) -> Iterator[None]:
    """Kill a server that has not said it is ready within ``seconds`` (its output then ends)."""
    timer = threading.Timer(seconds, process.kill)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
