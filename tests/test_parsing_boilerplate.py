"""Page furniture (video captions, "JUST WATCHED", sign-ups) is stripped at parse time, from a packaged data file."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from pipeline.article import Article
from pipeline.parsing import read_articles
from pipeline.parsing.html import strip_boilerplate

# As news-please scraped USA Today and CNN (../shared/data/newsplease/articles.jsonl).
USA_TODAY = (
    "CLOSE CEO of Tesla and Space X, Elon Musk gave us all a sneak peek at his Falcon Heavy rocket. Buzz60\n"
    "SpaceX CEO Elon Musk said this midnight cherry Tesla Roadster will launch atop the Falcon Heavy rocket.\n"
    "The Roadster’s nose is angled upward on its launch mount. (Photo: SpaceX via Florida Today)\n"
    "More: Photos: See the world's most powerful rocket before it launches\n"
    "Follow James Dean on Twitter: @flatoday_jdean\n"
    "Skip in Skip x Embed x Share CLOSE WHAT YOU NEED TO KNOW ABOUT ELON MUSK SpaceX 1st: Recycled rocket\n"
    "Musk said the car would be in deep space for a billion years.")
CNN = ("JUST WATCHED North Korea may test missile in new year Replay More Videos ... MUST WATCH North Korea may\n"
       "Seoul said the launch was a provocation.\n"
       "Advertisement Continue reading the main story\n"
       "Photos: North Korea launches rocket Kim Jong Un looked on. Hide Caption 5 of 8")


def test_usa_today_video_captions_and_cnn_players_are_gone(tmp_path: Path) -> None:
    path = tmp_path / "np.jsonl"
    path.write_text("\n".join(json.dumps({"url": f"https://x.org/{i}", "maintext": text})
                              for i, text in enumerate([USA_TODAY, CNN])) + "\n")
    usa, cnn = read_articles([str(path)])
    assert isinstance(usa, Article) and isinstance(cnn, Article)
    assert usa.body == ("SpaceX CEO Elon Musk said this midnight cherry Tesla Roadster will launch atop the Falcon "
                        "Heavy rocket.\nMusk said the car would be in deep space for a billion years.")
    for word in ("CLOSE", "WHAT YOU", "ABOUT", "Buzz60", "Follow", "(Photo:"):
        assert word not in usa.body
    assert cnn.body == ("Seoul said the launch was a provocation.\n"
                        "Photos: North Korea launches rocket Kim Jong Un looked on.")


def test_ordinary_text_is_left_exactly_as_it_was() -> None:
    text = ("Close to 500 people came. The word CLOSE alone in a sentence stays, as does Read More about it.\n\n"
            "Advertisements were banned in 2019.\n\nA third paragraph.")
    assert strip_boilerplate(text) is text


def test_paragraphs_stay_separated_where_a_line_was_dropped() -> None:
    assert strip_boilerplate("First.\n\nJUST WATCHED x\n\nSecond.") == "First.\n\nSecond."


def test_an_article_that_is_only_boilerplate_is_rejected_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"body": "CLOSE\nAdvertisement\nRead More"}) + "\n")
    (item,) = read_articles([str(path)])
    assert not isinstance(item, Article) and item.code == "empty_body"


def test_the_patterns_are_a_data_file_packaged_with_the_code() -> None:
    text = resources.files("pipeline.parsing").joinpath("boilerplate.txt").read_text("utf-8")
    assert "JUST WATCHED" in text and "CLOSE" in text
