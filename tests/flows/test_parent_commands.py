"""Commands, buttons and events that can arrive in any state."""

from __future__ import annotations

import pytest
from parent_transcript import CHAT, Chat, forged

from flows.content import Content
from flows.effects import (
    CancelCheckins,
    ForgetConfirmed,
    LanguageChanged,
    LeaveQueue,
    RequestPeer,
    ScheduleCheckin,
)
from flows.events import AnswerCallback, Inbound


def _to(chat: Chat, where: str) -> Chat:
    """Walk a parent to a named point in the conversation (by talking, not by poking)."""
    if where == "new":
        return chat
    chat.say("/start")
    if where == "welcomed":
        return chat
    chat.say("There is a lot going on at home lately and I need to talk")
    if where == "listening":
        return chat
    chat.press("parent.buttons.ideas")
    if where == "choosing_topic":
        return chat
    chat.press(chat.content.topics[0].title["en"])
    if where == "sharing_strengths":
        return chat
    chat.say("I keep showing up")
    if where == "choosing_step":
        return chat
    chat.press("1")
    if where == "offering_checkin":
        return chat
    chat.press("parent.buttons.no_thanks")
    chat.press("parent.buttons.yes_please")
    if where == "asking_region":
        return chat
    chat.press("parent.buttons.skip")
    if where == "after_resources":
        return chat
    chat.press("parent.buttons.person")
    if where == "reviewing_card":
        return chat
    chat.press("parent.buttons.card_send")
    assert where == "handed_off"
    return chat


STATES = [
    "new", "welcomed", "listening", "choosing_topic", "sharing_strengths", "choosing_step",
    "offering_checkin", "asking_region", "after_resources", "reviewing_card", "handed_off",
]  # fmt: skip
QUIET = ["new", "listening", "asking_region", "reviewing_card", "handed_off"]


@pytest.mark.parametrize("where", STATES)
def test_walks_reach_their_state(content: Content, where: str) -> None:
    chat = _to(Chat(content), where)
    assert chat.snap.state == ("" if where == "new" else where)


@pytest.mark.parametrize("where", QUIET)
def test_crisis_answers_at_once_and_stays_put(content: Content, where: str) -> None:
    chat = _to(Chat(content), where)
    before = chat.snap.state
    chat.say("/crisis")
    assert len(chat.texts()) == 1 and chat.texts()[0]
    assert chat.snap.state == before
    assert not chat.result or not chat.result.effects


@pytest.mark.parametrize("where", QUIET)
def test_privacy_uses_the_retention_from_the_app(content: Content, where: str) -> None:
    chat = _to(Chat(content, retention_days=45), where)
    chat.say("/privacy")
    assert chat.texts() == [chat.t("privacy.full", retention_days=45)]
    chat.snap.data.pop("retention_days")
    chat.say("/privacy")
    assert chat.texts() == [chat.t("privacy.full", retention_days=30)]


@pytest.mark.parametrize("where", QUIET)
def test_help_and_unknown_commands(content: Content, where: str) -> None:
    chat = _to(Chat(content), where)
    chat.say("/help")
    assert chat.texts() == [chat.t("parent.help")]
    chat.say("/frobnicate")
    expected = [] if where == "handed_off" else [chat.t("common.unknown_command")]
    assert chat.texts() == expected


@pytest.mark.parametrize("where", QUIET)
def test_stop_leaves_quietly(content: Content, where: str) -> None:
    chat = _to(Chat(content), where)
    chat.say("/stop")
    assert chat.texts() == [chat.t("parent.stop")]
    assert chat.snap.state == "idle"
    assert CancelCheckins() in chat.result.effects  # type: ignore[union-attr]
    assert (LeaveQueue() in chat.result.effects) == (where == "handed_off")  # type: ignore[union-attr]
    assert not chat.snap.in_handoff
    chat.say("hello")
    assert chat.snap.state == "welcomed"  # coming back is a fresh, warm start


@pytest.mark.parametrize("where", ["welcomed", "choosing_topic", "asking_region"])
def test_start_and_talk_from_anywhere(content: Content, where: str) -> None:
    chat = _to(Chat(content), where)
    chat.say("/start")
    assert chat.snap.state == "welcomed"
    assert chat.t("privacy.short") in chat.all_text()
    chat.say("/talk my daughter will not go to school")
    assert chat.snap.state == "reviewing_card"  # the card first: what the peer will read
    assert "my daughter will not go to school" in chat.texts()[0]
    chat.say("/talk")  # again: send it as it is
    assert chat.result is not None
    assert chat.result.effects == [RequestPeer(note="my daughter will not go to school",
                                               card=True, region=False)]
    assert chat.snap.state == "handed_off"
    assert chat.texts() == []


def test_resources_from_anywhere(content: Content) -> None:
    chat = _to(Chat(content), "sharing_strengths")
    chat.say("/resources")
    assert chat.snap.state == "asking_region"
    chat.say("/talk")
    chat.say("/talk")
    chat.say("/resources")  # while a peer has the conversation: no questions, just resources
    assert chat.snap.state == "handed_off"
    assert chat.texts()


def test_handed_off_is_silent_except_its_commands(content: Content) -> None:
    chat = _to(Chat(content), "handed_off")
    for text in ("I am still here", "/start", "/talk", "/frobnicate"):
        chat.say(text)
        assert chat.texts() == [], text
        assert chat.snap.state == "handed_off"
    chat.event(Inbound(kind="media", chat_id=CHAT, media="photo", message_id=999))
    assert chat.texts() == []
    chat.press_data(chat.content and forged("h", "ideas"))
    assert chat.answered_callback()


