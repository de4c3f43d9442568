"""Event rules: clause arguments, coreference for actors, typing, dates, negation, modality, filtering."""

from __future__ import annotations

import pytest

from pipeline.article import Article
from pipeline.extract import extract_doc, load_nlp
from pipeline.records import Event


@pytest.fixture(scope="session")
def nlp():
    return load_nlp()


def events(nlp, text: str, published: str | None = "2024-03-11", **kw) -> list[Event]:
    article = Article(id="t", body=text, published=published)
    return extract_doc(nlp(text), article, **kw).events


def who(span) -> str | None:
    return None if span is None else (span.entity or span.text)


def find(evs: list[Event], lemma: str) -> Event:
    hits = [e for e in evs if e.trigger.lemma == lemma]
    assert hits, f"no {lemma!r} event in {[e.trigger.lemma for e in evs]}"
    return hits[0]


def test_subject_verb_object_with_type_offsets_and_location(nlp) -> None:
    text = "German Chancellor Olaf Scholz met French President Emmanuel Macron in Paris."
    ev = find(events(nlp, text), "meet")
    assert (who(ev.actor), ev.type, ev.family, ev.plover, who(ev.target), who(ev.location)) == (
        "Olaf Scholz", "MEET", "contact", "CONSULT", "Emmanuel Macron", "Paris")
    assert text[ev.trigger.start:ev.trigger.end] == ev.trigger.text == "met"
    assert text[ev.actor.start:ev.actor.end] == ev.actor.text == "Olaf Scholz"
    assert ev.sentence == text and ev.modality == "asserted" and not ev.negated


def test_passive_agent_is_the_actor(nlp) -> None:
    ev = find(events(nlp, "The convoy was attacked by Hamas."), "attack")
    assert (who(ev.actor), who(ev.target), ev.type) == ("Hamas", "convoy", "ASSAULT")


def test_agentless_passive_has_no_actor(nlp) -> None:
    ev = find(events(nlp, "Anna Virtanen was arrested in Oslo."), "arrest")
    assert (ev.actor, who(ev.target), ev.type, ev.family, ev.plover) == (None, "Anna Virtanen", "ARREST", "justice",
                                                                         "COERCE")


def test_coordinated_verb_shares_the_subject_and_phrase_takes_its_object(nlp) -> None:
    evs = events(nlp, "Ahmed Saleh seized the airport and took control of the port.")
    ev = find(evs, "take control")
    assert (who(ev.actor), ev.trigger.text, ev.type, who(ev.target)) == (
        "Ahmed Saleh", "took control", "COERCE", "port")
    assert who(find(evs, "seize").target) == "airport"


def test_phrasal_verb_keeps_its_particle(nlp) -> None:
    ev = find(events(nlp, "Microsoft called off the deal with OpenAI."), "call off")
    assert (ev.trigger.text, ev.type, who(ev.actor)) == ("called off", "REJECT", "Microsoft")


def test_apposition_names_the_actor_and_pronoun_follows_it(nlp) -> None:
    evs = events(nlp, "The head of the rebel army, Ahmed Saleh, seized the airport. He then took control of the port.")
    seize, take = find(evs, "seize"), find(evs, "take control")
    assert (who(seize.actor), seize.actor.text) == ("Ahmed Saleh", "Ahmed Saleh")
    assert (take.actor.text, take.actor.entity) == ("He", "Ahmed Saleh")


def test_pronoun_takes_the_most_recent_person_subject(nlp) -> None:
    evs = events(nlp, "Anna Virtanen met Tomas Berg in Oslo. Later, Maria Lopez praised Berg. "
                      "She criticized the government.")
    ev = find(evs, "criticize")
    assert (ev.actor.text, ev.actor.entity, ev.type) == ("She", "Maria Lopez", "ACCUSE")


def test_pronoun_without_a_person_before_is_unresolved(nlp) -> None:
    text = "He criticized the plan."
    assert events(nlp, text) == []  # no named actor or target: dropped by default
    ev = find(events(nlp, text, keep_all_events=True), "criticize")
    assert (ev.actor.text, ev.actor.entity) == ("He", None)


