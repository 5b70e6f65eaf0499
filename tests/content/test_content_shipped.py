"""The content we ship loads cleanly, stays a sensible size and behaves at 3 a.m."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from flows.content import Content, Region, check_content, load_content, phone_ok

CONTENT = Path(__file__).resolve().parents[2] / "content"
EASTERN = ZoneInfo("America/New_York")
# Tuesday 24 November 2026, 3 a.m. Eastern: weekday lines are closed.
THREE_AM_TUESDAY = datetime(2026, 11, 24, 3, 0, tzinfo=EASTERN)


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(CONTENT)


def test_shipped_content_has_no_errors() -> None:
    errors = [str(p) for p in check_content(CONTENT) if p.severity == "error"]
    assert errors == []


def test_national_lines_are_present_and_crisis_lines_are_24_7(content: Content) -> None:
    ids = {r.id for r in content.resources}
    assert {
        "lifeline-988",
        "crisis-text-line",
        "emergency-911",
        "dv-hotline",
        "childhelp",
        "poison-control",
        "samhsa-helpline",
        "national-parent-helpline",
        "nami-helpline",
    } <= ids
    for r in content.resources:
        if r.crisis:
            assert r.always_open, r.id
    for rid in ("national-parent-helpline", "nami-helpline"):
        line = content.resource(rid)
        assert line is not None and not line.crisis and not line.always_open


def test_example_region_is_demo_only_and_fictional(content: Content) -> None:
    examples = [r for r in content.resources if r.id.startswith("example-")]
    assert len(examples) >= 6
    for r in examples:
        assert r.demo_only
        assert "EXAMPLE" in r.name["en"]
        assert all("555" in c.value for c in r.contact if c.type == "phone")
    groups = [r for r in examples if r.kind == "support_group"]
    assert {g.group_language for g in groups} == {"en", "es"}


def test_weekday_lines_are_closed_at_3am_and_say_when_they_open(content: Content) -> None:
    nph = content.resource("national-parent-helpline")
    nami = content.resource("nami-helpline")
    assert nph is not None and nami is not None
    assert not nph.is_open(THREE_AM_TUESDAY)
    assert not nami.is_open(THREE_AM_TUESDAY)
    text = content.render_resource(nph, "en", THREE_AM_TUESDAY)
    assert "Closed now — opens today 10:00 (Pacific)" in text
    assert "Open now" not in text
    text = content.render_resource(nami, "en", THREE_AM_TUESDAY, short=True)
    assert "Closed now — opens today 10:00 (Eastern)" in text
    es = content.render_resource(nami, "es", THREE_AM_TUESDAY)
    assert "Cerrado ahora — abre hoy a las 10:00 (hora del Este)" in es


def test_open_now_sort_puts_closed_weekday_lines_last(content: Content) -> None:
    found = content.resources_for(
        categories=None, region=Region(zip="94110", state="CA"), lang="en", now=THREE_AM_TUESDAY
    )
    ids = [r.id for r in found]
    closed = [r.id for r in found if not r.is_open(THREE_AM_TUESDAY)]
    assert set(closed) == {"national-parent-helpline", "nami-helpline"}
    assert ids[-2:] == closed
    assert not any(r.demo_only for r in found)


def test_saturday_night_opens_monday_and_holidays_are_closed(content: Content) -> None:
    nph = content.resource("national-parent-helpline")
    assert nph is not None
    saturday = datetime(2026, 11, 28, 3, 0, tzinfo=EASTERN)
    assert "opens Monday 10:00 (Pacific)" in content.render_resource(nph, "en", saturday)
    thanksgiving_noon = datetime(2026, 11, 26, 12, 0, tzinfo=EASTERN)
    nami = content.resource("nami-helpline")
    assert nami is not None and not nami.is_open(thanksgiving_noon)
    assert "opens tomorrow 10:00" in content.render_resource(nami, "en", thanksgiving_noon)
    open_time = datetime(2026, 11, 24, 12, 0, tzinfo=EASTERN)
    assert "Open now, until 22:00 (Eastern)" in content.render_resource(nami, "en", open_time)


def test_crisis_resources_filter_and_demo_mode(content: Content) -> None:
    crisis = content.resources_for(
        categories=["crisis"], region=None, lang="es", now=THREE_AM_TUESDAY
    )
    assert crisis and all(r.is_open(THREE_AM_TUESDAY) for r in crisis)
    demo = content.resources_for(
        categories=["food"], region=None, lang="en", now=THREE_AM_TUESDAY, demo=True
    )
    assert [r.id for r in demo] == ["example-food-bank"]
    real = content.resources_for(categories=["food"], region=None, lang="en", now=THREE_AM_TUESDAY)
    assert real == []


def test_spanish_options_are_shown_to_spanish_speakers(content: Content) -> None:
    r = content.resource("crisis-text-line")
    assert r is not None
    assert "AYUDA" in content.render_resource(r, "es", THREE_AM_TUESDAY)
    assert "HOME" in content.render_resource(r, "en", THREE_AM_TUESDAY)


def test_line_hours(content: Content) -> None:
    pacific = ZoneInfo("America/Los_Angeles")
    tuesday_noon = datetime(2026, 11, 24, 12, 0, tzinfo=pacific)
    assert content.hours.is_open(tuesday_noon)
    assert not content.hours.is_open(THREE_AM_TUESDAY)
    nxt = content.hours.next_open(THREE_AM_TUESDAY)
    assert nxt == datetime(2026, 11, 24, 9, 0, tzinfo=pacific)
    # Thanksgiving is listed as a holiday: the next opening is Friday.
    thanksgiving = datetime(2026, 11, 26, 10, 0, tzinfo=pacific)
    assert not content.hours.is_open(thanksgiving)
    assert content.hours.next_open(thanksgiving) == datetime(2026, 11, 27, 9, 0, tzinfo=pacific)


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("My toddler has TANTRUMS every single day", "en", "tantrums"),
        ("Mi hijo hace berrinches en la tienda", "es", "tantrums"),
        ("mi niña no duerme", "es", "sleep"),
        ("CPS came to my house", "en", "cw-investigation"),
        ("Me quitaron a mis hijos y no puedo dormir", "es", "cw-foster-care"),
        ("tengo una junta del IEP mañana", "es", "school-iep"),
        ("mi hijo está en el hospital psiquiátrico", "es", "child-behavioral-health"),
        ("I'm raising my grandkids", "en", "kinship-care"),
        ("good morning", "en", None),
    ],
)
def test_match_topic(content: Content, text: str, lang: str, expected: str | None) -> None:
    topic = content.match_topic(text, lang)
    assert (topic.id if topic else None) == expected


def test_topics_cover_the_brief_and_tone_fits(content: Content) -> None:
    ids = {t.id for t in content.topics}
    assert len(ids) >= 25
    for t in content.topics:
        if t.id.startswith("cw-") or t.id in {"juvenile-justice", "parent-mental-health"}:
            assert t.tone in {"hard", "grief"}, t.id
        for lang in ("en", "es"):
            assert t.reflection[lang] and t.strength_question[lang].endswith("?"), t.id
            assert 3 <= len(t.next_steps[lang]) <= 4, t.id
    assert content.topic("cw-lost-custody") is not None
    assert content.topic("cw-lost-custody").tone == "grief"  # type: ignore[union-attr]


def test_rights_point_to_legal_help(content: Content) -> None:
    assert {r.id for r in content.rights} >= {
        "iep-504-safeguards",
        "cw-investigation-what-to-expect",
        "cw-visits-and-case-plan",
    }
    for r in content.rights:
        assert "not legal advice" in r.body["en"]
        assert "no asesoría legal" in r.body["es"]
        last = r.body["en"].strip().splitlines()[-1].lower()
        assert any(w in last for w in ("legal aid", "attorney", "procedural safeguards")), r.id
    found = content.rights_for("cw-visits", Region(state="CA"), "es")
    assert [r.id for r in found] == ["cw-visits-and-case-plan"]


def test_texts_and_fallbacks(content: Content) -> None:
    assert set(content.languages) == {"en", "es"}
    full = content.text("privacy.full", "es", retention_days=30)
    assert "30 días" in full
    assert "{retention_days}" in content.text("privacy.full", "en")  # missing param: no crash
    assert content.text("common.fallback_error", "en").startswith("Sorry — something went wrong")
    assert content.text("common.fallback_error", "fr") == content.text(
        "common.fallback_error", "en"
    )
    assert content.has_text("privacy.short", "es")
    with pytest.raises(KeyError):
        content.text("common.no_such_text", "en")


def test_content_size_stays_sensible(content: Content) -> None:
    total = sum(p.stat().st_size for p in CONTENT.rglob("*.yaml"))
    assert total < 600_000
    for lang, texts in content.texts.items():
        for key, value in texts.items():
            values = value if isinstance(value, tuple) else (value,)
            assert all(len(v) <= 3500 for v in values), (lang, key)
    for r in content.resources:
        for lang in content.languages:
            assert len(content.render_resource(r, lang, THREE_AM_TUESDAY)) < 1500, r.id
            assert len(content.render_resource(r, lang, THREE_AM_TUESDAY, short=True)) < 400
    for t in content.topics:
        for lang in content.languages:
            assert len(t.reflection[lang]) < 400, t.id
    for info in content.rights:
        assert all(len(b) < 3500 for b in info.body.values()), info.id


@pytest.mark.parametrize(
    "number",
    ["988", "911", "741741", "88788", "1-800-799-7233", "(555) 123-4567", "+1 800 222 1222"],
)
def test_phone_numbers_accepted(number: str) -> None:
    assert phone_ok(number)


@pytest.mark.parametrize("number", ["555-12", "12", "1-800-799-SAFE", "98 8", "call me"])
def test_phone_numbers_rejected(number: str) -> None:
    assert not phone_ok(number)


def test_demo_examples_tagged_with_real_places_follow_their_tags(content: Content) -> None:
    def ids(region: Region | None) -> list[str]:
        found = content.resources_for(
            categories=["family_support"], region=region, lang="en", now=THREE_AM_TUESDAY,
            demo=True,
        )
        return [r.id for r in found]

    travis = ids(Region(zip="78701", state="TX", county="Travis"))
    houston = ids(Region(zip="77002", state="TX", county="Harris"))
    elsewhere = ids(Region(zip="10001", state="NY", county="New York"))
    county, state = "example-travis-county-family-line", "example-texas-parent-line"
    assert county in travis and state in travis
    assert state in houston and county not in houston
    assert county not in elsewhere and state not in elsewhere
    # The fictional Example County is shown anywhere in demo mode, after what matches.
    fictional = "example-family-resource-center"
    assert fictional in travis and travis.index(fictional) > travis.index(state)
    assert fictional in elsewhere and fictional in ids(None)
