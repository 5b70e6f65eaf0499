"""Asking for a peer who has been through it, and resources that fit the concern."""

from __future__ import annotations

import pytest
from parent_transcript import CHAT, SECRET, Chat

from flows.callbacks import encode
from flows.content import Content
from flows.effects import RequestPeer, ResourcesShared

SAFETY_LINES = {"childhelp", "lifeline-988", "crisis-text-line", "emergency-911", "dv-hotline",
                "poison-control"}


def _peers(chat: Chat) -> list[RequestPeer]:
    return [e for e in chat.effects if isinstance(e, RequestPeer)]


def _story(content: Content, text: str, lang: str = "en") -> Chat:
    chat = Chat(content, language_code=lang)
    chat.say("/start")
    chat.say(text)
    assert chat.snap.state == "listening"
    return chat


def test_a_parent_can_ask_for_a_peer_who_has_been_through_cps(content: Content) -> None:
    chat = _story(content, "CPS came to my house today and opened an investigation")
    assert chat.snap.data["topic"] == "cw-investigation"
    chat.press("parent.buttons.person_like_me")
    assert chat.texts() == [chat.t("parent.peer_choice")]
    assert _peers(chat) == []  # a choice, never a requirement: nothing queued yet
    # "Anyone who is free" comes first, then the topic's own experience.
    assert chat.labels()[:2] == [chat.t("parent.buttons.anyone_free"), "CPS or foster care"]
    assert len(chat.labels()) == 1 + len(content.experiences)
    chat.press("CPS or foster care")
    assert chat.snap.state == "reviewing_card"  # the card shows the wish before it is sent
    assert chat.t("parent.card.experience", label="CPS or foster care") in chat.texts()[0]
    chat.press("parent.buttons.card_send")
    assert _peers(chat) == [RequestPeer(note=None, experience="child-welfare", chosen=True,
                                        card=True, topic="cw-investigation", region=False)]
    assert chat.snap.state == "handed_off"


def test_anyone_free_sends_the_topics_default_tag_as_a_preference(content: Content) -> None:
    chat = _story(content, "CPS came to my house today and opened an investigation")
    chat.press("parent.buttons.person_like_me")
    chat.press("parent.buttons.anyone_free")
    assert chat.t("parent.card.anyone") in chat.texts()[0]
    chat.press("parent.buttons.card_send")
    assert _peers(chat) == [RequestPeer(note=None, experience="child-welfare", chosen=False,
                                        card=True, topic="cw-investigation", region=False)]


def test_the_choice_is_in_spanish_and_an_unknown_experience_is_an_expired_button(
    content: Content,
) -> None:
    chat = _story(content, "Mi hijo tiene berrinches todos los días y ya no puedo", lang="es")
    chat.press("parent.buttons.person_like_me")
    assert chat.texts() == [content.text("parent.peer_choice", "es")]
    assert "la recuperación de una adicción" in chat.labels()
    assert chat.labels()[0] == content.text("parent.buttons.anyone_free", "es")
    recovery = next(b.data for b in chat.buttons() if b.label == "la recuperación de una adicción")
    chat.press_data(encode(SECRET, CHAT, "pe", "astrology"))
    assert chat.texts() == [content.text("common.expired_button", "es")]
    assert _peers(chat) == []
    chat.press_data(recovery)
    chat.press("parent.buttons.card_send")
    assert _peers(chat) == [RequestPeer(note=None, experience="recovery", chosen=True,
                                        card=True, topic="tantrums", region=False)]


def _resources(content: Content, story: str) -> list[str]:
    chat = _story(content, story)
    chat.press("parent.buttons.resources")
    chat.press("parent.buttons.skip")
    shared = [e for e in chat.effects if isinstance(e, ResourcesShared)]
    assert len(shared) == 1
    return list(shared[0].ids)


@pytest.mark.parametrize("story", [
    "My toddler has a tantrum every single night and I am exhausted",
    "I feel so lonely, I have no one to talk to about my kids",
])
def test_everyday_concerns_never_get_a_crisis_or_abuse_line(content: Content, story: str) -> None:
    ids = _resources(content, story)
    assert ids and ids[0] == "national-parent-helpline"
    assert not set(ids) & SAFETY_LINES


def test_a_safety_concern_gets_its_safety_line(content: Content) -> None:
    # co-parenting lists domestic_violence: the line for a parent afraid of an ex.
    ids = _resources(content, "My ex keeps showing up and the custody schedule is a mess")
    assert "dv-hotline" in ids
    assert "childhelp" not in ids
