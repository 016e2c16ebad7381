"""Which state store a bot gets: Redis when ``STATE_URL`` names one (several replicas share
it), else the SQLite file in ``STATE_DIR``, else (empty, or unusable) memory, and the log says
which."""

from __future__ import annotations

import logging
from pathlib import Path

import redis

from bot.store.redis_state import RedisState
from bot.store.state import STATE_FILE, SqliteState, StateStore

__all__ = ["open_state"]

logger = logging.getLogger(__name__)


def open_state(state_dir: Path | None, state_url: str | None = None, bot: str = "") -> StateStore:
    """The store the settings ask for, for the bot whose id is ``bot``: update ids, chats and
    users are a bot's own, so two bots sharing a directory or a server never mix them. A Redis
    that cannot be reached at start is said once; the bot still starts (and uses it as soon as
    it answers)."""
    if state_url:
        store = RedisState(state_url, prefix=f"citebot:{bot}:" if bot else "citebot:")
        try:
            store.ping()
            logger.info("state: %s", store.safe_url())
        except redis.RedisError as exc:
            logger.warning("state server %s unreachable at start (%s)", store.safe_url(), exc)
        return store
    if state_dir is None:
        logger.warning("STATE_DIR is empty: buttons, /stats and limits start afresh at restart")
        return SqliteState(None)
    try:
        sqlite = SqliteState(state_dir / (f"state-{bot}.sqlite3" if bot else STATE_FILE))
    except OSError as exc:
        logger.warning("state directory %s is unusable (%s): state kept in memory", state_dir, exc)
        return SqliteState(None)
    logger.info("state: %s", sqlite.path)
    return sqlite
