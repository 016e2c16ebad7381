"""Every user-facing string, in German and English, in one place."""

from __future__ import annotations

import datetime

__all__ = ["LANGUAGES", "format_date", "text", "ui_language"]

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
        "de": "{total} passende Stelle(n) gefunden, hier {shown}:",
        "en": "Found {total} matching passage(s), showing {shown}:",
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
    "files_cached": {
        "de": "{read} Dateien gelesen, {cached} unverändert aus dem Cache",
        "en": "{read} files read, {cached} unchanged from the cache",
    },
    "index_summary": {
        "de": "{documents} Dokumente, {passages} Passagen ({languages}); geladen in {load_s:.2f} s,"
        " indexiert in {build_s:.2f} s",
        "en": "{documents} documents, {passages} passages ({languages}); loaded in {load_s:.2f} s,"
        " indexed in {build_s:.2f} s",
    },
    "skipped_header": {
        "de": "{count} Datei(en) übersprungen:",
        "en": "{count} file(s) skipped:",
    },
    "error": {"de": "Fehler: {message}", "en": "error: {message}"},
    # ---- citebot import-telegram (bot/ingest/tgexport.py)
    "import_summary": {
        "de": "{chats} Kanal/Kanäle importiert nach {path}: {created} neu, {updated} geändert,"
        " {unchanged} unverändert; übersprungen: {service} Service-Nachricht(en),"
        " {empty} ohne Text",
        "en": "{chats} channel(s) imported into {path}: {created} new, {updated} changed,"
        " {unchanged} unchanged; skipped: {service} service message(s), {empty} without text",
    },
    "import_skipped_chats": {
        "de": "{count} Chat(s) nicht importiert (keine Kanäle oder nicht gewählt): {chats}",
        "en": "{count} chat(s) not imported (not channels, or not the one chosen): {chats}",
    },
    "import_reload": {
        "de": "Ein laufender Bot sieht die neuen Beiträge nach /reload (oder SIGHUP).",
        "en": "A running bot sees the new posts after /reload (or SIGHUP).",
    },
    # ---- Telegram bot
    "bot_found": {
        "de": "{total} passende Stelle(n) gefunden, hier {first}–{last}:",
        "en": "Found {total} matching passage(s), showing {first}–{last}:",
    },
    "bot_more_button": {"de": "Weitere Stellen", "en": "More passages"},
    "bot_no_more": {
        "de": "Keine weiteren Stellen zu dieser Frage.",
        "en": "No more passages for this question.",
    },
    "bot_expired": {
        "de": "Diese Frage ist nicht mehr gespeichert – bitte stelle sie neu.",
        "en": "This question is no longer stored – please ask it again.",
    },
    "bot_no_answer": {
        "de": "Nichts in den Quellen beantwortet diese Frage. Die Sammlung umfasst {documents}"
        " Dokument(e), z. B.: {titles}.\nVersuche andere Stichwörter, Namen oder eine kürzere"
        " Frage; /sources zeigt alle Quellen.",
        "en": "Nothing in the sources answers this question. The collection holds {documents}"
        " document(s), e.g.: {titles}.\nTry other keywords, names or a shorter question;"
        " /sources lists every source.",
    },
    "bot_not_a_question": {
        "de": "Bitte stelle deine Frage in Worten, z. B. „{example}“.",
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
        "de": "Ich beantworte Fragen mit wörtlichen Zitaten aus {documents} Dokument(en)"
        " ({passages} Passagen), jeweils mit Quellenlink – ich erfinde nichts dazu.",
        "en": "I answer questions by quoting {documents} document(s) ({passages} passages)"
        " word for word, each with a source link – I never make anything up.",
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
        "de": "So geht’s: /ask gefolgt von deiner Frage, z. B. /ask {example}",
        "en": "Usage: /ask followed by your question, e.g. /ask {example}",
    },
    "bot_sources_header": {
        "de": "{documents} Dokument(e) in der Sammlung:",
        "en": "{documents} document(s) in the collection:",
    },
    "bot_skipped_more": {
        "de": "… und {count} weitere; das Log nennt alle.",
        "en": "… and {count} more; the log lists every one.",
    },
    "bot_sources_more": {"de": "… und {count} weitere.", "en": "… and {count} more."},
    "bot_flood": {
        "de": "Langsam, bitte: höchstens {limit} Fragen pro Minute. Gleich geht es weiter.",
        "en": "Easy, please: at most {limit} questions a minute. Try again in a moment.",
    },
    "bot_admin_only": {
        "de": "Das dürfen nur die Betreiber dieses Bots.",
        "en": "Only the operators of this bot may do that.",
    },
    "bot_reloaded": {
        "de": "Neu geladen: {documents} Dokument(e), {passages} Passagen in {seconds:.2f} s.",
        "en": "Reloaded: {documents} document(s), {passages} passages in {seconds:.2f} s.",
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
        "de": "Laufzeit: {uptime}\nQuellen: {documents} Dokument(e), {passages} Passagen",
        "en": "Uptime: {uptime}\nSources: {documents} document(s), {passages} passages",
    },
    "bot_stats_check_running": {
        "de": "Quelldateien: werden seit {time} geprüft (bis dahin gilt der letzte Stand)",
        "en": "Source files: being checked since {time} (until then, the last committed index)",
    },
    "bot_stats_check": {
        "de": "Quelldateien: zuletzt geprüft {time} ({trigger}), {changed} Datei(en) geändert",
        "en": "Source files: last checked {time} ({trigger}), {changed} file(s) changed",
    },
    "bot_stats_trigger_start": {"de": "nach dem Neustart", "en": "after the restart"},
    "bot_stats_trigger_rescan": {"de": "regelmäßige Prüfung", "en": "periodic rescan"},
    "bot_stats_trigger_watch": {"de": "bemerkte Änderung", "en": "a watched change"},
    "bot_stats_check_failed": {
        "de": "Quelldateien: Prüfung {time} fehlgeschlagen: {reason}",
        "en": "Source files: check at {time} failed: {reason}",
    },
    "bot_stats_window": {
        "de": "Letzte {days} Tage: {questions} Frage(n), davon {unanswered} ohne Antwort"
        " ({percent}\u00a0%)",
        "en": "Last {days} days: {questions} question(s), {unanswered} without an answer"
        " ({percent}%)",
    },
    "bot_stats_missing": {
        "de": "Häufigste Fragen ohne Antwort (letzte {days} Tage):",
        "en": "Most frequent questions without an answer (last {days} days):",
    },
    "bot_error": {
        "de": "Entschuldigung, da ist etwas schiefgegangen. Bitte versuche es noch einmal.",
        "en": "Sorry, something went wrong. Please try again.",
    },
    "bot_inline_help_title": {
        "de": "Frage an die Quellen stellen",
        "en": "Ask the sources a question",
    },
    "bot_inline_help_description": {
        "de": "Tippe eine Frage nach @{bot}, z. B. {example}",
        "en": "Type a question after @{bot}, e.g. {example}",
    },
    "bot_inline_no_answer_title": {
        "de": "Keine passende Stelle gefunden",
        "en": "No matching passage found",
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
        "de": "{name} wurde nicht aufgenommen: {size_mb} MB, erlaubt sind {limit_mb} MB"
        " (MAX_FILE_MB).",
        "en": "{name} was not added: {size_mb} MB, the limit is {limit_mb} MB (MAX_FILE_MB).",
    },
    "upload_too_big_for_telegram": {
        "de": "{name} wurde nicht aufgenommen: Telegram gibt Bots keine Dateien über 20 MB heraus."
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
        "de": "{name} aufgenommen: {documents} Dokument(e). Die Quellen umfassen jetzt"
        " {total} Dokument(e), {passages} Passagen.",
        "en": "{name} added: {documents} document(s). The sources now hold {total} document(s),"
        " {passages} passages.",
    },
    "upload_replaced": {
        "de": "{name} ersetzt: {documents} Dokument(e). Die Quellen umfassen jetzt"
        " {total} Dokument(e), {passages} Passagen.",
        "en": "{name} replaced: {documents} document(s). The sources now hold {total}"
        " document(s), {passages} passages.",
    },
    "upload_imported": {
        "de": "Export {name} eingelesen: {created} neue, {updated} geänderte, {unchanged}"
        " unveränderte Beiträge; {skipped} ohne Text oder Dienstnachricht übersprungen."
        " Die Quellen umfassen jetzt {total} Dokument(e), {passages} Passagen.",
        "en": "Export {name} imported: {created} new, {updated} changed, {unchanged} unchanged"
        " posts; {skipped} without text or service messages skipped. The sources now hold"
        " {total} document(s), {passages} passages.",
    },
    "upload_index_failed": {
        "de": "{name} wurde gespeichert, aber der Index konnte nicht erneuert werden: {reason}",
        "en": "{name} was saved, but the index could not be updated: {reason}",
    },
}


def ui_language(language_code: str | None) -> str:
    """The interface language for a Telegram ``language_code``: German for de*, else English."""
    return "de" if (language_code or "").lower().startswith("de") else "en"


def text(key: str, lang: str = "en", **values: object) -> str:
    """The string ``key`` in ``lang`` (English when the language is not supported)."""
    entry = _TEXTS[key]
    template = entry.get(lang) or entry["en"]
    return template.format(**values) if values else template


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
