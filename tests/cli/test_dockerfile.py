"""The Dockerfile, checked without a Docker engine: its instructions, its HEALTHCHECK run for
real against `citebot run`, and hadolint."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.bot_helpers import (
    Lines,
    clean_env,
    copy_corpus,
    free_port,
    kill_if_running,
    start_run,
    stop_run,
)
from tests.support.botapi import BotApiStub
from tests.support.dockerfile import DOCKERFILE, args_of, env_values, instructions
from tests.support.paths import ROOT


def healthcheck_command() -> list[str]:
    (args,) = args_of("HEALTHCHECK")
    match = re.search(r"\bCMD\s+(\[.*\])\s*$", args)
    assert match, "HEALTHCHECK must use the exec form: CMD [...]"
    command = json.loads(match.group(1))
    assert isinstance(command, list) and command[0] == "python"
    return [sys.executable, *command[1:]]


def test_base_user_install_and_command() -> None:
    (base,) = args_of("FROM")
    assert base == "python:3.11-slim"
    # installed the same way as the README's Quickstart
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install . && citebot ask" in readme
    installs = [a for a in args_of("RUN") if "pip install" in a]
    assert installs == ["pip install --no-cache-dir ."]
    # everything `pip install .` needs is copied first
    copied = " ".join(args_of("COPY"))
    for needed in ("pyproject.toml", "README.md", "bot"):
        assert needed in copied
    # a non-root numeric user, declared after the install
    (user,) = args_of("USER")
    assert user.isdigit() and int(user) != 0
    keywords = [kw for kw, _ in instructions()]
    assert keywords.index("USER") > keywords.index("RUN")
    # the corpus is copied, owned by the bot's user (posts and uploads are written there) and
    # mountable; so is the snapshot cache
    env = env_values()
    assert any(a == f"--chown={user}:{user} corpus ./corpus" for a in args_of("COPY"))
    assert f"install -d -o {user} -g {user} {env['CACHE_DIR']} {env['STATE_DIR']}" in args_of("RUN")
    (volume,) = args_of("VOLUME")
    assert json.loads(volume) == [env["CORPUS_DIR"], env["CACHE_DIR"], env["STATE_DIR"]]
    # the ports: webhook and health
    exposed = {p for args in args_of("EXPOSE") for p in args.split()}
    assert {env["WEBHOOK_PORT"], env["HEALTH_PORT"]} <= exposed
    # `docker run image` runs the bot; `docker run image citebot ask ...` works too
    assert args_of("ENTRYPOINT") == []
    (cmd,) = args_of("CMD")
    assert json.loads(cmd) == ["citebot", "run"]
    assert "HEALTHCHECK" in keywords


def _probe(port: int) -> int:
    env = clean_env(HEALTH_PORT=str(port))
    return subprocess.run(
        healthcheck_command(), env=env, capture_output=True, timeout=20
    ).returncode


async def test_healthcheck_against_citebot_run_in_webhook_mode(
    botapi: BotApiStub, tmp_path: Path
) -> None:
    webhook_port, health_port = free_port(), free_port()
    assert await asyncio.to_thread(_probe, health_port) != 0  # nothing listens yet
    proc = await start_run(
        botapi,
        tmp_path,
        CORPUS_DIR=str(copy_corpus(tmp_path)),
        WEBHOOK_URL=f"http://127.0.0.1:{webhook_port}/hook",
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(webhook_port),
        WEBHOOK_SECRET="probe-secret",
        HEALTH_PORT=str(health_port),
    )
    assert proc.stdout is not None and proc.stderr is not None
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        await err.wait_for(f"webhook on port {webhook_port}", timeout=30)
        assert await asyncio.to_thread(_probe, health_port) == 0
        # another path on the health port is a 404, which the probe counts as a failure
        reader, writer = await asyncio.open_connection("127.0.0.1", health_port)
        writer.write(b"GET /other HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await reader.readline()).startswith(b"HTTP/1.1 404")
        writer.close()
        assert await stop_run(proc, out, err, signal.SIGTERM) == 0
    finally:
        await kill_if_running(proc)
    assert await asyncio.to_thread(_probe, health_port) != 0  # stopped: unhealthy
    assert botapi.token not in out.text + err.text


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint is not installed")
def test_hadolint_is_clean() -> None:
    result = subprocess.run(
        ["hadolint", str(DOCKERFILE)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
