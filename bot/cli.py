"""Command line: `citebot ask`, `index`, `run`, `import-telegram` (and `python -m bot ...`)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from bot import tme
from bot.engine import Query, parse_query, period_end, period_start
from bot.errors import CitebotError, CorpusError
from bot.ingest import import_export, remove_partial_writes, remove_stale_uploads
from bot.loader import LoadedCorpus, empty_corpus, load_corpus_for, open_last_for
from bot.serving import answer_to_dict, format_plain
from bot.settings import Settings, load_settings
from bot.texts import text

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citebot",
        description="Answers questions by quoting the passages of a corpus that answer them.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer a question from the corpus")
    ask.add_argument("question", help="the question, in German or English")
    ask.add_argument("--top", type=int, default=None, metavar="K", help="number of passages")
    ask.add_argument("--json", action="store_true", help="print exactly one JSON object")
    ask.add_argument("--corpus", type=Path, default=None, metavar="DIR", help="corpus directory")
    ask.add_argument(
        "--since",
        type=_day(period_start),
        default=None,
        metavar="DATE",
        help="only documents of this day or later (YYYY-MM-DD, YYYY-MM or YYYY: its first day)",
    )
    ask.add_argument(
        "--until",
        type=_day(period_end),
        default=None,
        metavar="DATE",
        help="only documents of this day or earlier (YYYY-MM-DD, YYYY-MM or YYYY: its last day)",
    )
    ask.add_argument(
        "--channel",
        type=_channel,
        default=None,
        metavar="NAME",
        help="only posts of this source channel (@NAME, NAME, a t.me link, or its id)",
    )
    ask.add_argument("--newest", action="store_true", help="newest first instead of best first")
    index = sub.add_parser("index", help="load the corpus and report what it holds")
    index.add_argument("--corpus", type=Path, default=None, metavar="DIR", help="corpus directory")
    sub.add_parser("run", help="run the Telegram bot (long polling, or webhook if WEBHOOK_URL)")
    imp = sub.add_parser(
        "import-telegram", help="turn a Telegram Desktop export (result.json) into corpus posts"
    )
    imp.add_argument("export", type=Path, metavar="result.json", help="the exported JSON file")
    imp.add_argument(
        "--channel",
        default=None,
        metavar="NAME",
        help="the channel's public username (@NAME or https://t.me/NAME): links become"
        " t.me/NAME/<id>; without it t.me/c/<id>/<id> as for a private channel",
    )
    imp.add_argument("--corpus", type=Path, default=None, metavar="DIR", help="corpus directory")
    return parser


def _day(
    parse: Callable[[str], datetime.date | None],
) -> Callable[[str], datetime.date]:
    def convert(value: str) -> datetime.date:
        day = parse(value)
        if day is None:
            raise argparse.ArgumentTypeError(f"not a date: {value!r} (YYYY-MM-DD, YYYY-MM, YYYY)")
        return day

    return convert


def _channel(value: str) -> str:
    key = tme.channel_key(value)
    if key is None:
        raise argparse.ArgumentTypeError(f"not a channel: {value!r} (@NAME or a t.me link)")
    return key


def _query(args: argparse.Namespace) -> Query:
    """The question's own filter tokens, narrowed by the flags (a period in both must hold for
    both; ``--channel`` names the channel)."""
    query = parse_query(args.question)
    since, until = query.since, query.until
    if args.since is not None:
        since = args.since if since is None else max(since, args.since)
    if args.until is not None:
        until = args.until if until is None else min(until, args.until)
    return dataclasses.replace(
        query,
        since=since,
        until=until,
        channel=args.channel or query.channel,
        newest=args.newest or query.newest,
    )


def _load(settings: Settings, corpus: Path | None) -> LoadedCorpus:
    return load_corpus_for(settings, corpus_dir=corpus)


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    top = args.top if args.top is not None else settings.results_per_answer
    if top < 1:
        raise CitebotError("--top must be at least 1")
    loaded = _load(settings, args.corpus)
    if loaded.corpus.skipped:
        print(
            f"warning: {len(loaded.corpus.skipped)} file(s) skipped; `citebot index` lists them",
            file=sys.stderr,
        )
    query = _query(args)
    answer = dataclasses.replace(loaded.engine.search(query, k=top), query=args.question)
    if args.json:
        print(json.dumps(answer_to_dict(answer), ensure_ascii=False))
    else:
        print(format_plain(answer, bold=sys.stdout.isatty()))
    return 0


def _index(args: argparse.Namespace, settings: Settings) -> int:
    loaded = _load(settings, args.corpus)
    stats = loaded.engine.stats
    languages = ", ".join(f"{lang}: {n}" for lang, n in stats.languages)
    print(
        text(
            "index_summary",
            documents=stats.documents,
            passages=stats.passages,
            languages=languages,
            load_s=loaded.load_seconds,
            build_s=stats.build_seconds,
        )
    )
    if loaded.corpus.skipped:
        print(text("skipped_header", count=len(loaded.corpus.skipped)))
        for skipped in loaded.corpus.skipped:
            print(f"  {skipped.path}: {skipped.reason}")
    if settings.cache_dir:
        read = loaded.corpus.files - loaded.cached_files
        print(text("files_cached", read=read, cached=loaded.cached_files))
    print(text(f"snapshot_{loaded.snapshot}", path=settings.cache_dir))
    print(_cross_language(loaded, settings))
    return 0


def _cross_language(loaded: LoadedCorpus, settings: Settings) -> str:
    """Whether questions in the other language find the sources, and how to turn that on."""
    if loaded.engine.lexicon is not None:
        return text("cross_on", path=settings.dictionary_path)
    if settings.dictionary_path is None:
        return text("cross_disabled")
    return text("cross_off", path=settings.dictionary_path)


_SHOWN_CHATS = 10


def _import_telegram(args: argparse.Namespace, settings: Settings) -> int:
    corpus: Path = args.corpus or settings.corpus_dir
    report = import_export(args.export, corpus, channel=args.channel)
    print(
        text(
            "import_summary",
            chats=report.chats,
            path=corpus / "telegram",
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            service=report.skipped_service,
            empty=report.skipped_empty,
        )
    )
    if report.replaced:
        print(text("import_replaced", count=report.replaced))
    if report.skipped_chats:
        names = ", ".join(str(chat) for chat in report.skipped_chats[:_SHOWN_CHATS])
        if len(report.skipped_chats) > _SHOWN_CHATS:
            names += ", …"
        print(text("import_skipped_chats", count=len(report.skipped_chats), chats=names))
    if report.paths:
        print(text("import_reload"))
    return 0


class _Redact(logging.Filter):
    """Removes the bot token from every log record, whatever logged it."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._secret in message:
            record.msg, record.args = message.replace(self._secret, "[token]"), None
        if record.exc_info and not record.exc_text:  # tracebacks can hold request URLs too
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self._secret in record.exc_text:
            record.exc_text = record.exc_text.replace(self._secret, "[token]")
        if record.stack_info and self._secret in record.stack_info:
            record.stack_info = record.stack_info.replace(self._secret, "[token]")
        return True


