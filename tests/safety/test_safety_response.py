"""Crisis and boundary replies: composition with a stand-in and with the real content."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from flows.safety.response import boundary_reply, crisis_reply

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 3 a.m.: only 24/7 lines help
CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"


class StandInContent:
    """A test double of the content team's API (text, resource, render_resource)."""

    def __init__(self, missing: frozenset[str] = frozenset()) -> None:
        self.missing = missing

    def text(self, key: str, lang: str, **params: Any) -> str:
        if key in self.missing:
            raise KeyError(key)
        return f"<{lang}:{key}>"

    def resource(self, resource_id: str) -> Any:
        return None if resource_id in self.missing else resource_id

    def render_resource(self, resource: Any, lang: str, now: datetime, short: bool = False) -> str:
        assert short
        return f"[{resource}]"


@pytest.mark.parametrize(
    ("category", "lines"),
    [
        ("suicide", ["lifeline-988"]),
        ("self_harm", ["lifeline-988"]),
        ("medical_emergency", ["emergency-911", "poison-control"]),
        ("domestic_violence", ["dv-hotline"]),
        ("child_in_danger", ["childhelp"]),
        ("harm_to_child", ["childhelp"]),
        ("minor", ["lifeline-988", "crisis-text-line"]),
        (None, ["lifeline-988", "crisis-text-line"]),
    ],
)
def test_composition_order(category: str | None, lines: list[str]) -> None:
    reply = crisis_reply(category, "es", StandInContent(), NOW)
    script = f"<es:crisis.{category or 'general'}>"
    expected = "\n\n".join(
        [script, "\n".join(f"[{r}]" for r in lines), "<es:crisis.cannot_see_location>"]
    )
    assert reply == expected


def test_missing_text_falls_back_to_general_then_builtin() -> None:
    reply = crisis_reply("suicide", "en", StandInContent(frozenset({"crisis.suicide"})), NOW)
    assert reply.startswith("<en:crisis.general>")
    broken = StandInContent(frozenset({"crisis.suicide", "crisis.general"}))
    assert "988" in crisis_reply("suicide", "en", broken, NOW)


def test_missing_resource_is_skipped_not_raised() -> None:
    reply = crisis_reply(
        "medical_emergency", "en", StandInContent(frozenset({"poison-control"})), NOW
    )
    assert "[emergency-911]" in reply and "poison-control" not in reply


def test_boundary_reply_keys() -> None:
    assert boundary_reply("clinical", "en", StandInContent()) == "<en:boundary.clinical>"
    assert boundary_reply("legal", "es", StandInContent()) == "<es:boundary.legal>"


# ---- against the real content (flows/content and content/) -------------------------


@pytest.fixture(scope="module")
def content() -> Any:
    from flows.content import load_content

    return load_content(CONTENT_DIR)


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize(
    "category",
    [
        None,
        "suicide",
        "self_harm",
        "medical_emergency",
        "domestic_violence",
        "child_in_danger",
        "harm_to_child",
        "psychosis",
        "minor",
    ],
)
def test_real_reply_is_honest_and_24_7(content: Any, category: str | None, lang: str) -> None:
    reply = crisis_reply(category, lang, content, NOW)
    assert "911" in reply
    assert "{" not in reply
    assert "closed" not in reply.lower() and "cerrad" not in reply.lower()
    if category in (None, "suicide", "self_harm", "minor", "psychosis"):
        assert "988" in reply


def test_real_harm_to_child_reply(content: Any) -> None:
    reply = crisis_reply("harm_to_child", "en", content, NOW)
    assert "right thing" in reply
    assert "somewhere safe" in reply and "step away" in reply
    assert "a peer specialist will be with you as soon as one is free" in reply.lower()
    assert "Childhelp" in reply
    assert "can't see where you are" in reply


def test_real_minor_reply_gives_youth_lines_and_asks_nothing(content: Any) -> None:
    for lang in ("en", "es"):
        reply = crisis_reply("minor", lang, content, NOW)
        assert "988" in reply and "741741" in reply
        assert "?" not in reply and "¿" not in reply  # no questions, no requests for details


def test_real_medical_reply(content: Any) -> None:
    reply = crisis_reply("medical_emergency", "en", content, NOW)
    assert "911" in reply and "1-800-222-1222" in reply


def test_real_boundary_replies(content: Any) -> None:
    clinical = boundary_reply("clinical", "en", content)
    assert (
        "doctor" in clinical
        and "pharmacist" in clinical
        and "NAMI" in clinical
        and "peer" in clinical
    )
    legal = boundary_reply("legal", "en", content)
    assert "legal aid" in legal.lower() and "attorney" in legal and "peer" in legal
    assert "NAMI" in boundary_reply("clinical", "es", content)
    assert "abogad" in boundary_reply("legal", "es", content)


def test_content_check_has_no_safety_problems() -> None:
    from flows.content import check_content

    problems = [
        p
        for p in check_content(CONTENT_DIR)
        if "safety" in p.file or "crisis" in p.file or "boundary" in p.file
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("categories", "script", "lines"),
    [
        (("medical_emergency", "suicide"), "medical_emergency",
         ["emergency-911", "poison-control", "lifeline-988"]),
        (("suicide", "self_harm", "psychosis"), "suicide", ["lifeline-988"]),
        (("domestic_violence", "child_in_danger", "harm_to_child"), "domestic_violence",
         ["dv-hotline", "childhelp"]),
        (("minor", "suicide"), "minor", ["lifeline-988", "crisis-text-line"]),
    ],
)
def test_several_categories_union_of_lines_script_of_the_most_urgent(
    categories: tuple[str, ...], script: str, lines: list[str]
) -> None:
    for lang in ("en", "es"):
        reply = crisis_reply(categories[0], lang, StandInContent(), NOW, categories=categories)
        assert reply == "\n\n".join([f"<{lang}:crisis.{script}>",
                                     "\n".join(f"[{r}]" for r in lines),
                                     f"<{lang}:crisis.cannot_see_location>"])


@pytest.mark.parametrize(("text", "lang"), [
    ("i can't do this anymore. i took all my pills", "en"),
    ("ya no puedo más. me tomé todas las pastillas", "es"),
])
def test_an_overdose_with_suicidal_words_gets_911_poison_control_and_988(
    content: Any, text: str, lang: str
) -> None:
    from flows.safety import assess

    a = assess(text)
    assert a.crisis and a.categories[:2] == ("medical_emergency", "suicide")
    reply = crisis_reply(a.category, lang, content, NOW, categories=a.categories)
    assert reply.startswith(content.text("crisis.medical_emergency", lang))
    lines = [content.render_resource(content.resource(rid), lang, NOW, short=True)
             for rid in ("emergency-911", "poison-control", "lifeline-988")]
    assert "\n".join(lines) in reply
    assert all(reply.count(line) == 1 for line in lines)
