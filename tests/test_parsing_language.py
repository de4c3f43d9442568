"""The light language guesser."""

from __future__ import annotations

import pytest

from pipeline.parsing import detect_language

SENTENCES = {
    "en": "The minister said on Tuesday that the government would not change its plans for the new railway, "
          "which has been delayed by two years and is now expected to cost far more than planned.",
    "de": "Der Minister sagte am Dienstag, dass die Regierung ihre Pläne für die neue Bahnstrecke "
          "nicht ändern werde, die sich um zwei Jahre verzögert hat "
          "und nun deutlich mehr kosten soll als geplant.",
    "fr": "Le ministre a déclaré mardi que le gouvernement ne changerait pas ses projets pour la nouvelle "
          "ligne ferroviaire, qui a été retardée de deux ans et devrait coûter beaucoup plus que prévu.",
    "es": "El ministro dijo el martes que el gobierno no cambiará sus planes para la nueva línea de "
          "ferrocarril, que se ha retrasado dos años y que ahora costará mucho más "
          "de lo previsto según los expertos.",
    "it": "Il ministro ha detto martedì che il governo non cambierà i suoi piani per la nuova linea "
          "ferroviaria, che è stata ritardata di due anni e che ora dovrebbe costare molto più del previsto.",
    "nl": "De minister zei dinsdag dat de regering haar plannen voor de nieuwe spoorlijn niet zal wijzigen, "
          "die met twee jaar is vertraagd en nu naar verwachting veel meer gaat kosten dan gepland.",
    "pt": "O ministro disse na terça-feira que o governo não vai mudar os seus planos para a nova linha "
          "ferroviária, que foi adiada em dois anos e que agora deve custar muito mais do que o previsto.",
    "ru": "Министр заявил во вторник, что правительство не изменит свои планы относительно новой железной "
          "дороги, строительство которой задержалось на два года.",
}


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_detects_the_language(lang: str) -> None:
    assert detect_language(SENTENCES[lang]) == lang


@pytest.mark.parametrize("text", ["", "Too short to tell.", "1,750 2,380 4,400 dlrs 0.60 1.25 " * 5])
def test_none_when_there_is_too_little_text(text: str) -> None:
    assert detect_language(text) is None


def test_english_with_foreign_names_is_still_english() -> None:
    text = ("Portuguese Energy Minister Tomás Ferreira signed a hydrogen agreement with Ingrid Solberg-Hauge "
            "in Lisbon on Tuesday, and the state company Hidrogénio Atlântico will ship it from Sines to "
            "Bergen from 2030, the ministry said.")
    assert detect_language(text) == "en"
