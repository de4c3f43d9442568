"""read_articles: files, directories and stdin; every rejection names file:line and reading goes on."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from pipeline.article import Article
from pipeline.errors import ConfigError
from pipeline.parsing import Rejected, read_articles
from tests.conftest import SAMPLES

BODY = "The council of Avonford approved a new bridge over the river on Monday after a long debate."
PLAIN = "date 2024-01-09 Home page local\n\nFrom: Ana Lima\n\nA lead.\n\nAVONFORD – " + BODY + " (al)\n"


def run(paths: list[str], **kwargs) -> tuple[list[Article], list[Rejected]]:
    items = list(read_articles(paths, **kwargs))
    return ([i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, Rejected)])


def line(**record) -> str:
    return json.dumps(record)


def test_bad_lines_are_rejected_with_file_and_line_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([
        line(id="ok-1", body=BODY),                                   # 1
        '{"id": "broken", "body": ',                                  # 2 bad_json
        "",                                                           # 3 blank: skipped
        '["an", "array"]',                                            # 4 bad_shape
        line(id="x", title="no body"),                                # 5 missing_body
        line(id="x", body="   "),                                     # 6 empty_body
        line(id="x", body=BODY, published="sometime soonish"),        # 7 bad_date
        line(id="x", body="word " * 100),                             # 8 body_too_large
        line(id="x", body=BODY, schema_version=3),                    # 9 bad_schema_version
        line(id="x", body=BODY, authors={"name": "A"}),               # 10 invalid_field
        line(id="ok-2", body=BODY),                                   # 11
    ]) + "\n", encoding="utf-8")
    articles, rejected = run([str(path)], max_body_bytes=400)
    assert [a.id for a in articles] == ["ok-1", "ok-2"]
    assert [(r.origin, r.code) for r in rejected] == [
        (f"{path}:2", "bad_json"), (f"{path}:4", "bad_shape"), (f"{path}:5", "missing_body"),
        (f"{path}:6", "empty_body"), (f"{path}:7", "bad_date"), (f"{path}:8", "body_too_large"),
        (f"{path}:9", "bad_schema_version"), (f"{path}:10", "invalid_field"),
    ]
    assert all(r.reason for r in rejected)
    assert str(rejected[0]).startswith(f"{path}:2: invalid JSON")


def test_plain_text_rejections_name_the_line(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("\n\nno header here\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("date 2024-13-01 local\n\nText.\n", encoding="utf-8")
    (tmp_path / "c.txt").write_text("   \n\n", encoding="utf-8")
    _, rejected = run([str(tmp_path)])
    assert [(Path(r.origin).name, r.code) for r in rejected] == [
        ("a.txt:3", "missing_date"), ("b.txt:1", "bad_date"), ("c.txt:1", "empty_file")]


def test_binary_file_is_rejected_and_the_next_file_still_read(tmp_path: Path) -> None:
    binary = tmp_path / "image.json"
    binary.write_bytes(b'{"body": "x"}\n\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR')
    good = tmp_path / "good.jsonl"
    good.write_text(line(id="g", body=BODY) + "\n", encoding="utf-8")
    articles, rejected = run([str(binary), str(good)])
    assert [(r.origin, r.code) for r in rejected] == [(f"{binary}:4", "binary")]  # the line of the first NUL
    assert rejected == [Rejected(f"{binary}:4", "binary", "contains NUL bytes: binary, not text")]
    assert [a.id for a in articles] == ["g"]


def test_pathological_json_lines_are_rejected_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join([line(id="a", body=BODY), "[" * 100_000, '{"id": ' + "9" * 5000 + "}",
                               line(id="b", body=BODY)]))
    articles, rejected = run([str(path)])
    assert [a.id for a in articles] == ["a", "b"]
    assert [(r.origin, r.code) for r in rejected] == [(f"{path}:2", "bad_json"), (f"{path}:3", "bad_json")]


def test_missing_file_is_rejected_not_raised(tmp_path: Path) -> None:
    _, rejected = run([str(tmp_path / "nope.jsonl")])
    assert [(r.origin, r.code) for r in rejected] == [(str(tmp_path / "nope.jsonl"), "not_found")]


@pytest.mark.parametrize(("encoding", "name"), [("latin-1", "cp1252"), ("cp1252", "cp1252")])
def test_non_utf8_file_decodes_with_a_warning(tmp_path: Path, encoding: str, name: str) -> None:
    path = tmp_path / "old.txt"
    path.write_bytes(PLAIN.replace("Ana Lima", "José Müller").replace("A lead.", "Café “crème”.")
                     .encode(encoding, errors="replace"))
    warnings: list[str] = []
    articles, rejected = run([str(path)], on_warning=warnings.append)
    assert not rejected
    assert articles[0].authors == ["José Müller"]
    assert warnings == [f"{path}: not UTF-8, decoded as {name} (detected by charset-normalizer)"]


def test_bytes_cp1252_cannot_decode_fall_back_to_latin1(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b'{"body": "Caf\xe9 in Avonford \x81 opened on Monday.", "id": "c"}\n')
    warnings: list[str] = []
    articles, _ = run([str(path)], on_warning=warnings.append)
    assert articles[0].body.startswith("Café in Avonford")
    assert len(warnings) == 1 and warnings[0].startswith(f"{path}: not UTF-8, decoded as ")


def test_utf8_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeff".encode() + PLAIN.encode())
    articles, rejected = run([str(path)])
    assert not rejected and articles[0].published == "2024-01-09"


def test_stdin_json_lines_and_plain_text() -> None:
    data = (line(id="s1", body=BODY) + "\nnot json\n").encode()
    articles, rejected = run(["-"], stdin=io.BytesIO(data))
    assert [a.id for a in articles] == ["s1"]
    assert [(r.origin, r.code) for r in rejected] == [("<stdin>:2", "bad_json")]
    articles, rejected = run(["-"], stdin=io.BytesIO(PLAIN.encode()))
    assert not rejected
    assert (articles[0].dateline, articles[0].author_code, articles[0].lead) == ("AVONFORD", "al", "A lead.")


def test_json_array_and_pretty_printed_object(tmp_path: Path) -> None:
    array = tmp_path / "array.json"
    array.write_text(json.dumps([{"id": "a1", "body": BODY}, 5, {"id": "a3", "body": BODY}], indent=2))
    pretty = tmp_path / "one.json"
    pretty.write_text(json.dumps({"id": "p1", "body": BODY, "title": "T"}, indent=2))
    articles, rejected = run([str(array), str(pretty)])
    assert [a.id for a in articles] == ["a1", "a3", "p1"]
    assert [(r.origin, r.code) for r in rejected] == [(f"{array}:6", "bad_shape")]


def test_broken_pretty_printed_object_is_one_rejection(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text('{\n  "id": "p1",\n  "body": "text"\n  "title": "T"\n}\n')
    assert run([str(path)]) == ([], [Rejected(f"{path}:4", "bad_json",
                                              "invalid JSON: Expecting ',' delimiter at column 3")])


def test_broken_json_array_is_rejected_where_it_breaks(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[\n{"id": "a1", "body": "' + BODY + '"},\n{"id": oops}\n]')
    articles, rejected = run([str(path)])
    assert [a.id for a in articles] == ["a1"]
    assert [(r.origin, r.code) for r in rejected] == [(f"{path}:3", "bad_json")]


def test_directory_is_read_recursively_in_sorted_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.jsonl").write_text(line(id="b2", body=BODY))
    (tmp_path / "b" / "1.ndjson").write_text(line(id="b1", body=BODY))
    (tmp_path / "a.json").write_text(line(id="a", body=BODY))
    (tmp_path / "c.txt").write_text(PLAIN)
    (tmp_path / "notes.md").write_text("# not an article")
    (tmp_path / ".hidden.jsonl").write_text(line(id="hidden", body=BODY))
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.json").write_text(line(id="git", body=BODY))
    articles, rejected = run([str(tmp_path)])
    assert not rejected
    assert [a.id for a in articles][:3] == ["a", "b1", "b2"]
    assert articles[3].section == "local" and len(articles) == 4


def test_empty_directory_warns(tmp_path: Path) -> None:
    warnings: list[str] = []
    assert run([str(tmp_path)], on_warning=warnings.append) == ([], [])
    assert warnings and str(tmp_path) in warnings[0]


def test_language_is_detected_unless_the_record_declares_it(tmp_path: Path) -> None:
    german = ("Der Stadtrat von Avonford hat am Montag nach einer langen Debatte den Bau einer neuen Brücke "
              "über den Fluss beschlossen, die im nächsten Jahr fertig werden soll und die von der Stadt "
              "und dem Land bezahlt wird.")
    path = tmp_path / "lang.jsonl"
    path.write_text("\n".join([line(id="de", body=german), line(id="declared", body=german, language="xx"),
                               line(id="en", body=BODY * 3), line(id="short", body="Tiny.")]))
    articles, _ = run([str(path)])
    assert {a.id: a.language for a in articles} == {"de": "de", "declared": "xx", "en": "en", "short": None}


def test_field_map_is_checked_before_reading() -> None:
    with pytest.raises(ConfigError):
        read_articles(["-"], field_map={"nonsense": "x"})


def test_field_map_applies_to_every_record(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(line(guid="f1", content=BODY, pubDate="2024-02-01") + "\n")
    articles, _ = run([str(path)], field_map={"id": "guid", "body": "content", "published": "pubDate"})
    assert (articles[0].id, articles[0].published) == ("f1", "2024-02-01")


def test_the_samples_directory() -> None:
    articles, rejected = run([str(SAMPLES)])
    assert not rejected
    assert len(articles) == 10
    assert len({a.id for a in articles}) == 10
    assert all(a.language == "en" and a.published for a in articles)
    assert sum(1 for a in articles if a.dateline) == 6
    assert sum(1 for a in articles if a.title) == 10  # the seed-format files take their lead's first sentence
