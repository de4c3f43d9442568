"""Read articles from files, directories and stdin, in any format this package knows.

One bad record never stops the rest: it comes out as a ``Refusal`` naming the
file and line, and reading goes on.
"""

from __future__ import annotations

import codecs
import functools
import json
import re
import sys
import unicodedata
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from pipeline import reasons
from pipeline.article import DEFAULT_MAX_BODY_BYTES, Article
from pipeline.errors import InvalidArticle
from pipeline.parsing.html import strip_boilerplate
from pipeline.parsing.jsonrecords import check_field_map, from_record
from pipeline.parsing.language import detect_language, detect_languages, normalize_language
from pipeline.parsing.plaintext import parse_plaintext
from pipeline.records import Refusal

SUFFIXES = (".txt", ".json", ".jsonl", ".ndjson")
STDIN = "<stdin>"
_NON_BLANK = re.compile(r"\S")


Rejected = Refusal  # the old name, still imported by tests and benchmarks: use Refusal


Warn = Callable[[str], None]


# When charset-normalizer finds several decodings equally clean, the most common in news wins; a
# decoding identical to one of these is named after it (German text in cp1252 is not "cp1250").
COMMON_ENCODINGS = ("cp1252", "iso8859_2", "cp1250", "cp1251", "koi8_r", "iso8859_15", "cp1253", "iso8859_7",
                    "cp1254", "iso8859_9", "cp1257", "iso8859_13", "cp1255", "cp1256", "shift_jis", "cp932",
                    "euc_jp", "gb18030", "big5", "euc_kr", "iso8859_5", "latin_1")
_DETECT_SAMPLE = 65_536  # bytes charset-normalizer reads: detection in bounded time, decoding in one pass
_CHAOS_SLACK = 0.03
_COHERENCE_MARGIN = 0.1
_HIGH_BYTES = re.compile(rb"[\x80-\xff]+")


def _sample(data: bytes) -> bytes:
    """Up to ``_DETECT_SAMPLE`` bytes of ``data`` around its non-ASCII bytes (all of it when small)."""
    if len(data) <= _DETECT_SAMPLE:
        return data
    parts: list[bytes] = []
    size, last = 0, 0
    for match in _HIGH_BYTES.finditer(data):
        start, end = max(last, match.start() - 40), min(len(data), match.end() + 40)
        parts.append(data[start:end])
        size, last = size + end - start, end
        if size >= _DETECT_SAMPLE:
            break
    return b" ".join(parts) or data[:_DETECT_SAMPLE]


def detect_encoding(data: bytes) -> str | None:
    """The encoding of bytes that are not UTF-8, by charset-normalizer, or None when it finds none."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(_sample(data)))
    if not matches:
        return None
    cleanest = min(m.chaos for m in matches)
    close = [m for m in matches if m.chaos <= cleanest + _CHAOS_SLACK]
    rank = {name: i for i, name in enumerate(COMMON_ENCODINGS)}
    best = min(close, key=lambda m: rank.get(m.encoding, len(rank)))  # the most common of the cleanest...
    coherent = max(close, key=lambda m: m.coherence)
    if coherent.coherence > best.coherence + _COHERENCE_MARGIN:  # ...unless another reads clearly better
        best = coherent
    text = str(best)
    if best.encoding not in rank or _oddness(text) > 0:  # a rare code page, or symbols inside words
        sample = _sample(data)
        choices = [(_oddness(text), rank.get(best.encoding, len(rank)), best.encoding)]
        for name in COMMON_ENCODINGS:
            try:
                choices.append((_oddness(sample.decode(name)), rank[name], name))
            except UnicodeDecodeError:
                continue
        pick = min(choices)
        if pick[2] != best.encoding:
            return pick[2]
    for name in COMMON_ENCODINGS[: rank.get(best.encoding, len(rank))]:
        try:
            if _sample(data).decode(name) == text:
                return name
        except UnicodeDecodeError:
            continue
    return str(best.encoding)


def _oddness(text: str) -> float:
    """Share of non-ASCII characters that a wrong code page typically leaves inside words: a symbol
    or superscript before a letter (Polish "wzros³y" read as CP-1252), a capital between small letters."""
    odd = total = 0
    for i, char in enumerate(text):
        if char < "\x80":
            continue
        total += 1
        after = text[i + 1: i + 2]
        symbol_in_word = after.isalpha() and (unicodedata.category(char)[0] in "SNC" or char in "¿¡")
        if symbol_in_word or (char.isupper() and after.islower() and text[i - 1: i].islower()):
            odd += 1
    return odd / total if total else 0.0


def _decode(data: bytes, name: str, warn: Warn) -> str:
    """UTF-8 (with or without a BOM), UTF-16 with a BOM, else the encoding charset-normalizer finds
    (CP-1252, else Latin-1, when it finds none), with a warning naming it."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    detected = detect_encoding(data)
    if detected:
        warn(f"{name}: not UTF-8, decoded as {detected} (detected by charset-normalizer)")
        return data.decode(detected, errors="replace")
    try:
        text, encoding = data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        text, encoding = data.decode("latin-1"), "latin-1"
    warn(f"{name}: not UTF-8, decoded as {encoding} (no encoding detected)")
    return text


