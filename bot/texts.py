"""Every user-facing string, in German and English, in one place, with the typography of each
language applied by :func:`text` itself (so no caller formats a number):

- a count with a noun is written ``{documents:Dokument|Dokumente}`` and comes out as
  "1 Dokument" / "3 Dokumente" (never "Dokument(e)");
- whole numbers get the language's thousands separator ("12.345" / "12,345");
- a float with a precision (``{seconds:.2f}``) gets a decimal comma in German ("0,07");
- German puts a no-break space (U+00A0) before "%" and units ("18 %", "0,07 s"), English
  writes "18%". U+00A0 rather than the narrow U+202F of DIN 5008: every phone font has it (older
  Android fonts draw U+202F as a box), and like U+202F it never lets "%" wrap onto a line alone;
- quotations are „…“ in German and “…” in English (:func:`quoted`).
"""

from __future__ import annotations

import datetime
import string

__all__ = [
    "LANGUAGES",
    "decimal",
    "format_date",
    "number",
    "quoted",
    "templates",
    "text",
    "ui_language",
]

LANGUAGES = ("de", "en")

_TEXTS: dict[str, dict[str, str]] = {
    "no_answer": {
        "de": "Nichts in den Quellen beantwortet diese Frage.",
        "en": "Nothing in the sources answers this question.",
    },
    "no_answer_filtered": {
        "de": "Mit diesen Filtern (Zeitraum, Kanal) beantwortet nichts in den Quellen diese Frage.",
        "en": "Nothing in the sources answers this question with these filters (period, channel).",
    },
    "found": {
        "de": "{total:passende Stelle|passende Stellen} gefunden:",
        "en": "Found {total:matching passage|matching passages}:",
    },
    "source": {"de": "Quelle", "en": "Source"},
    "post": {"de": "Beitrag", "en": "Post"},
    "snapshot_loaded": {
        "de": "Index aus dem Snapshot in {path} geladen",
        "en": "index loaded from the snapshot in {path}",
    },
    "snapshot_written": {
        "de": "Index gebaut, Snapshot in {path} geschrieben",
        "en": "index built, snapshot written to {path}",
    },
    "snapshot_unsaved": {
        "de": "Index gebaut, Snapshot nicht geschrieben ({path} nicht nutzbar)",
        "en": "index built, snapshot not written ({path} not usable)",
    },
    "snapshot_off": {
        "de": "Index gebaut (Snapshots aus: CACHE_DIR ist leer)",
        "en": "index built (snapshots off: CACHE_DIR is empty)",
    },
    "cross_on": {
        "de": "Fragen auf Englisch oder Deutsch finden Quellen beider Sprachen (Wörterbuch {path})",
        "en": "cross-language answers on: questions in English or German find sources in "
        "either (dictionary {path})",
    },
    "cross_off": {
        "de": "Fragen in der anderen Sprache als die der Quellen: aus (kein Wörterbuch in "
        "{path}; einschalten mit „apt-get install trans-de-en“ oder DICTIONARY_PATH)",
        "en": "cross-language answers off: no dictionary at {path} (turn them on with "
        "`apt-get install trans-de-en`, or point DICTIONARY_PATH at a Ding file)",
    },
    "cross_disabled": {
        "de": "Fragen in der anderen Sprache als die der Quellen: aus (DICTIONARY_PATH ist leer)",
        "en": "cross-language answers off (DICTIONARY_PATH is empty)",
    },
    "quotes_in": {
        "de": "Die Zitate sind auf {language}.",
        "en": "The quotes are in {language}.",
    },
    "language_de": {"de": "Deutsch", "en": "German"},
    "language_en": {"de": "Englisch", "en": "English"},
    "files_cached": {
        "de": "{read} Dateien gelesen, {cached} unverändert aus dem Cache",
        "en": "{read} files read, {cached} unchanged from the cache",
    },
    "index_summary": {
        "de": "{documents:Dokument|Dokumente}, {passages:Passage|Passagen} ({languages});"
        " geladen in {load_s:.2f}\u00a0s, indexiert in {build_s:.2f}\u00a0s",
        "en": "{documents:document|documents}, {passages:passage|passages} ({languages});"
        " loaded in {load_s:.2f} s, indexed in {build_s:.2f} s",
    },
    "skipped_header": {
        "de": "{count:Datei|Dateien} übersprungen:",
        "en": "{count:file|files} skipped:",
    },
    "error": {"de": "Fehler: {message}", "en": "error: {message}"},
    # ---- citebot import-telegram (bot/ingest/tgexport.py)
    "import_replaced": {
        "de": "{count} frühere Kopien unter einem anderen Namen desselben Kanals ersetzt",
        "en": "{count} earlier copies under another name of the same channel replaced",
    },
    "import_summary": {
        "de": "{chats:Kanal|Kanäle} importiert nach {path}: {created} neu, {updated} geändert,"
        " {unchanged} unverändert; übersprungen: {service:Dienstnachricht|Dienstnachrichten},"
        " {empty} ohne Text",
        "en": "{chats:channel|channels} imported into {path}: {created} new, {updated} changed,"
        " {unchanged} unchanged; skipped: {service:service message|service messages},"
        " {empty} without text",
    },
    "import_skipped_chats": {
        "de": "{count:Chat|Chats} nicht importiert (keine Kanäle oder nicht gewählt): {chats}",
        "en": "{count:chat|chats} not imported (not channels, or not the one chosen): {chats}",
    },
    "import_reload": {
        "de": "Ein laufender Bot sieht die neuen Beiträge nach /reload (oder SIGHUP).",
        "en": "A running bot sees the new posts after /reload (or SIGHUP).",
    },
    # ---- Telegram bot
    "bot_found": {
        "de": "{total:passende Stelle|passende Stellen} gefunden:",
        "en": "Found {total:matching passage|matching passages}:",
    },
    "bot_found_newest": {
        "de": "{total:passende Stelle|passende Stellen} gefunden, die neuesten zuerst:",
        "en": "Found {total:matching passage|matching passages}, newest first:",
    },
    "bot_page_previous": {"de": "◀", "en": "◀"},
    "bot_page_next": {"de": "▶", "en": "▶"},
    "bot_page_of": {"de": "{page}/{pages}", "en": "{page}/{pages}"},
    "bot_order_newest": {"de": "Neueste zuerst", "en": "Newest first"},
    "bot_order_best": {"de": "Beste zuerst", "en": "Best first"},
    "bot_no_more": {
        "de": "Keine weiteren Stellen zu dieser Frage.",
        "en": "No more passages for this question.",
    },
    "bot_uptime_days": {"de": "{days:Tag|Tage}, {clock}", "en": "{days:day|days}, {clock}"},
    "bot_expired": {
        "de": "Diese Frage ist nicht mehr gespeichert – bitte stelle sie neu.",
        "en": "This question is no longer stored – please ask it again.",
    },
    "bot_no_answer": {
        "de": "Nichts in den Quellen beantwortet diese Frage. Die Sammlung umfasst"
        " {documents:Dokument|Dokumente}, z.\u00a0B.: {titles}.\nVersuche andere Stichwörter,"
        " Namen oder eine kürzere Frage; /sources zeigt alle Quellen.",
        "en": "Nothing in the sources answers this question. The collection holds"
        " {documents:document|documents}, e.g.: {titles}.\nTry other keywords, names or a"
        " shorter question; /sources lists every source.",
    },
    "bot_empty": {
        "de": "Noch ist nichts in den Quellen: ich warte auf die ersten Beiträge meiner Kanäle"
        " oder Dateien meiner Betreiber. Frag bald noch einmal.",
        "en": "There is nothing in the sources yet: I am waiting for the first posts of my"
        " channels or files from my operators. Please ask again soon.",
    },
    "bot_filter_hint": {
        "de": "Versuche es ohne Filter oder mit einem längeren Zeitraum; /sources zeigt alle"
        " Quellen mit Datum.",
        "en": "Try without the filters or with a longer period; /sources lists every source"
        " with its date.",
    },
    "bot_not_a_question": {
        "de": "Bitte stelle deine Frage in Worten, z.\u00a0B. „{example}“.",
        "en": "Please ask your question in words, e.g. “{example}”.",
    },
    "bot_text_only": {
        "de": "Ich beantworte nur Fragen als Text. /help erklärt, wie.",
        "en": "I only answer questions sent as text. /help explains how.",
    },
    "bot_unknown_command": {
        "de": "Diesen Befehl kenne ich nicht. /help zeigt, was ich kann.",
        "en": "I don't know that command. /help shows what I can do.",
    },
    "bot_welcome": {
        "de": "Ich beantworte Fragen mit wörtlichen Zitaten aus {documents:Dokument|Dokumenten}"
        " ({passages:Passage|Passagen}), jeweils mit Quellenlink – ich erfinde nichts dazu.",
        "en": "I answer questions by quoting {documents:document|documents}"
        " ({passages:passage|passages}) word for word, each with a source link – I never make"
        " anything up.",
    },
    "bot_documents_header": {"de": "Die Quellen:", "en": "The sources:"},
    "bot_examples_header": {"de": "Zum Beispiel:", "en": "For example:"},
    "bot_usage": {
        "de": "Schreib mir einfach eine Frage. In Gruppen: /ask Frage, @{bot} Frage oder eine"
        " Antwort auf eine meiner Nachrichten. Überall: @{bot} Frage (Inline). /sources listet"
        " die Quellen.\nFilter in der Frage: seit:2024-01-01, bis:2024-03-31 (einschließlich)"
        " oder ein Monat wie 2024-03; ein Kanal mit @Kanalname oder kanal:Kanalname."
        " Zum Beispiel: „Inflation seit:2024-01 kanal:Kanalname“.",
        "en": "Just send me a question. In groups: /ask question, @{bot} question or a reply to"
        " one of my messages. Anywhere: @{bot} question (inline). /sources lists the sources."
        "\nFilters in the question: since:2024-01-01, until:2024-03-31 (inclusive) or a month"
        " such as 2024-03; a channel as @channelname or channel:channelname."
        " For example: “inflation since:2024-01 channel:channelname”.",
    },
    "bot_ask_usage": {
        "de": "So geht’s: /ask gefolgt von deiner Frage, z.\u00a0B. /ask {example}",
        "en": "Usage: /ask followed by your question, e.g. /ask {example}",
    },
    "bot_sources_header": {
        "de": "{documents:Dokument|Dokumente} in der Sammlung, die neuesten zuerst:",
        "en": "{documents:document|documents} in the collection, newest first:",
    },
    "bot_skipped_more": {
        "de": "… und {count} weitere; das Log nennt alle.",
        "en": "… and {count} more; the log lists every one.",
    },
    "bot_sources_more": {"de": "… und {count} weitere.", "en": "… and {count} more."},
    "bot_sources_page": {
        "de": "{documents:Dokument|Dokumente} in der Sammlung, die neuesten zuerst"
        " (Seite {page} von {pages}):",
        "en": "{documents:document|documents} in the collection, newest first"
        " (page {page} of {pages}):",
    },
    "bot_expired_list": {
        "de": "Diese Liste ist veraltet – /sources zeigt die aktuelle.",
        "en": "This list is out of date – /sources shows the current one.",
    },
    "bot_description": {
        "de": "Ich beantworte Fragen zu meinen Quellen mit wörtlichen Zitaten, jeweils mit Datum"
        " und Link – oder sage ehrlich, dass nichts darin die Frage beantwortet. Ich erfinde"
        " nichts dazu.\n\nSchreib mir einfach eine Frage, oder tippe @ und meinen Namen in einem"
        " anderen Chat.",
        "en": "I answer questions about my sources by quoting them word for word, each quote with"
        " its date and link – or say honestly that nothing in them answers. I never make"
        " anything up.\n\nJust send me a question, or type @ and my name in any other chat.",
    },
    "bot_short_description": {
        "de": "Antworten mit wörtlichen Zitaten aus den Quellen, mit Datum und Link.",
        "en": "Answers as word-for-word quotes from the sources, with date and link.",
    },
    "bot_flood": {
        "de": "Langsam, bitte: höchstens {limit} Fragen pro Minute. Gleich geht es weiter.",
        "en": "Easy, please: at most {limit} questions a minute. Try again in a moment.",
    },
    "bot_admin_only": {
        "de": "Das dürfen nur die Betreiber dieses Bots.",
        "en": "Only the operators of this bot may do that.",
    },
    "bot_reloaded": {
        "de": "Neu geladen: {documents:Dokument|Dokumente}, {passages:Passage|Passagen} in"
        " {seconds:.2f}\u00a0s.",
        "en": "Reloaded: {documents:document|documents}, {passages:passage|passages} in"
        " {seconds:.2f} s.",
    },
    "bot_reload_failed": {
        "de": "Neu laden fehlgeschlagen, die bisherigen Quellen bleiben aktiv: {reason}",
        "en": "Reload failed, the previous sources stay active: {reason}",
    },
    "bot_reload_stopped": {
        "de": "Neu laden abgebrochen: der Bot wird gerade beendet. Nach dem Neustart sind die"
        " aktuellen Dateien geladen.",
        "en": "Reload abandoned: the bot is shutting down. After the restart the current files"
        " are loaded.",
    },
    "bot_stats": {
        "de": "Läuft seit: {uptime}\nQuellen: {documents:Dokument|Dokumente},"
        " {passages:Passage|Passagen}",
        "en": "Running for: {uptime}\nSources: {documents:document|documents},"
        " {passages:passage|passages}",
    },
    "bot_stats_check_running": {
        "de": "Quelldateien: werden seit {time} geprüft (bis dahin gilt der letzte Stand)",
        "en": "Source files: being checked since {time} (until then, the last committed index)",
    },
    "bot_stats_check": {
        "de": "Quelldateien: zuletzt geprüft {time} ({trigger}), {changed:Datei|Dateien} geändert",
        "en": "Source files: last checked {time} ({trigger}), {changed:file|files} changed",
    },
    "bot_stats_trigger_start": {"de": "nach dem Neustart", "en": "after the restart"},
    "bot_stats_trigger_rescan": {"de": "regelmäßige Prüfung", "en": "periodic rescan"},
    "bot_stats_trigger_watch": {"de": "bemerkte Änderung", "en": "a watched change"},
    "bot_stats_check_failed": {
        "de": "Quelldateien: Prüfung {time} fehlgeschlagen: {reason}",
        "en": "Source files: check at {time} failed: {reason}",
    },
    "bot_stats_window": {
        "de": "Fragen der letzten {days} Tage: {questions}, davon {unanswered} ohne Antwort"
        " ({percent}\u00a0%)",
        "en": "Questions in the last {days} days: {questions}, {unanswered} of them without an"
        " answer ({percent}%)",
    },
    "bot_stats_missing": {
        "de": "Häufigste Fragen ohne Antwort der letzten {days} Tage:",
        "en": "Most frequent questions without an answer in the last {days} days:",
    },
    "bot_post_retrying": {
        "de": "Der Beitrag {link} konnte nicht gespeichert werden ({error}). Ich versuche es"
        " noch eine halbe Minute lang.",
        "en": "The post {link} could not be saved ({error}). I will keep trying for half a minute.",
    },
    "bot_post_saved_late": {
        "de": "Der Beitrag {link} ist nun doch gespeichert.",
        "en": "The post {link} is saved after all.",
    },
    "bot_post_not_saved": {
        "de": "Der Beitrag {link} wurde nicht gespeichert ({error}) und fehlt in den Quellen."
        " Sobald wieder Platz ist: den Beitrag bearbeiten (dann kommt er erneut) oder den"
        " Kanal exportieren und mit „citebot import-telegram“ einlesen.",
        "en": "The post {link} was not saved ({error}) and is missing from the sources. Once"
        " there is room again, edit the post (it then arrives again) or export the channel"
        " and read it in with `citebot import-telegram`.",
    },
    "bot_stats_missing_private": {
        "de": "Die häufigsten Fragen ohne Antwort zeigt /stats nur im privaten Chat mit mir.",
        "en": "/stats shows the most frequent questions without an answer in a private chat"
        " with me only.",
    },
    "bot_error": {
        "de": "Entschuldigung, da ist etwas schiefgegangen. Bitte versuche es noch einmal.",
        "en": "Sorry, something went wrong. Please try again.",
    },
    "bot_inline_help_button": {
        "de": "Tippe eine Frage – so geht’s",
        "en": "Type a question – here is how",
    },
    "bot_inline_no_answer_button": {
        "de": "Keine passende Stelle – so fragst du besser",
        "en": "No matching passage – how to ask better",
    },
    "bot_commands": {
        "de": "start:Was dieser Bot kann|help:Hilfe und Beispielfragen|ask:Eine Frage stellen"
        "|sources:Die Quellen anzeigen",
        "en": "start:What this bot does|help:Help and example questions|ask:Ask a question"
        "|sources:List the sources",
    },
    # ---- admin uploads (bot/ingest/uploads.py; UploadError codes are keys here)
    "upload_admin_only": {
        "de": "Dokumente hinzufügen dürfen nur die Betreiber dieses Bots.",
        "en": "Only the operators of this bot may add documents.",
    },
    "upload_bad_type": {
        "de": "{name} wurde nicht aufgenommen: dieses Format kenne ich nicht."
        " Möglich sind {formats} (.json: ein Telegram-Desktop-Export).",
        "en": "{name} was not added: I do not know this format."
        " Possible are {formats} (.json: a Telegram Desktop export).",
    },
    "upload_too_large": {
        "de": "{name} wurde nicht aufgenommen: {size_mb}\u00a0MB, erlaubt sind"
        " {limit_mb}\u00a0MB (MAX_FILE_MB).",
        "en": "{name} was not added: {size_mb} MB, the limit is {limit_mb} MB (MAX_FILE_MB).",
    },
    "upload_too_big_for_telegram": {
        "de": "{name} wurde nicht aufgenommen: Telegram gibt Bots keine Dateien über 20\u00a0MB"
        " heraus."
        " Lege die Datei direkt in CORPUS_DIR ab (dann /reload) oder nutze einen eigenen"
        " Bot-API-Server.",
        "en": "{name} was not added: Telegram does not hand files over 20 MB to bots."
        " Put the file into CORPUS_DIR directly (then /reload) or use a self-hosted Bot API"
        " server.",
    },
    "upload_download_failed": {
        "de": "{name} konnte nicht heruntergeladen werden. Bitte schicke die Datei noch einmal.",
        "en": "{name} could not be downloaded. Please send the file again.",
    },
    "upload_not_writable": {
        "de": "{name} wurde nicht aufgenommen: CORPUS_DIR ist nicht beschreibbar ({reason}).",
        "en": "{name} was not added: CORPUS_DIR is not writable ({reason}).",
    },
    "upload_unusable": {
        "de": "{name} wurde nicht aufgenommen: {reason}",
        "en": "{name} was not added: {reason}",
    },
    "upload_added": {
        "de": "{name} aufgenommen: {documents:Dokument|Dokumente}. Die Quellen umfassen jetzt"
        " {total:Dokument|Dokumente}, {passages:Passage|Passagen}.",
        "en": "{name} added: {documents:document|documents}. The sources now hold"
        " {total:document|documents}, {passages:passage|passages}.",
    },
    "upload_replaced": {
        "de": "{name} ersetzt: {documents:Dokument|Dokumente}. Die Quellen umfassen jetzt"
        " {total:Dokument|Dokumente}, {passages:Passage|Passagen}.",
        "en": "{name} replaced: {documents:document|documents}. The sources now hold"
        " {total:document|documents}, {passages:passage|passages}.",
    },
    "upload_imported": {
        "de": "Export {name} eingelesen: {created} neue, {updated} geänderte, {unchanged}"
        " unveränderte Beiträge; {skipped} ohne Text oder Dienstnachricht übersprungen."
        " Die Quellen umfassen jetzt {total:Dokument|Dokumente}, {passages:Passage|Passagen}.",
        "en": "Export {name} imported: {created} new, {updated} changed, {unchanged} unchanged"
        " posts; {skipped} without text or service messages skipped. The sources now hold"
        " {total:document|documents}, {passages:passage|passages}.",
    },
    "upload_index_failed": {
        "de": "{name} wurde gespeichert, aber der Index konnte nicht erneuert werden: {reason}",
        "en": "{name} was saved, but the index could not be updated: {reason}",
    },
}


