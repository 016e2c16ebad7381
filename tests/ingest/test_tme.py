"""bot.tme: the t.me rules that settings, live posts and exports share, pinned as they were when
each lived in its own module."""

from __future__ import annotations

import pytest

from bot import tme


@pytest.mark.parametrize("bare_id", [1, 1234567890, 1500000003, 999_999_999_999])
def test_channel_ids_convert_both_ways(bare_id: int) -> None:
    assert tme.bot_api_id(bare_id) == -(10**12 + bare_id)
    assert tme.internal_id(tme.bot_api_id(bare_id)) == bare_id


def test_channel_id_spellings() -> None:
    assert tme.bot_api_id(1234567890) == -1001234567890
    assert tme.bot_api_id(-1001234567890) == -1001234567890  # already a Bot API id
    assert tme.bot_api_id(-1234567890) == -1001234567890  # a negative bare id: its sign is dropped
    assert tme.internal_id(-1001234567890) == 1234567890
    assert tme.internal_id(-123) == 123  # not a channel's Bot API id: the number itself


def test_post_links() -> None:
    assert tme.post_link(-1001234567890, "@LageTicker", 5) == "https://t.me/lageticker/5"
    assert tme.post_link(-1001234567890, "", 5) == "https://t.me/c/1234567890/5"


@pytest.mark.parametrize(
    ("host", "inside"),
    [
        ("t.me", True),
        ("www.t.me", True),
        ("telegram.me", True),
        ("telegram.dog", True),
        ("telegram.org", True),
        ("news.t.me", True),
        ("T.ME", True),
        ("xt.me", False),
        ("t.me.example.org", False),
        ("example.org", False),
    ],
)
def test_telegram_hosts(host: str, inside: bool) -> None:
    assert tme.is_telegram_host(host) is inside


@pytest.mark.parametrize(
    ("ref", "username"),
    [
        ("LageTicker", "LageTicker"),
        (" @LageTicker ", "LageTicker"),
        ("https://t.me/LageTicker", "LageTicker"),
        ("t.me/LageTicker/2", "LageTicker"),
        ("www.t.me/abcd", "abcd"),
        ("https://telegram.dog/abcd", "abcd"),
        ("HTTPS://T.ME/abcd", "abcd"),
        ("t.me/c/1234567890/2", None),
        ("https://e.org/abcd", None),
        ("la ge", None),
        ("@abc", None),
        ("/abcd", None),
    ],
)
def test_username_of(ref: str, username: str | None) -> None:
    assert tme.username_of(ref) == username


@pytest.mark.parametrize(
    ("ref", "channel"),
    [
        ("-1001234567890", "-1001234567890"),
        ("@ISW_de", "isw_de"),
        ("isw_de", "isw_de"),
        ("https://t.me/Frontnews", "frontnews"),
        ("http://telegram.me/abcd/", "abcd"),
        ("t.me/@abcd", "abcd"),
        ("t.me/-1001234567890", "-1001234567890"),
        ("t.me/abcd/5", None),
        ("https://t.me/c/1234567890", None),
        ("@abc", None),
        ("e.org/abcd", None),
    ],
)
def test_channel_ref(ref: str, channel: str | None) -> None:
    assert tme.channel_ref(ref) == channel


@pytest.mark.parametrize("ref", ["www.t.me/abcd", "telegram.dog/abcd", "T.ME/abcd"])
def test_source_channels_take_fewer_link_spellings_than_an_export(ref: str) -> None:
    """As it always was: widening SOURCE_CHANNELS to every t.me host is a change of its own."""
    assert tme.username_of(ref) == "abcd"
    assert tme.channel_ref(ref) is None


@pytest.mark.parametrize(
    ("ref", "key"),
    [
        ("@LageTicker", "lageticker"),
        ("lageticker", "lageticker"),
        ("https://t.me/LageTicker", "lageticker"),
        ("-1001234567890", "c1234567890"),
        ("1234567890", "c1234567890"),
        ("c1234567890", "c1234567890"),
        ("@c1234567890", "c1234567890"),
        ("foo bar", None),
        ("@ab", None),
        ("c77", "c77"),  # a key as channel_slug makes it, however short the id
    ],
)
def test_channel_keys_as_people_write_them(ref: str, key: str | None) -> None:
    assert tme.channel_key(ref) == key


def test_a_documents_channel_is_its_folder_else_its_t_me_link() -> None:
    assert tme.document_channel("telegram/lageticker/5.md") == "lageticker"
    assert tme.document_channel("telegram/c123/5.md", "https://t.me/other/5") == "c123"
    assert tme.document_channel("a.md", "https://t.me/c/123/5", None) == "c123"
    assert tme.document_channel("a.md", None, "https://t.me/Foo_Bar/5") == "foo_bar"
    assert tme.document_channel("a.md", None, "https://example.org/x") is None
    assert tme.document_channel("telegram/x.md", None, None) is None  # not in a channel's folder
    # Filed posts and the channel key agree: a post's folder is its channel's key.
    assert tme.channel_slug("@LageTicker", 0) == tme.channel_key("@LageTicker")
    assert tme.channel_slug("", -1001234567890) == tme.channel_key("-1001234567890")