def test_after_the_handoff_ends_the_parent_is_listened_to(content: Content) -> None:
    chat = _to(Chat(content), "handed_off")
    chat.internal(job="handoff_ended")
    chat.snap.in_handoff = False
    assert chat.snap.state == "listening" and chat.texts() == []
    chat.say("thanks, that helped a little bit, but I am still worried")
    assert chat.is_reflection(chat.texts()[0])


@pytest.mark.parametrize("where", ["listening", "offering_checkin", "handed_off"])
def test_language_switch(content: Content, where: str) -> None:
    chat = _to(Chat(content), where)
    before = chat.snap.state
    chat.say("/language")
    assert chat.labels() == [chat.t("parent.buttons.lang_en"), chat.t("parent.buttons.lang_es")]
    chat.press("parent.buttons.lang_es")
    assert chat.answered_callback()
    assert chat.snap.lang == "es"
    assert LanguageChanged("es") in chat.result.effects  # type: ignore[union-attr]
    assert chat.texts() == [content.text("parent.language.changed", "es")]
    assert chat.snap.state == before
    chat.say("/language en")
    assert chat.snap.lang == "en"


def test_spanish_is_guessed_only_for_a_new_parent(content: Content) -> None:
    chat = Chat(content, language_code="es-419")
    chat.say("hola")
    assert chat.snap.lang == "es"
    assert content.text("parent.welcome", "es") in chat.all_text()
    chat.say("/language en")
    chat.language_code = "es"
    chat.say("/help")
    assert chat.snap.lang == "en"


@pytest.mark.parametrize("where", ["listening", "asking_region", "handed_off"])
def test_forget_confirm(content: Content, where: str) -> None:
    chat = _to(Chat(content), where)
    chat.say("/forget")
    assert chat.snap.state == "confirming_forget"
    assert chat.t("parent.forget.confirm") in chat.all_text()
    chat.press("parent.buttons.forget_yes")
    assert chat.answered_callback()
    assert chat.result is not None and ForgetConfirmed() in chat.result.effects
    assert chat.t("privacy.forget_limits") in chat.all_text()
    assert chat.t("parent.forget.done") in chat.all_text()
    assert chat.snap.state == "" and chat.snap.data == {}


@pytest.mark.parametrize("where", ["welcomed", "choosing_step", "handed_off"])
def test_forget_cancel_returns_where_they_were(content: Content, where: str) -> None:
    chat = _to(Chat(content), where)
    before = chat.snap.state
    chat.say("/forget")
    chat.press("parent.buttons.forget_no")
    assert chat.texts() == [chat.t("parent.forget.cancelled")]
    assert chat.snap.state == before
    assert chat.result is not None and not chat.result.effects


def test_writing_instead_of_confirming_forget_keeps_everything(content: Content) -> None:
    chat = _to(Chat(content), "choosing_step")
    chat.say("/forget")
    chat.say("actually I think I'll try to take a break tonight")
    assert not any(isinstance(e, ForgetConfirmed) for e in chat.effects)
    assert chat.snap.state == "offering_checkin"  # their words were taken as their step


@pytest.mark.parametrize("where", ["listening", "choosing_topic", "offering_checkin"])
def test_forged_or_stale_buttons(content: Content, where: str) -> None:
    chat = _to(Chat(content), where)
    before = (chat.snap.state, dict(chat.snap.data))
    chat.press_data(forged("p"))
    assert chat.answered_callback()
    assert chat.texts() == [chat.t("common.expired_button")]
    assert (chat.snap.state, chat.snap.data) == before
    chat.press_data("garbage")
    assert chat.texts() == [chat.t("common.expired_button")]


def test_an_old_button_from_an_earlier_step_has_expired(content: Content) -> None:
    chat = _to(Chat(content), "offering_checkin")
    old = next(b.data for b in chat.buttons() if b.label == chat.t("parent.buttons.checkin_1"))
    chat.press("parent.buttons.no_thanks")
    chat.press_data(old)
    assert chat.texts() == [chat.t("common.expired_button")]
    assert not any(isinstance(e, ScheduleCheckin) for e in chat.effects)


def test_every_button_press_stops_the_spinner(content: Content) -> None:
    chat = _to(Chat(content), "listening")
    chat.press("parent.buttons.vent")
    assert chat.result is not None
    assert isinstance(chat.result.actions[0], AnswerCallback)


def test_media_gets_a_kind_text(content: Content) -> None:
    chat = _to(Chat(content), "listening")
    chat.event(Inbound(kind="media", chat_id=CHAT, media="photo", message_id=5))
    assert chat.texts() == [chat.t("parent.media")]
    assert chat.labels() == [chat.t("parent.buttons.person")]
    assert chat.snap.state == "listening"


def test_edits_are_ignored(content: Content) -> None:
    chat = _to(Chat(content), "listening")
    before = (chat.snap.state, dict(chat.snap.data))
    chat.event(Inbound(kind="edited", chat_id=CHAT, text="changed my mind", message_id=5))
    assert chat.result is not None and chat.result.actions == [] and chat.result.effects == []
    assert (chat.snap.state, chat.snap.data) == before
