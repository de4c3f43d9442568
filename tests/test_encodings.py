"""Files that are not UTF-8: the encoding is detected (charset-normalizer) and named in a warning.

Each sample file is written in its encoding here; before detection, all of them were read as CP-1252.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.article import Article
from pipeline.parsing import read_articles

RUSSIAN = ("Министр заявил во вторник, что правительство не изменит свои планы относительно новой "
           "железной дороги, строительство которой задержалось на два года.")
POLISH = ("Rząd zapowiedział w poniedziałek, że nie zmieni planów dotyczących nowej linii kolejowej, której "
          "budowa opóźniła się o dwa lata. Minister powiedział dziennikarzom, że koszty wzrosły.")
CZECH = ("Ministr ve středu řekl, že vláda nezmění své plány na novou železniční trať, která se zpozdila "
         "o dva roky. Náklady podle něj vzrostly, ale projekt je pro celý kraj důležitý.")
JAPANESE = "大臣は火曜日、新しい鉄道の計画を変更しないと述べた。工事は二年遅れている。費用は増えた。"
GERMAN = "Preise für Äpfel fallen, sagt der Händler. Die Ernte in Südtirol war größer als erwartet."
ENGLISH = "The minister said on Tuesday that the government’s plans – which cost €4bn – would not change."

CASES = [("cp1251", RUSSIAN, "ru"), ("koi8_r", RUSSIAN, "ru"), ("iso8859_2", POLISH, "pl"),
         ("iso8859_2", CZECH, "cs"), ("cp1250", POLISH, "pl"), ("shift_jis", JAPANESE, "ja"),
         ("cp1252", GERMAN, "de"), ("cp1252", ENGLISH, "en")]


def read(path: Path) -> tuple[list[Article], list[str]]:
    warnings: list[str] = []
    items = list(read_articles([str(path)], on_warning=warnings.append))
    assert all(isinstance(i, Article) for i in items), items
    return [i for i in items if isinstance(i, Article)], warnings


@pytest.mark.parametrize(("encoding", "text", "language"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_a_plain_text_file_in_a_legacy_encoding_reads_as_written(tmp_path: Path, encoding: str, text: str,
                                                                  language: str) -> None:
    path = tmp_path / "old.txt"
    path.write_bytes(f"date 2024-03-04 World\n\n{text}\n".encode(encoding))
    (article,), warnings = read(path)
    assert article.body == text
    assert article.language == language
    assert len(warnings) == 1 and warnings[0].startswith(f"{path}: not UTF-8, decoded as ")
    assert text.encode(encoding).decode(warnings[0].split("decoded as ")[1].split()[0]) == text


@pytest.mark.parametrize("encoding", ["cp1251", "koi8_r", "shift_jis"])
def test_a_json_lines_file_in_a_legacy_encoding_reads_as_written(tmp_path: Path, encoding: str) -> None:
    text = JAPANESE if encoding == "shift_jis" else RUSSIAN
    path = tmp_path / "old.jsonl"
    lines = [f'{{"id": "a{i}", "title": "{text[:20]}", "body": "{text}"}}' for i in range(3)]
    path.write_bytes("\n".join(lines).encode(encoding))
    articles, warnings = read(path)
    assert [a.body for a in articles] == [text] * 3 and articles[0].title == text[:20]
    assert len(warnings) == 1 and encoding.replace("_", "") in warnings[0].replace("_", "").replace("cp932",
                                                                                                    "shiftjis")


def test_a_large_file_is_detected_from_a_sample_and_decoded_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    body = "\n\n".join([RUSSIAN] * 3000)  # about 800 KB: detection reads 64 KB of it
    path.write_bytes(f"date 2024-03-04 World\n\n{body}\n".encode("koi8_r"))
    (article,), warnings = read(path)
    assert article.body == body and "koi8_r" in warnings[0]


def test_utf8_is_never_second_guessed(tmp_path: Path) -> None:
    path = tmp_path / "new.txt"
    path.write_bytes(f"date 2024-03-04 World\n\n{RUSSIAN}\n".encode())
    (article,), warnings = read(path)
    assert article.body == RUSSIAN and warnings == []