class _Lines:
    """Line numbers of positions in a text, read in increasing order: one pass over the text in all."""

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line = text, 0, 1

    def at(self, pos: int) -> int:
        if pos < self.pos:  # never happens in the readers; stay correct anyway
            self.pos, self.line = 0, 1
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def _why(exc: json.JSONDecodeError) -> str:
    return f"invalid JSON: {exc.msg} at column {exc.colno}"


def _json_values(text: str, name: str) -> Iterator[tuple[str, Any] | Refusal]:
    """(origin, value) for each JSON line, a single (pretty-printed) object, or each array element."""
    stripped = text.lstrip()
    start = len(text) - len(stripped)
    decoder = json.JSONDecoder()
    lines = _Lines(text)
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
                yield Refusal(f"{name}:{exc.lineno}", reasons.BAD_JSON,
                               f"invalid JSON: {exc.msg} at column {exc.colno}; rest of the array skipped", text[pos:])
                return
            except (ValueError, RecursionError) as exc:
                yield Refusal(f"{name}:{lines.at(pos)}", reasons.BAD_JSON,
                               f"invalid JSON: {exc}; rest of the array skipped", text[pos:])
                return
            yield f"{name}:{lines.at(pos)}", value
            pos = end
    try:  # one object, possibly spread over several lines
        value, end = decoder.raw_decode(text, start)
        if not _NON_BLANK.search(text, end):
            yield f"{name}:{lines.at(start)}", value
            return
    except json.JSONDecodeError as exc:
        eol = text.find("\n", start)
        # A lone "{" on the first line: one pretty-printed document, so one rejection, not one per line.
        if text[start:eol if eol >= 0 else None].strip() == "{":
            yield Refusal(f"{name}:{exc.lineno}", reasons.BAD_JSON, _why(exc), text[start:])
            return
    except (ValueError, RecursionError):  # not a single object: read it line by line
        pass
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"{name}:{number}", json.loads(line)
        except json.JSONDecodeError as exc:
            yield Refusal(f"{name}:{number}", reasons.BAD_JSON, _why(exc), line)
        except (ValueError, RecursionError) as exc:  # integers too long, nesting too deep
            yield Refusal(f"{name}:{number}", reasons.BAD_JSON, f"invalid JSON: {exc}", line)


def _prepare(fields: dict[str, Any]) -> str | None:
    """Strips the body's boilerplate and normalizes the declared language, in place; returns the
    body when the language is still to be detected."""
    if isinstance(fields.get("body"), str):
        fields["body"] = strip_boilerplate(fields["body"])
    declared = fields.get("language")
    fields["language"] = normalize_language(declared) if isinstance(declared, str) else declared
    body = fields.get("body")
    return body if not fields.get("language") and isinstance(body, str) else None


def _finish(fields: dict[str, Any], origin: str, max_body_bytes: int,
            languages: Collection[str]) -> Article | Refusal:
    try:
        article = Article.build(origin=origin, max_body_bytes=max_body_bytes, **fields)
    except InvalidArticle as exc:
        return exc.refused(origin)
    if languages and article.language and article.language.lower() not in languages:
        return Refusal(origin, reasons.LANGUAGE, f"language {article.language!r}; only "
                        f"{', '.join(sorted(languages))} accepted")
    return article


