"""Every Bot API call checked against the published Bot API: the method exists, every parameter
is one it has, the required ones are there, each value has a type the parameter takes (objects
field by field, down to the buttons inside a keyboard and the content inside an inline result),
and the documented limits that a value can break on its own hold (callback_data 1-64 bytes, at
most 50 inline results, a callback answer's text at most 200 characters).

The spec is the machine-readable copy in ``../shared/data/botapi-spec/api.json`` (its source is
in SOURCE.md there), or the file named by ``BOTAPI_SPEC``; without it (a bare clone), the
extract vendored beside this module (``botapi_spec.json``, MIT like its source). Values arrive
as the stand-in reads them: form fields are strings, so an Integer, Float or Boolean may be
written as text, and an object as its JSON. Message text limits are checked by the stand-in
itself, after entity parsing, as Telegram counts them.

Usage: python tests/support/botapi_conformance.py [--spec PATH] METHOD JSON-PARAMS
       python -m tests.support.botapi_conformance --write [--spec PATH]   (the extract, again)
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_SPEC", "VENDORED_SPEC", "extract", "load_spec", "spec_path", "violations"]

DEFAULT_SPEC = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "botapi-spec" / "api.json"
)
_INT_TEXT = re.compile(r"-?\d+")
_FLOAT_TEXT = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_MUST_BE = re.compile(r"must be (\w+)")
_MAX_DEPTH = 8
# Limits the spec states in prose, for the values a bot sends: (type or method, field) -> check.
_CALLBACK_DATA_BYTES = 64
_INLINE_RESULTS = 50
_CALLBACK_TEXT_CHARS = 200


#: The methods the bot and the stand-in use, and the types they reach, cut from the published
#: spec (``--write`` makes it again): a checkout without ``../shared`` is checked too.
VENDORED_SPEC = Path(__file__).resolve().with_name("botapi_spec.json")


def spec_path() -> Path:
    """The spec file: ``BOTAPI_SPEC`` if set, else the shared copy, else the vendored extract."""
    if os.environ.get("BOTAPI_SPEC"):
        return Path(os.environ["BOTAPI_SPEC"])
    return DEFAULT_SPEC if DEFAULT_SPEC.is_file() else VENDORED_SPEC


def extract(spec: Mapping[str, Any], methods: list[str]) -> dict[str, Any]:
    """``methods`` of ``spec`` and every type their fields reach (subtypes included)."""
    types: dict[str, Any] = {}
    todo = [
        t for name in methods for f in spec["methods"][name].get("fields", []) for t in f["types"]
    ]
    while todo:
        name = re.sub(r"^(Array of )+", "", todo.pop())
        if name in types or name not in spec["types"]:
            continue
        entry = spec["types"][name]
        types[name] = entry
        todo.extend(t for f in entry.get("fields", []) for t in f["types"])
        todo.extend(entry.get("subtypes", []))
    return {
        "version": spec.get("version"),
        "release_date": spec.get("release_date"),
        "note": "Extract of api.json, made by tests/support/botapi_conformance.py --write",
        "source": "github.com/PaulSonOfLars/telegram-bot-api-spec, file api.json (a scrape of"
        " https://core.telegram.org/bots/api); which commit: ../shared/data/botapi-spec/SOURCE.md",
        "license": "MIT, see botapi_spec.LICENSE",
        "methods": {name: spec["methods"][name] for name in sorted(methods)},
        "types": dict(sorted(types.items())),
    }


@functools.cache
def load_spec(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        spec: dict[str, Any] = json.load(fh)
    return spec


def violations(
    method: str, params: Mapping[str, Any], files: Mapping[str, Any] | None = None
) -> list[str]:
    """What in this call does not match the published Bot API ([] when it all does). ``files``
    are the multipart uploads (an InputFile parameter)."""
    path = spec_path()
    if not path.is_file():  # a checkout without the shared spec: test_conformance says so
        return []
    spec = load_spec(path)
    entry = spec["methods"].get(method)
    if entry is None:
        return [f"{method}: no such method"]
    fields = {f["name"]: f for f in entry.get("fields", [])}
    problems: list[str] = []
    given = dict(params)
    for name in files or {}:
        given.setdefault(name, _UPLOADED)
    for name, value in given.items():
        field = fields.get(name)
        if field is None:
            problems.append(f"{method}: unknown parameter {name!r}")
            continue
        if value is _UPLOADED:
            if "InputFile" not in field["types"]:
                problems.append(f"{method}.{name}: a file, but it takes {field['types']}")
            continue
        problems += _check(spec, value, field["types"], f"{method}.{name}", 0)
    for name, field in fields.items():
        if field.get("required") and name not in given:
            problems.append(f"{method}: required parameter {name!r} missing")
    problems += _method_limits(method, given)
    return problems


class _Uploaded:
    def __repr__(self) -> str:
        return "<uploaded file>"


_UPLOADED = _Uploaded()


def _method_limits(method: str, params: Mapping[str, Any]) -> list[str]:
    problems = []
    if method == "answerInlineQuery":
        results = _decoded(params.get("results"))
        if isinstance(results, list) and len(results) > _INLINE_RESULTS:
            problems.append(f"{method}.results: {len(results)} > {_INLINE_RESULTS} results")
    if method == "answerCallbackQuery":
        answer = params.get("text")
        if isinstance(answer, str) and len(answer) > _CALLBACK_TEXT_CHARS:
            problems.append(f"{method}.text: {len(answer)} > {_CALLBACK_TEXT_CHARS} characters")
    return problems


def _decoded(value: Any) -> Any:
    """A form field that carries JSON, decoded (the stand-in decodes the ones it knows)."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _check(spec: dict[str, Any], value: Any, types: list[str], where: str, depth: int) -> list[str]:
    """[] if ``value`` is one of ``types``; else why not (the closest type's reasons)."""
    best: list[str] | None = None
    for type_name in types:
        found = _check_one(spec, value, type_name, where, depth)
        if not found:
            return []
        if best is None or len(found) < len(best):
            best = found
    return best or [f"{where}: no type given"]