def test_role_phrase_resolves_to_the_person_holding_the_role(nlp) -> None:
    evs = events(nlp, "Prime Minister Narendra Modi visited Washington last week. "
                      "The Indian leader did not meet Biden.")
    ev = find(evs, "meet")
    assert (ev.actor.text, ev.actor.entity, ev.negated) == ("Indian leader", "Narendra Modi", True)


def test_group_noun_resolves_to_the_named_organisation(nlp) -> None:
    evs = events(nlp, "The Northwind Company opened a factory in Ohio. Later the company closed the plant.")
    ev = find(evs, "close plant")
    assert (ev.actor.text, ev.actor.entity, ev.type) == ("company", "Northwind Company", "CLOSURE")


def test_modal_makes_an_event_hypothetical(nlp) -> None:
    ev = find(events(nlp, "Moscow could launch a new offensive against Kyiv."), "launch offensive")
    assert (who(ev.actor), ev.modality) == ("Moscow", "hypothetical")


def test_reported_clause_has_its_source(nlp) -> None:
    ev = find(events(nlp, "Officials claimed that Russia had shelled the village."), "shell")
    assert (who(ev.actor), ev.type, ev.modality, ev.source.text) == ("Russia", "ASSAULT", "reported", "Officials")


def test_according_to_makes_a_reported_event(nlp) -> None:
    ev = find(events(nlp, "According to Reuters, Hamas attacked the convoy."), "attack")
    assert (ev.modality, who(ev.source)) == ("reported", "Reuters")
    ev = find(events(nlp, "Hamas, according to information from Israel, attacked the convoy."), "attack")
    assert (ev.modality, ev.source.text, ev.source.entity) == ("reported", "Israel", "Israel")


def test_time_clause_under_a_modal_is_not_hypothetical(nlp) -> None:
    evs = events(nlp, "The crisis could be resolved after Tomas Berg negotiated a truce.")
    assert find(evs, "negotiate").modality == "asserted"


def test_explicit_date_beats_weekday_and_missing_date_stays_null(nlp) -> None:
    evs = events(nlp, "The Red Cross delivered aid to Gaza on Friday (March 1). Hamas released two hostages.")
    aid = find(evs, "deliver aid")
    assert (aid.type, who(aid.target), aid.date, aid.date_text) == ("AID", "Gaza", "2024-03-01", "Friday (March 1)")
    released = find(evs, "release hostage")
    assert (released.date, released.date_text) == (None, None)  # never the publication date


def test_relative_dates(nlp) -> None:
    evs = events(nlp, "Hamas attacked the convoy yesterday. Tomas Berg visited Oslo last week.")
    assert find(evs, "attack").date == "2024-03-10"
    assert find(evs, "visit").date == "2024-03-04"


def test_announcement_date_goes_to_the_announced_event(nlp) -> None:
    evs = events(nlp, "Tomas Berg has invited the Northwind Company to Oslo. This was announced on Friday.")
    ev = find(evs, "invite")
    assert (ev.type, who(ev.target), ev.date) == ("REQUEST", "Northwind Company", "2024-03-08")


def test_nominal_event_needs_its_arguments(nlp) -> None:
    evs = events(nlp, "The army blamed a Russian attack on the port. The attack was brief.")
    attacks = [e for e in evs if e.trigger.lemma == "attack"]
    assert [(who(e.actor), who(e.target), e.type) for e in attacks] == [("Russian", "port", "ASSAULT")]


def test_default_keeps_events_with_named_or_agent_arguments(nlp) -> None:
    text = "The farmer sold his cows. Anna Virtanen bought a house. Police arrested two men."
    assert [e.trigger.lemma for e in events(nlp, text)] == ["buy house", "arrest"]
    assert [e.trigger.lemma for e in events(nlp, text, named_only=True)] == ["buy house"]
    assert [e.trigger.lemma for e in events(nlp, text, keep_all_events=True)] == ["sell", "buy house", "arrest"]


def test_dateline_is_not_the_subject(nlp) -> None:
    ev = find(events(nlp, "OSLO – Prime Minister Tomas Berg has invited Hamas to talks."), "invite")
    assert (who(ev.actor), who(ev.target), ev.location) == ("Tomas Berg", "Hamas", None)


