"""deploy/compose.yaml and its Caddyfile hold together with the image and the bot's settings:
two replicas of one build, one Redis as their state, one corpus, and a proxy that sends the
webhook to both and probes the health port the image opens. (No Docker engine runs here: the
files are checked as what they say.)"""

from __future__ import annotations

import re
from typing import Any

import yaml

from bot.settings import Settings
from tests.support.dockerfile import env_values
from tests.support.paths import ROOT

DEPLOY = ROOT / "deploy"


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_two_replicas_share_one_redis_and_one_corpus() -> None:
    services = _compose()["services"]
    replicas = {name: s for name, s in services.items() if name.startswith("citebot")}
    assert len(replicas) == 2
    image = env_values()
    for service in replicas.values():
        assert service["build"] == {"context": ".."} and service["image"] == "citebot"
        env = service["environment"]
        assert env["STATE_URL"] == "redis://redis:6379/0"
        assert Settings(state_url=env["STATE_URL"]).state_url == env["STATE_URL"]
        assert f"corpus:{image['CORPUS_DIR']}" in service["volumes"]
        assert "redis" in service["depends_on"]
        # every setting the compose file sets is one the bot reads
        assert {name.lower() for name in env} <= set(Settings.model_fields)
    assert services["redis"]["image"].startswith("redis:")


def test_the_proxy_balances_over_both_replicas_and_probes_their_health() -> None:
    services = _compose()["services"]
    caddy = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    (upstreams,) = re.findall(r"reverse_proxy ([^{]+)\{", caddy)
    replicas = {name for name in services if name.startswith("citebot")}
    targets = upstreams.split()
    assert {t.split(":")[0] for t in targets} == replicas
    ports = {t.split(":")[1] for t in targets}
    assert ports == {services["citebot-1"]["environment"]["WEBHOOK_PORT"]}
    assert "lb_policy round_robin" in caddy
    assert f"health_port {env_values()['HEALTH_PORT']}" in caddy
    assert "health_uri /healthz" in caddy
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]