def _check_one(
    spec: dict[str, Any], value: Any, type_name: str, where: str, depth: int
) -> list[str]:
    if depth > _MAX_DEPTH:
        return []
    if type_name.startswith("Array of "):
        items = _decoded(value)
        if not isinstance(items, list):
            return [f"{where}: {type(value).__name__}, not an array"]
        inner = type_name.removeprefix("Array of ")
        problems: list[str] = []
        for index, item in enumerate(items):
            problems += _check_one(spec, item, inner, f"{where}[{index}]", depth + 1)
        return problems
    if type_name == "Integer":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and _INT_TEXT.fullmatch(value) is not None
        )
        return [] if ok else [f"{where}: {value!r} is not an Integer"]
    if type_name == "Float":
        ok = (isinstance(value, int | float) and not isinstance(value, bool)) or (
            isinstance(value, str) and _FLOAT_TEXT.fullmatch(value) is not None
        )
        return [] if ok else [f"{where}: {value!r} is not a Float"]
    if type_name == "Boolean":
        ok = isinstance(value, bool) or value in ("true", "false", "True", "False")
        return [] if ok else [f"{where}: {value!r} is not a Boolean"]
    if type_name == "String":
        return [] if isinstance(value, str) else [f"{where}: {value!r} is not a String"]
    if type_name == "InputFile":
        return [] if isinstance(value, str) else [f"{where}: {value!r} is not a file"]
    entry = spec["types"].get(type_name)
    if entry is None:
        return [f"{where}: unknown type {type_name}"]
    obj = _decoded(value)
    if entry.get("subtypes"):
        return _check_subtype(spec, obj, entry["subtypes"], where, depth)
    if not entry.get("fields"):
        return []  # a placeholder type (CallbackGame ...): anything
    if not isinstance(obj, dict):
        return [f"{where}: {type(obj).__name__}, not a {type_name}"]
    fields = {f["name"]: f for f in entry["fields"]}
    problems = []
    for name, item in obj.items():
        field = fields.get(name)
        if field is None:
            problems.append(f"{where}: {type_name} has no field {name!r}")
            continue
        problems += _check(spec, item, field["types"], f"{where}.{name}", depth + 1)
    for name, field in fields.items():
        if field.get("required") and name not in obj:
            problems.append(f"{where}: {type_name} needs {name!r}")
    if type_name == "InlineKeyboardButton" and isinstance(obj.get("callback_data"), str):
        size = len(obj["callback_data"].encode("utf-8"))
        if not 1 <= size <= _CALLBACK_DATA_BYTES:
            problems.append(f"{where}.callback_data: {size} bytes, not 1-64")
    return problems


def _check_subtype(
    spec: dict[str, Any], obj: Any, subtypes: list[str], where: str, depth: int
) -> list[str]:
    """An abstract type (InlineQueryResult, InputMessageContent ...): the subtype its "type"
    field names (``must be article``), else the one it fits best."""
    if isinstance(obj, dict) and isinstance(obj.get("type"), str):
        for name in subtypes:
            for field in spec["types"][name].get("fields", []):
                if field["name"] == "type":
                    match = _MUST_BE.search(field.get("description", ""))
                    if match and match.group(1) == obj["type"]:
                        return _check_one(spec, obj, name, where, depth)
    return _check(spec, obj, subtypes, where, depth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path)
    parser.add_argument(
        "--write", action="store_true", help="make the vendored extract from --spec again"
    )
    parser.add_argument("method", nargs="?")
    parser.add_argument("params", nargs="?", help="the call's parameters as a JSON object")
    args = parser.parse_args()
    if args.write:
        spec = load_spec(args.spec or DEFAULT_SPEC)
        methods = sorted(load_spec(VENDORED_SPEC)["methods"])
        text = json.dumps(extract(spec, methods), ensure_ascii=False, indent=1)
        VENDORED_SPEC.write_text(text + "\n", encoding="utf-8")
        return
    if not args.method or args.params is None:
        parser.error("a method and its parameters, or --write")
    if args.spec:
        os.environ["BOTAPI_SPEC"] = str(args.spec)
    found = violations(args.method, json.loads(args.params))
    print("\n".join(found) or "conformant")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
