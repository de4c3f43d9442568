"""Language: ten languages detected by py3langid, declared codes normalized, non-English flagged not refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.article import Article, decode, encode, normalize_language
from pipeline.parsing import Rejected, detect_language, read_articles

# One news paragraph per language; Polish, Swedish and Turkish used to come out as None (= English).
TEN = {
    "en": "The minister said on Tuesday that the government would not change its plans for the new railway, "
          "which has been delayed by two years.",
    "de": "Der Minister sagte am Dienstag, dass die Regierung ihre Pläne für die neue Bahnstrecke nicht ändern "
          "werde, die sich um zwei Jahre verzögert hat.",
    "fr": "Le ministre a déclaré mardi que le gouvernement ne changerait pas ses projets pour la nouvelle ligne "
          "ferroviaire, qui a été retardée de deux ans.",
    "es": "El ministro dijo el martes que el gobierno no cambiará sus planes para la nueva línea de ferrocarril, "
          "que se ha retrasado dos años.",
    "it": "Il ministro ha detto martedì che il governo non cambierà i suoi piani per la nuova linea ferroviaria, "
          "che è stata ritardata di due anni.",
    "pl": "Minister powiedział we wtorek, że rząd nie zmieni swoich planów dotyczących nowej linii kolejowej, "
          "której budowa opóźniła się o dwa lata.",
    "sv": "Ministern sade på tisdagen att regeringen inte kommer att ändra sina planer för den nya järnvägen, "
          "som har försenats med två år.",
    "tr": "Bakan salı günü hükümetin iki yıl gecikmeli olan yeni demiryolu hattı için planlarını "
          "değiştirmeyeceğini söyledi.",
    "ru": "Министр заявил во вторник, что правительство не изменит свои планы относительно новой железной "
          "дороги, строительство которой задержалось на два года.",
    "nl": "De minister zei dinsdag dat de regering haar plannen voor de nieuwe spoorlijn niet zal wijzigen, "
          "die met twee jaar is vertraagd.",
}


@pytest.mark.parametrize("lang", sorted(TEN))
def test_ten_languages_are_told_apart(lang: str) -> None:
    assert detect_language(TEN[lang]) == lang


@pytest.mark.parametrize("lang", sorted(TEN))
def test_one_sentence_is_enough(lang: str) -> None:
    first = TEN[lang][:70]  # a headline's length
    assert detect_language(first) == lang


@pytest.mark.parametrize(("declared", "code"), [("en-US", "en"), ("EN", "en"), ("en_GB", "en"), ("eng", "en"),
                                                 ("English", "en"), ("de-AT", "de"), ("pt-BR", "pt"), ("fra", "fr"),
                                                 (" pl ", "pl"), ("zh-Hans-CN", "zh")])
def test_declared_codes_are_normalized(declared: str, code: str) -> None:
    assert normalize_language(declared) == code
    article = Article.build(body="Text.", language=declared)
    assert article.language == code
    assert decode(encode(article)).language == code


@pytest.mark.parametrize("junk", ["", "  ", "x" * 300, "klingon!!", "12"])
def test_a_declared_value_that_names_no_language_is_detected_instead(tmp_path: Path, junk: str) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"body": TEN["pl"], "language": junk}) + "\n")
    (article,) = read_articles([str(path)])
    assert isinstance(article, Article) and article.language == "pl"


def test_declared_en_us_is_english_and_other_languages_are_stored_and_flagged(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    rows = [{"id": "us", "body": TEN["en"], "language": "en-US"}, {"id": "up", "body": TEN["en"], "language": "EN"},
            *({"id": lang, "body": TEN[lang]} for lang in ("pl", "sv", "tr"))]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    got = {a.id: a.language for a in read_articles([str(path)]) if isinstance(a, Article)}
    assert got == {"us": "en", "up": "en", "pl": "pl", "sv": "sv", "tr": "tr"}
    only_en = list(read_articles([str(path)], languages=["en"]))
    assert [a.id for a in only_en if isinstance(a, Article)] == ["us", "up"]
    assert {r.code for r in only_en if isinstance(r, Rejected)} == {"language"}


@pytest.mark.parametrize("text", ["", "Too short to tell.", "1,750 2,380 4,400 dlrs 0.60 1.25 " * 5])
def test_none_when_there_is_too_little_text(text: str) -> None:
    assert detect_language(text) is None


def _mixed() -> list[str]:
    """The ten paragraphs, their starts and shouted forms, and texts with nothing to tell, interleaved."""
    texts: list[str] = []
    for lang in sorted(TEN):
        paragraph = TEN[lang]
        texts += [paragraph, paragraph[:45], paragraph.upper(), "", "Too short.", "1,750 2,380 dlrs " * 9,
                  paragraph[:30] + "\ud800" + paragraph[30:]]
    return texts


@pytest.mark.parametrize("block", [4_000, 1, 37])
def test_many_texts_at_once_get_the_decisions_of_one_at_a_time(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    """A feed's items are detected together (pipeline.parsing.language.detect_languages), in blocks of
    n-grams: each text keeps the language detect_language gives it alone, wherever a block ends."""
    import pipeline.parsing.language as language

    monkeypatch.setattr(language, "BLOCK_NGRAMS", block)
    texts = _mixed()
    alone = [detect_language(text) for text in texts]
    assert language.detect_languages(texts) == alone
    assert sorted(set(alone) - {None}) == sorted(TEN)  # the texts do cover ten languages, and nothing to tell


def test_a_feed_of_many_languages_gets_each_item_its_own() -> None:
    """Items are built in blocks (feeds.BLOCK_ITEMS); no item takes another item's language."""
    from pipeline.parsing import parse_feed
    from pipeline.parsing.feeds import BLOCK_ITEMS

    langs = sorted(TEN) * (BLOCK_ITEMS // len(TEN) + 3)
    items = "".join(f"<item><title>T{n}</title><link>https://x.org/{n}</link><description>{TEN[lang]} {n}"
                    "</description></item>" for n, lang in enumerate(langs))
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>'.encode()
    got = [item.language for item in parse_feed(feed, "https://x.org/rss")]
    assert got == langs
