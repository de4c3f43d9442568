"""Read articles from files, directories and stdin, in any format this package knows.

One bad record never stops the rest: it comes out as a ``Rejected`` naming the
file and line, and reading goes on.
"""

from __future__ import annotations

import codecs
import json
import re
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pipeline.article import DEFAULT_MAX_BODY_BYTES, Article
from pipeline.errors import InvalidArticle
from pipeline.parsing.jsonrecords import check_field_map, from_record
from pipeline.parsing.language import detect_language
from pipeline.parsing.plaintext import parse_plaintext

SUFFIXES = (".txt", ".json", ".jsonl", ".ndjson")
STDIN = "<stdin>"
_NON_BLANK = re.compile(r"\S")


@dataclass
class Rejected:
    """An input that did not become an article: where (``file:line``), a reason code and why."""

    origin: str
    code: str
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason} [{self.code}]"


Warn = Callable[[str], None]


def _decode(data: bytes, name: str, warn: Warn) -> str:
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text, encoding = data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        text, encoding = data.decode("latin-1"), "latin-1"
    warn(f"{name}: not UTF-8, decoded as {encoding}")
    return text


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _why(exc: json.JSONDecodeError) -> str:
    return f"invalid JSON: {exc.msg} at column {exc.colno}"


def _json_values(text: str, name: str) -> Iterator[tuple[str, Any] | Rejected]:
    """(origin, value) for each JSON line, a single (pretty-printed) object, or each array element."""
    stripped = text.lstrip()
    start = len(text) - len(stripped)
    decoder = json.JSONDecoder()
    if stripped.startswith("["):
        pos = start + 1
        while True:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(text) or text[pos] == "]":
                return
            try:
                value, end = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                yield Rejected(f"{name}:{exc.lineno}", "bad_json",
                               f"invalid JSON: {exc.msg} at column {exc.colno}; rest of the array skipped")
                return
            except (ValueError, RecursionError) as exc:
                yield Rejected(f"{name}:{_line(text, pos)}", "bad_json",
                               f"invalid JSON: {exc}; rest of the array skipped")
                return
            yield f"{name}:{_line(text, pos)}", value
            pos = end
    try:  # one object, possibly spread over several lines
        value, end = decoder.raw_decode(text, start)
        if not _NON_BLANK.search(text, end):
            yield f"{name}:{_line(text, start)}", value
            return
    except json.JSONDecodeError as exc:
        eol = text.find("\n", start)
        # A lone "{" on the first line: one pretty-printed document, so one rejection, not one per line.
        if text[start:eol if eol >= 0 else None].strip() == "{":
            yield Rejected(f"{name}:{exc.lineno}", "bad_json", _why(exc))
            return
    except (ValueError, RecursionError):  # not a single object: read it line by line
        pass
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"{name}:{number}", json.loads(line)
        except json.JSONDecodeError as exc:
            yield Rejected(f"{name}:{number}", "bad_json", _why(exc))
        except (ValueError, RecursionError) as exc:  # integers too long, nesting too deep
            yield Rejected(f"{name}:{number}", "bad_json", f"invalid JSON: {exc}")


def _build(fields: dict[str, Any], origin: str, max_body_bytes: int,
           languages: Collection[str] = ()) -> Article | Rejected:
    """An Article, or why not. ``languages``: when given, an article detected (or declared) in
    another language is rejected (``language``); one whose language cannot be told passes."""
    try:
        if not fields.get("language") and isinstance(fields.get("body"), str):
            fields["language"] = detect_language(fields["body"])
        article = Article.build(origin=origin, max_body_bytes=max_body_bytes, **fields)
    except InvalidArticle as exc:
        return Rejected(exc.origin or origin, exc.code, exc.reason)
    if languages and article.language and article.language.lower() not in languages:
        return Rejected(origin, "language", f"language {article.language!r}; only "
                        f"{', '.join(sorted(languages))} accepted")
    return article


def parse_bytes(data: bytes, name: str, *, field_map: dict[str, str] | None = None,
                max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                on_warning: Warn | None = None, languages: Collection[str] = ()) -> Iterator[Article | Rejected]:
    """Articles (or rejections) from the content of one input named ``name``."""
    warn = on_warning or (lambda message: None)
    if b"\x00" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        where = data.count(b"\n", 0, data.index(b"\x00")) + 1
        yield Rejected(f"{name}:{where}", "binary", "contains NUL bytes: binary, not text")
        return
    text = _decode(data, name, warn)
    if not text.strip():
        yield Rejected(f"{name}:1", "empty_file", "the input is empty")
        return
    if text.lstrip()[0] in "{[":
        for item in _json_values(text, name):
            if isinstance(item, Rejected):
                yield item
                continue
            origin, value = item
            try:
                fields = from_record(value, origin=origin, field_map=field_map)
            except InvalidArticle as exc:
                yield Rejected(origin, exc.code, exc.reason)
                continue
            yield _build(fields, origin, max_body_bytes, languages)
        return
    try:
        fields = parse_plaintext(text, origin=name)
    except InvalidArticle as exc:
        yield Rejected(exc.origin or name, exc.code, exc.reason)
        return
    yield _build(fields, f"{name}:1", max_body_bytes, languages)


def expand_paths(paths: Sequence[str], warn: Warn) -> Iterator[str]:
    """Files named, files under directories (recursively, sorted, known suffixes) and "-"."""
    for path in paths:
        if path == "-" or not Path(path).is_dir():
            yield path
            continue
        root = Path(path)
        found = sorted(p for p in root.rglob("*")
                       if p.is_file() and p.suffix.lower() in SUFFIXES
                       and not any(part.startswith(".") for part in p.relative_to(root).parts))
        if not found:
            warn(f"{path}: no {'/'.join(SUFFIXES)} files in this directory")
        yield from (str(p) for p in found)


def read_articles(paths: Sequence[str], *, field_map: dict[str, str] | None = None,
                  max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, stdin: BinaryIO | None = None,
                  on_warning: Warn | None = None, languages: Collection[str] = ()) -> Iterator[Article | Rejected]:
    """Every article in ``paths`` (files, directories, "-" for stdin), or why a record was rejected.

    Raises ConfigError up front on a field map naming an unknown article field.
    """
    return _read(paths, check_field_map(field_map), max_body_bytes, stdin, on_warning or (lambda m: None),
                 {lang.lower() for lang in languages})


def _read(paths: Sequence[str], field_map: dict[str, str], max_body_bytes: int, stdin: BinaryIO | None,
          warn: Warn, languages: Collection[str] = ()) -> Iterator[Article | Rejected]:
    for path in expand_paths(paths, warn):
        if path == "-":
            name, stream = STDIN, stdin if stdin is not None else sys.stdin.buffer
            data = stream.read()
        else:
            name = path
            try:
                data = Path(path).read_bytes()
            except FileNotFoundError:
                yield Rejected(path, "not_found", "no such file or directory")
                continue
            except OSError as exc:
                yield Rejected(path, "unreadable", exc.strerror or str(exc))
                continue
        yield from parse_bytes(data, name, field_map=field_map, max_body_bytes=max_body_bytes,
                               on_warning=warn, languages=languages)
