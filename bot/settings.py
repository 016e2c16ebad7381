"""Settings from the environment and `.env` (the only module that imports pydantic_settings)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot import tme
from bot.errors import SettingsError

__all__ = [
    "Settings",
    "default_cache_dir",
    "default_state_dir",
    "load_settings",
    "require_token",
]

_TOKEN_RE = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{20,100}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/citebot``, else ``~/.cache/citebot``."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "citebot"


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/citebot``, else ``~/.local/state/citebot``: what the bot remembers is
    state, not cache (deleting the caches must not lose /stats or break buttons)."""
    base = os.environ.get("XDG_STATE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".local" / "state") / "citebot"


class Settings(BaseSettings):
    """Every setting citebot reads; `.env.example` documents each one."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    corpus_dir: Path = Path("corpus")
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()

    results_per_answer: int = Field(default=3, ge=1, le=10)
    passage_chars: int = Field(default=500, ge=80, le=3000)
    default_language: Literal["de", "en"] = "de"
    max_file_mb: int = Field(default=50, ge=1, le=10_000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Index snapshots (bot/store/snapshot.py); None (set it empty) disables them.
    cache_dir: Path | None = Field(default_factory=default_cache_dir)
    # Processes analysing documents in big builds (bot/engine/workers.py): 0 = one per CPU, 1 =
    # none.
    build_workers: int = Field(default=0, ge=0, le=8)
    # The Ding German-English dictionary (Debian: trans-de-en) for questions in the other
    # language than the sources' (bot/engine/bilingual.py); None (set it empty) turns them off.
    dictionary_path: Path | None = Path("/usr/share/trans/de-en")

    # Telegram bot (`citebot run`)
    # The bot's state (bot/store/state.py); None (set it empty) keeps it in memory only.
    state_dir: Path | None = Field(default_factory=default_state_dir)
    # The state on a Redis server instead (redis://host:port/db), shared by several replicas.
    state_url: str | None = None
    questions_per_minute: int = Field(default=20, ge=1, le=1000)
    # Search work grows with a question's words (each has its spelling neighbours looked up):
    # bounded, as one user's 4000-character questions would slow everyone's answers.
    max_question_chars: int = Field(default=500, ge=20, le=1000)
    example_questions: Annotated[tuple[str, ...], NoDecode] = (
        "Was fordert Scholz von Putin?",
        "Will Putin einen Waffenstillstand?",
    )
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_secret: SecretStr | None = Field(default=None, validate_default=True)
    health_port: int | None = Field(default=None, ge=1, le=65535)
    # Files added, changed or removed in CORPUS_DIR are indexed while the bot runs: watched
    # (inotify, bot/serving/watch.py) and, as the fallback, every RESCAN_SECONDS (0 = never).
    watch_corpus: bool = True
    rescan_seconds: int = Field(default=300, ge=0, le=86_400)
    # Channels whose posts become corpus documents (ids like -1001234567890 or @usernames).
    source_channels: Annotated[tuple[str, ...], NoDecode] = ()

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_admin_ids(cls, value: object) -> object:
        """ "123, 456" (as written in .env) or a list; user ids are numbers, never usernames."""
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            for part in parts:
                if not part.lstrip("-").isdigit():
                    raise ValueError(f"{part!r} is not a numeric Telegram user id")
            return frozenset(int(p) for p in parts)
        return value

    @field_validator("source_channels", mode="before")
    @classmethod
    def _parse_channels(cls, value: object) -> object:
        """ "-1001234567890, @isw_de" (ids, usernames or t.me links), kept as ids and lowercase
        usernames without "@" so a post's chat can be compared with them."""
        if isinstance(value, str):
            value = [p for p in re.split(r"[,;\s]+", value) if p]
        if not isinstance(value, (list, tuple)):
            return value
        channels: list[str] = []
        for raw in value:
            channel = tme.channel_ref(str(raw))
            if channel is None:
                raise ValueError(f"{raw!r} is neither a channel id nor a @username")
            channels.append(channel)
        return tuple(dict.fromkeys(channels))

    @property
    def receives_documents(self) -> bool:
        """Whether a running bot can be given documents: posts of SOURCE_CHANNELS, or files
        its ADMIN_IDS upload. Such a bot may start with an empty corpus."""
        return bool(self.source_channels or self.admin_ids)

    def is_source_channel(self, chat_id: int, username: str | None) -> bool:
        """Whether posts of this chat belong in the corpus (``SOURCE_CHANNELS``)."""
        names = self.source_channels
        return str(chat_id) in names or bool(username and username.lower() in names)

    @field_validator("example_questions", mode="before")
    @classmethod
    def _split_examples(cls, value: object) -> object:
        """ "question one | question two" (as written in .env) or a list."""
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split("|") if p.strip())
        return value

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _check_webhook_url(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip() or None
        if isinstance(value, str):
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("must be an http(s) URL like https://bot.example.org/telegram")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr | None, info: ValidationInfo) -> object:
        if value is not None and not value.get_secret_value():
            value = None
        if value is None:
            if info.data.get("webhook_url"):
                raise ValueError("required when WEBHOOK_URL is set (1-256 of A-Z a-z 0-9 _ -)")
            return None
        if not _SECRET_RE.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z a-z 0-9 _ -")
        return value

    @field_validator("cache_dir", "state_dir", "dictionary_path", mode="before")
    @classmethod
    def _empty_dir(cls, value: object) -> object:
        if isinstance(value, str):
            return Path(value.strip()).expanduser() if value.strip() else None
        return value

    @field_validator("state_url", mode="before")
    @classmethod
    def _check_state_url(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip() or None
            if value is not None and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
                raise ValueError("must be a redis:// (or rediss://, unix://) URL")
        return value

    @field_validator("health_port", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_api_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("default_language", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value


def load_settings(**overrides: object) -> Settings:
    """Settings, or a SettingsError whose one line names the bad setting and why."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper() if error["loc"] else "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"invalid setting {name}: {message}") from None


def require_token(settings: Settings) -> str:
    """The bot token, or a SettingsError naming TELEGRAM_BOT_TOKEN (never showing its value)."""
    token = settings.telegram_bot_token
    value = token.get_secret_value().strip() if token is not None else ""
    if not value:
        raise SettingsError("invalid setting TELEGRAM_BOT_TOKEN: missing (ask @BotFather for one)")
    if not _TOKEN_RE.fullmatch(value):
        raise SettingsError(
            "invalid setting TELEGRAM_BOT_TOKEN: malformed (expected <digits>:<35 characters>)"
        )
    return value
