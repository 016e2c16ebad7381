"""Telegram Desktop exports ("Export chat history", result.json) for tests, shaped like real ones.

Messages are written as Telegram Desktop writes them: ``text`` a plain string when the message
has no entities, else a list mixing strings and entity objects, with ``text_entities`` beside it
(every part as an entity, strings as ``plain``); dates as local time plus ``date_unixtime``; a
channel's own posts ``from_id: "channel<id>"``, signed posts ``"user<id>"``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

Part = str | dict[str, str]

#: Telegram Desktop writes the date in the exporting computer's time zone (here UTC+1).
LOCAL = timedelta(hours=1)
START = datetime(2022, 12, 3, 10, 0, tzinfo=UTC)


def entity(kind: str, text: str, href: str | None = None) -> dict[str, str]:
    out = {"type": kind, "text": text}
    if href is not None:
        out["href"] = href
    return out


def _entities(text: str | list[Part]) -> list[dict[str, str]]:
    if isinstance(text, str):
        return [entity("plain", text)] if text else []
    return [entity("plain", part) if isinstance(part, str) else part for part in text]


def _dates(when: datetime, key: str = "date") -> dict[str, str]:
    return {
        key: (when + LOCAL).replace(tzinfo=None).isoformat(),
        f"{key}_unixtime": str(int(when.timestamp())),
    }


def message(
    message_id: int,
    text: str | list[Part],
    /,
    *,
    chat: str = "Lage-Ticker",
    from_id: str = "channel1234567890",
    when: datetime = START,
    **extra: Any,
) -> dict[str, Any]:
    """A ``"type": "message"`` entry; ``extra`` adds photo, edited, forwarded_from and so on."""
    out: dict[str, Any] = {"id": message_id, "type": "message", **_dates(when)}
    if "edited" in extra:
        out.update(_dates(extra.pop("edited"), "edited"))
    out.update({"from": chat, "from_id": from_id})
    out.update(extra)
    out["text"] = text
    out["text_entities"] = _entities(text)
    return out


def service(
    message_id: int,
    action: str,
    /,
    *,
    chat: str = "Lage-Ticker",
    actor_id: str = "channel1234567890",
    when: datetime = START,
    **extra: Any,
) -> dict[str, Any]:
    """A ``"type": "service"`` entry (channel created, message pinned…): never a post."""
    return {
        "id": message_id,
        "type": "service",
        **_dates(when),
        "actor": chat,
        "actor_id": actor_id,
        "action": action,
        **extra,
        "text": "",
        "text_entities": [],
    }


def chat(
    name: str, chat_id: int, messages: Sequence[dict[str, Any]], kind: str = "public_channel"
) -> dict[str, Any]:
    """One chat as a single-chat export writes it (and as an entry of a full-account export)."""
    return {"name": name, "type": kind, "id": chat_id, "messages": list(messages)}


def account(chats: Sequence[dict[str, Any]], left: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """A full-account export ("Export Telegram data") holding ``chats`` and ``left`` chats."""
    return {
        "about": "Here is the data you requested.",
        "personal_information": {
            "user_id": 42,
            "first_name": "Erika",
            "last_name": "Muster",
            "phone_number": "+49 000 0000000",
            "bio": "",
        },
        "contacts": {"about": "Contacts.", "list": [{"first_name": "Max", "user_id": 7}]},
        "chats": {"about": "This page lists all chats.", "list": list(chats)},
        "left_chats": {"about": "Chats you left.", "list": list(left)},
    }


def write(path: Path, export: dict[str, Any]) -> Path:
    """As Telegram Desktop writes result.json: UTF-8, not ASCII-escaped, indented by one."""
    path.write_text(json.dumps(export, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the channel

CHANNEL_ID = 1234567890
SOURCE = "https://www.example.org/2022/12/scholz-putin"


def channel_messages() -> list[dict[str, Any]]:
    """One of every kind of entry a channel export holds."""
    return [
        service(1, "create_channel", title="Lage-Ticker"),
        message(
            2,
            "Scholz telefoniert mit Putin\nDer Bundeskanzler forderte den Abzug der russischen"
            f" Truppen aus der Ukraine.\n{SOURCE}",
        ),
        message(
            3,
            [
                entity("bold", "Grain corridor closed"),
                "\nThe Black Sea grain corridor closed in July, ",
                entity("text_link", "the ministry said", "https://www.example.com/grain"),
                ". ",
                entity("hashtag", "#Getreide"),
                " via ",
                entity("mention", "@agrarnews"),
                " – more at ",
                entity("link", "https://www.example.net/more"),
            ],
            chat="Anna Autorin",
            from_id="user123456",
            author="Anna Autorin",
        ),
        message(
            4,
            "",
            photo="photos/photo_1@03-12-2022_11-00-00.jpg",
            width=1280,
            height=720,
            when=START + timedelta(minutes=5),
        ),
        message(
            5,
            "Bild des Tages: Kiew im Schnee",
            photo="photos/photo_2@03-12-2022_11-10-00.jpg",
            width=1280,
            height=853,
            when=START + timedelta(minutes=10),
        ),
        message(
            6,
            [
                "Waffenstillstand: Lawrow lehnt Verhandlungen ab\nQuelle: ",
                entity("link", "https://www.example.org/lawrow"),
            ],
            edited=START + timedelta(hours=2),
            when=START + timedelta(hours=1),
        ),
        message(
            7,
            [
                entity("italic", "Weitergeleitet:"),
                " Selenskyj spricht vor dem Parlament in Kyjiw ",
                entity("text_link", "Video", "https://video.example.org/v/1"),
            ],
            forwarded_from="Kyiv Independent",
            when=START + timedelta(hours=3),
        ),
        service(8, "pin_message", message_id=2, when=START + timedelta(hours=4)),
        message(
            9,
            "",
            file="stickers/sticker.webp",
            media_type="sticker",
            sticker_emoji="👍",
            when=START + timedelta(hours=5),
        ),
        message(10, "  \n ", when=START + timedelta(hours=6)),
    ]


def channel_export(messages: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    return chat("Lage-Ticker", CHANNEL_ID, channel_messages() if messages is None else messages)


def account_export() -> dict[str, Any]:
    """A full-account export: a private chat, a supergroup with an anonymous admin's message
    (``from_id: "channel…"``), a public and a private channel, and a channel the user left."""
    personal = chat(
        "Mama",
        777000111,
        [message(1, "Kommst du Sonntag?", chat="Mama", from_id="user777000111")],
        kind="personal_chat",
    )
    group = chat(
        "Stammtisch",
        1555000111,
        [
            service(1, "create_group", chat="Erika", actor_id="user42", members=["Erika"]),
            message(2, "Anonyme Ansage der Admins", chat="Stammtisch", from_id="channel1555000111"),
        ],
        kind="private_supergroup",
    )
    kyiv = chat(
        "Kyiv Independent",
        1411000222,
        [
            message(
                15,
                "Zelensky addresses parliament\nhttps://kyivindependent.example/zelensky",
                chat="Kyiv Independent",
                from_id="channel1411000222",
            )
        ],
    )
    private = chat(
        "Interner Kanal",
        1999000333,
        [message(3, "Nur für Mitglieder", chat="Interner Kanal", from_id="channel1999000333")],
        kind="private_channel",
    )
    left = chat(
        "Alter Kanal",
        1333000444,
        [message(8, "Ein alter Beitrag", chat="Alter Kanal", from_id="channel1333000444")],
    )
    return account([personal, group, kyiv, private], [left])


# --------------------------------------------------------------------------- a large export

_WORDS = (
    "Bundeskanzler Verhandlungen Waffenstillstand Getreidekorridor Raketenangriffe Kyjiw Charkiw"
    " Lawrow Selenskyj ceasefire negotiations minister parliament sanctions energy winter front"
).split()


def _long_text(n: int, chars: int) -> list[Part]:
    words: list[str] = []
    size = 0
    i = n
    while size < chars:
        word = _WORDS[i % len(_WORDS)]
        words.append(word)
        size += len(word) + 1
        i = i * 7 + 3
    body = " ".join(words)
    return [
        entity("bold", f"Lagebericht {n}"),
        f"\n{body[: chars // 2]} ",
        entity("hashtag", "#Ukraine"),
        f" {body[chars // 2 :]} ",
        entity("text_link", "Quelle", f"https://www.example.org/lage/{n}"),
    ]


def _large_messages() -> Iterator[dict[str, Any]]:
    """Posts of Telegram's maximum length, with a photo-only post and a pin between them."""
    n = 0
    when = START
    while True:
        n += 1
        when += timedelta(minutes=7)
        if n % 10 == 0:
            yield service(n, "pin_message", message_id=n - 1, when=when)
        elif n % 10 == 5:
            yield message(n, "", photo=f"photos/photo_{n}.jpg", width=800, height=600, when=when)
        else:
            yield message(n, _long_text(n, 4000), when=when)


def write_large_export(path: Path, target_bytes: int) -> int:
    """Stream an export of at least ``target_bytes`` to ``path`` (never the whole in memory);
    returns the number of posts with text in it."""
    posts = 0
    with path.open("w", encoding="utf-8") as fh:
        fh.write('{\n "name": "Lage-Ticker",\n "type": "public_channel",\n')
        fh.write(f' "id": {CHANNEL_ID},\n "messages": [\n')
        for entry in _large_messages():
            if fh.tell() >= target_bytes:
                break
            fh.write("  " if entry["id"] == 1 else ",\n  ")
            fh.write(json.dumps(entry, ensure_ascii=False, indent=1).replace("\n", "\n  "))
            posts += entry["type"] == "message" and bool(entry["text"])
        fh.write("\n ]\n}\n")
    return posts


def messages_of(posts: Iterable[tuple[int, str]]) -> list[dict[str, Any]]:
    """Plain-text posts from (message id, text) pairs."""
    return [message(i, text) for i, text in posts]