def _build(fields: dict[str, Any], origin: str, max_body_bytes: int,
           languages: Collection[str] = ()) -> Article | Refusal:
    """An Article, or why not. ``languages``: when given, an article detected (or declared) in
    another language is rejected (``language``); one whose language cannot be told passes."""
    body = _prepare(fields)
    if body is not None:
        fields["language"] = detect_language(body)
    return _finish(fields, origin, max_body_bytes, languages)


def build_many(staged: Sequence[tuple[str, dict[str, Any] | Refusal]], max_body_bytes: int,
               languages: Collection[str] = ()) -> Iterator[Article | Refusal]:
    """``_build`` of many (origin, fields) at once, refusals passed through: the languages still
    to be told are detected together (``detect_languages``), which is much faster for many."""
    todo = [(fields, body) for _, fields in staged
            if not isinstance(fields, Refusal) and (body := _prepare(fields)) is not None]
    for (undetected, _), language in zip(todo, detect_languages([body for _, body in todo]), strict=True):
        undetected["language"] = language
    for origin, item in staged:
        yield item if isinstance(item, Refusal) else _finish(item, origin, max_body_bytes, languages)


def parse_bytes(data: bytes, name: str, *, field_map: dict[str, str] | None = None,
                max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                on_warning: Warn | None = None, languages: Collection[str] = ()) -> Iterator[Article | Refusal]:
    """Articles (or rejections) from the content of one input named ``name``."""
    warn = on_warning or (lambda message: None)
    if b"\x00" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        where = data.count(b"\n", 0, data.index(b"\x00")) + 1
        yield Refusal(f"{name}:{where}", reasons.BINARY, "contains NUL bytes: binary, not text")
        return
    text = _decode(data, name, warn)
    if not text.strip():
        yield Refusal(f"{name}:1", reasons.EMPTY_FILE, "the input is empty")
        return
    if text.lstrip()[0] in "{[":
        for item in _json_values(text, name):
            if isinstance(item, Refusal):
                yield item
                continue
            origin, value = item
            try:
                fields = from_record(value, origin=origin, field_map=field_map)
            except InvalidArticle as exc:
                yield exc.refused(origin, _record_text(value))
                continue
            yield _with_raw(_build(fields, origin, max_body_bytes, languages), functools.partial(_record_text, value))
        return
    try:
        fields = parse_plaintext(text, origin=name)
    except InvalidArticle as exc:
        yield exc.refused(name, text)
        return
    yield _with_raw(_build(fields, f"{name}:1", max_body_bytes, languages), lambda: text)


def _record_text(value: Any) -> str:
    """A JSON record as one line, to fix and send again (``jq -r .input rejects.jsonl``)."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def _with_raw(item: Article | Refusal, raw: Callable[[], str]) -> Article | Refusal:
    if isinstance(item, Refusal) and item.raw is None:
        return replace(item, raw=raw())
    return item


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
                  on_warning: Warn | None = None, languages: Collection[str] = ()) -> Iterator[Article | Refusal]:
    """Every article in ``paths`` (files, directories, "-" for stdin), or why a record was rejected.

    Raises ConfigError up front on a field map naming an unknown article field.
    """
    return _read(paths, check_field_map(field_map), max_body_bytes, stdin, on_warning or (lambda m: None),
                 {lang.lower() for lang in languages})


def _read(paths: Sequence[str], field_map: dict[str, str], max_body_bytes: int, stdin: BinaryIO | None,
          warn: Warn, languages: Collection[str] = ()) -> Iterator[Article | Refusal]:
    for path in expand_paths(paths, warn):
        if path == "-":
            name, stream = STDIN, stdin if stdin is not None else sys.stdin.buffer
            data = stream.read()
        else:
            name = path
            try:
                data = Path(path).read_bytes()
            except FileNotFoundError:
                yield Refusal(path, reasons.NOT_FOUND, "no such file or directory")
                continue
            except OSError as exc:
                yield Refusal(path, reasons.UNREADABLE, exc.strerror or str(exc))
                continue
        yield from parse_bytes(data, name, field_map=field_map, max_body_bytes=max_body_bytes,
                               on_warning=warn, languages=languages)