_THOUSANDS = {"de": ".", "en": ","}
_DECIMAL = {"de": ",", "en": "."}


def ui_language(language_code: str | None, default: str) -> str:
    """The interface language for a Telegram ``language_code`` ("de", "en-GB", "pt-br" ...):
    that language if the bot speaks it, else ``default`` (also when there is none)."""
    primary = (language_code or "").lower().replace("_", "-").split("-", 1)[0]
    return primary if primary in LANGUAGES else default


def number(value: int, lang: str) -> str:
    """A whole number with the language's thousands separator: "12.345" / "12,345"."""
    return f"{value:,}".replace(",", _THOUSANDS.get(lang, ","))


def decimal(value: float, lang: str, spec: str = ".2f") -> str:
    """A decimal number with the language's decimal mark: "0,07" / "0.07"."""
    return format(value, spec).replace(".", _DECIMAL.get(lang, "."))


def quoted(value: str, lang: str) -> str:
    """``value`` in the language's quotation marks: „…“ in German, “…” in English."""
    return f"„{value}“" if lang == "de" else f"“{value}”"


class _Typography(string.Formatter):
    """``str.format`` with the language's way of writing counts and numbers (see the module
    docstring); any other value is formatted as ``str.format`` would."""

    def __init__(self, lang: str) -> None:
        self._lang = lang

    def format_field(self, value: object, format_spec: str) -> str:
        if isinstance(value, bool):
            return format(value, format_spec)
        if isinstance(value, int):
            if "|" in format_spec:
                one, many = format_spec.split("|", 1)
                return f"{number(value, self._lang)} {one if value == 1 else many}"
            if not format_spec:
                return number(value, self._lang)
        if isinstance(value, float):
            # A whole MB stays whole ("20 MB"), else one place ("20,5 MB").
            spec = format_spec or (".0f" if value.is_integer() else ".1f")
            return decimal(value, self._lang, spec)
        return format(value, format_spec)


def templates() -> list[tuple[str, str, str]]:
    """Every (key, language, template), for checks that hold for all strings."""
    return [(key, lang, value) for key, entry in _TEXTS.items() for lang, value in entry.items()]


def text(key: str, lang: str = "en", **values: object) -> str:
    """The string ``key`` in ``lang`` (English when the language is not supported), its values
    written in that language's typography."""
    entry = _TEXTS[key]
    language = lang if lang in entry else "en"
    template = entry[language]
    return _Typography(language).format(template, **values) if values else template


_MONTHS = {
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "en": "January February March April May June July August September October November December",
}


def format_date(value: str | None, lang: str = "en") -> str | None:
    """A document's date (ISO 8601, a day or a moment) as a reader writes it: "2. Dezember 2022"
    / "2 December 2022", the day as written (no zone conversion); None without a readable date,
    so nothing rather than a wrong date is shown."""
    if not value:
        return None
    try:
        day = datetime.datetime.fromisoformat(value).date()
    except ValueError:
        return None
    months = _MONTHS.get(lang, _MONTHS["en"]).split()
    month = months[day.month - 1]
    if lang == "de":
        return f"{day.day}. {month} {day.year}"
    return f"{day.day} {month} {day.year}"
