"""Resources in the order that fits the concern: topic fit, then region; safety lines only
for a concern about safety (shipped content, real clock values)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from flows.content import Content, Region, load_content

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
WEEKDAY_MORNING = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # 10:00 in Los Angeles
TRAVIS = Region(zip="78701", state="TX", county="Travis")


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(CONTENT_DIR)


def ids(content: Content, topic: str | None, region: Region | None = None,
        demo: bool = False) -> list[str]:
    t = content.topic(topic) if topic else None
    if topic:
        assert t is not None
    found = content.resources_for_topic(t, region=region, lang="en", now=WEEKDAY_MORNING,
                                        demo=demo)
    return [r.id for r in found]


def safety_lines(content: Content) -> set[str]:
    safety = content.safety_categories()
    return {r.id for r in content.resources if safety & set(r.categories)}


def test_the_safety_categories_are_the_crisis_and_abuse_ones(content: Content) -> None:
    assert content.safety_categories() == {
        "crisis", "emergency", "domestic_violence", "child_abuse", "poison"}
    assert {"childhelp", "lifeline-988", "dv-hotline"} <= safety_lines(content)


@pytest.mark.parametrize("topic", [t for t in ("tantrums", "sleep", "feeling-alone", None)])
def test_everyday_concerns_and_an_unknown_one_get_no_safety_line(
    content: Content, topic: str | None
) -> None:
    found = ids(content, topic, TRAVIS, demo=True)
    assert found and not set(found) & safety_lines(content)


def test_a_topic_that_names_a_safety_category_gets_only_that_safety_line(
    content: Content,
) -> None:
    found = ids(content, "co-parenting")
    assert "dv-hotline" in found
    assert not (set(found) - {"dv-hotline"}) & safety_lines(content)


def test_topic_fit_comes_first_then_local_help(content: Content) -> None:
    # feeling-alone: support_group, parenting, family_support (in that order of fit).
    found = ids(content, "feeling-alone", TRAVIS, demo=True)
    first_parenting = found.index("example-travis-county-family-line")
    assert first_parenting < found.index("national-parent-helpline")  # local before national
    assert found.index("national-parent-helpline") < found.index("nami-helpline")  # fit
    # A support group fits best, but the Example County groups are demo examples shown
    # anywhere: those always come after what serves the parent's own region.
    assert found.index("example-parent-group-en") > found.index("nami-helpline")
    assert found[-1] == "example-family-resource-center"  # family_support only: last fit