def test_custom_lexicon_retypes_events(nlp, tmp_path) -> None:
    from pipeline.extract.lexicon import Lexicon

    path = tmp_path / "plover.json"
    path.write_text('{"verbs": {"THREATEN": ["meet"]}}', encoding="utf-8")
    text = "Anna Virtanen met Tomas Berg."
    ev = find(extract_doc(nlp(text), Article(id="t", body=text), lexicon=Lexicon.from_file(path)).events, "meet")
    assert ev.type == "THREATEN"


def test_dateline_city_is_never_an_argument(nlp) -> None:
    evs = events(nlp, "OSLO (Reuters) - Tomas Berg was fined on Monday.", keep_all_events=True)
    assert all("OSLO" not in (e.actor.text if e.actor else "") + (e.target.text if e.target else "")
               for e in evs)


def test_actions_without_participants_are_dropped(nlp) -> None:
    evs = events(nlp, "Following the vote, Anna Virtanen resigned.", keep_all_events=True)
    assert [(e.trigger.lemma, who(e.actor)) for e in evs] == [("resign", "Anna Virtanen")]


def test_infinitive_under_object_control_verb_takes_the_object_as_actor(nlp) -> None:
    evs = events(nlp, "Tomas Berg persuaded Anna Virtanen not to attack the Northwind Company.")
    persuade, attack = find(evs, "persuade"), find(evs, "attack")
    assert (who(persuade.actor), who(persuade.target), persuade.type) == ("Tomas Berg", "Anna Virtanen", "REQUEST")
    assert (who(attack.actor), who(attack.target), attack.negated, attack.modality) == (
        "Anna Virtanen", "Northwind Company", True, "hypothetical")


def test_relative_clause_and_coordinated_passive_reach_the_noun(nlp) -> None:
    evs = events(nlp, "Hamas released the hostages, who were flown to Cairo and were handed to the Red Cross.",
                 keep_all_events=True)
    take, hand = find(evs, "fly"), find(evs, "hand")
    assert (take.actor, who(take.target), who(take.location)) == (None, "hostages", "Cairo")
    assert (hand.actor, who(hand.target)) == (None, "hostages")
    recapture = find(events(nlp, "Hamas attacked the town, which the army later recaptured.",
                            keep_all_events=True), "recapture")
    assert (who(recapture.actor), who(recapture.target)) == ("army", "town")


def test_intent_verbs_and_conditions_are_hypothetical(nlp) -> None:
    evs = events(nlp, "Tomas Berg wants to visit Oslo. If Hamas attacks the convoy, Israel will retaliate.")
    assert (who(find(evs, "visit").actor), find(evs, "visit").modality) == ("Tomas Berg", "hypothetical")
    assert find(evs, "attack").modality == "hypothetical"
    assert find(evs, "retaliate").modality == "hypothetical"


def test_future_clause_dates_forward(nlp) -> None:
    ev = find(events(nlp, "Maria Lopez said she will meet Tomas Berg on Friday."), "meet")
    assert (ev.actor.entity, ev.date) == ("Maria Lopez", "2024-03-15")


def test_quantity_word_gives_way_to_the_counted_noun(nlp) -> None:
    ev = find(events(nlp, "A number of Hamas fighters were killed by Israeli soldiers on Friday."), "kill")
    assert (ev.target.text, ev.target.entity, who(ev.actor), ev.date) == (
        "Hamas fighters", "Hamas", "Israeli", "2024-03-08")


def test_apposition_becomes_a_role_of_the_person(nlp) -> None:
    text = "The head of the rebel army, Ahmed Saleh, seized the airport."
    ex = extract_doc(nlp(text), Article(id="t", body=text))
    (saleh,) = [e for e in ex.entities if e.name == "Ahmed Saleh"]
    assert saleh.roles == ["head of the rebel army"]


def test_plural_role_noun_is_not_one_person(nlp) -> None:
    evs = events(nlp, "President Anna Virtanen visited Oslo. Officials criticized Hamas.")
    ev = find(evs, "criticize")
    assert (ev.actor.text, ev.actor.entity) == ("Officials", None)


def test_prepositional_verb_from_the_lexicon(nlp) -> None:
    ev = find(events(nlp, "Maria Lopez called for sanctions against Hamas."), "call for")
    assert (ev.type, ev.trigger.text, who(ev.actor)) == ("REQUEST", "called for", "Maria Lopez")