def _run(settings: Settings) -> int:
    import asyncio

    from bot.chat import serve
    from bot.serving import builds_running
    from bot.settings import require_token

    token = require_token(settings)
    root = logging.getLogger()
    root.setLevel(settings.log_level)
    for handler in root.handlers:
        handler.addFilter(_Redact(token))
    for noisy in ("httpx", "httpcore"):  # httpx logs request URLs, which contain the token
        logging.getLogger(noisy).setLevel(logging.WARNING)
    log = logging.getLogger("bot.run")
    for path in remove_partial_writes(settings.corpus_dir):
        log.info("removed %s, left by a post write that never finished", path)
    for path in remove_stale_uploads(settings.corpus_dir):
        log.info("removed %s, left by an upload that never finished", path)
    # The last committed index serves at once; the files are checked once the bot runs.
    last = open_last_for(settings)
    if last is not None:
        log.info(
            "serving the last committed index; checking %s in the background", settings.corpus_dir
        )
        loaded = last
    else:
        try:
            loaded = _load(settings, None)
        except CorpusError as exc:
            if not settings.receives_documents:
                raise CorpusError(
                    f"{exc}; and nothing could bring documents in (no SOURCE_CHANNELS, no"
                    " ADMIN_IDS to upload files): not starting"
                ) from None
            log.warning(
                "starting without documents (%s): waiting for posts of SOURCE_CHANNELS and"
                " files from ADMIN_IDS",
                exc,
            )
            loaded = empty_corpus(exc)
    stats = loaded.engine.stats
    log.info(
        "corpus %s: %d documents, %d passages, %d skipped; loaded in %.2f s, indexed in %.2f s",
        settings.corpus_dir,
        stats.documents,
        stats.passages,
        len(loaded.corpus.skipped),
        loaded.load_seconds,
        stats.build_seconds,
    )
    log.info(
        "index snapshot: %s (%s); corpus files from the cache: %d of %d",
        loaded.snapshot,
        settings.cache_dir,
        loaded.cached_files,
        loaded.corpus.files,
    )
    for skipped in loaded.corpus.skipped:
        log.warning("skipped %s: %s", skipped.path, skipped.reason)
    log.info("%s", _cross_language(loaded, settings))
    if loaded.engine.lexicon is not None:
        # Parsed (or read from the cache) now, not at the first question in the other language.
        threading.Thread(target=loaded.engine.lexicon.load, name="lexicon", daemon=True).start()
    try:
        asyncio.run(serve(settings, loaded, check_first=last is not None))
    except CitebotError as exc:
        raise CitebotError(str(exc).replace(token, "[token]")) from None
    if builds_running():
        # A build abandoned at shutdown still runs in its daemon thread. Finalizing the
        # interpreter under it can abort the process: numpy's C++ sorts cannot unwind the
        # thread's forced exit ("terminate called without an active exception", SIGABRT). Its
        # work is thrown away anyway, and every file it read is whole on disk.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        if args.command == "ask":
            code = _ask(args, settings)
        elif args.command == "run":
            code = _run(settings)
        elif args.command == "import-telegram":
            code = _import_telegram(args, settings)
        else:
            code = _index(args, settings)
        sys.stdout.flush()  # here, where a reader gone away is caught, not at exit
        return code
    except CitebotError as exc:
        print(text("error", message=exc), file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (``citebot ask … | head``): what it wanted it has. Python would
        # still try to flush stdout at exit and print a traceback; point it at nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
