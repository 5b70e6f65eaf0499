"""Check-ins, the domestic-violence flag, clinical/legal boundaries and restart-resume."""

from __future__ import annotations

from datetime import timedelta

import pytest
from parent_transcript import NOW, Chat
from test_parent_commands import STATES, _to

import flows.safety as assess_module
from flows.content import Content
from flows.effects import CancelCheckins, RequestPeer, ScheduleCheckin


def _checkin_scheduled(content: Content, **data: object) -> tuple[Chat, ScheduleCheckin]:
    chat = _to(Chat(content, **data), "offering_checkin")
    chat.press("parent.buttons.checkin_3")
    effects = chat.result.effects  # type: ignore[union-attr]
    assert effects[0] == CancelCheckins()  # one pending check-in at a time
    scheduled = effects[1]
    assert isinstance(scheduled, ScheduleCheckin)
    assert scheduled.due_at == NOW + timedelta(days=3)
    assert chat.t("parent.checkin.scheduled_3") in chat.all_text()
    return chat, scheduled


def test_checkin_is_neutral_and_offers_buttons(content: Content) -> None:
    chat, scheduled = _checkin_scheduled(content)
    chat.press("parent.buttons.not_now")
    chat.internal(job="checkin", key=scheduled.key)
    assert chat.texts() == [chat.t("parent.checkin.message")]
    assert chat.snap.state == "checked_in"
    assert chat.labels() == [
        chat.t("parent.buttons.checkin_ok"),
        chat.t("parent.buttons.checkin_hard"),
        chat.t("parent.buttons.person"),
    ]
    for topic in content.topics:  # a shared phone shows nothing about the topic
        assert topic.title["en"].lower() not in chat.texts()[0].lower()
    chat.press("parent.buttons.checkin_hard")
    assert chat.t("parent.ask_help") in chat.all_text()
    assert chat.snap.state == "listening"
    chat.internal(job="checkin", key=scheduled.key)  # delivered twice: once is enough
    assert chat.texts() == []


def test_checkin_in_spanish(content: Content) -> None:
    chat = Chat(content, language_code="es")
    chat.say("/start")
    chat.say("Estoy muy cansada, en casa todo es difícil últimamente")
    chat.press("parent.buttons.ideas")
    chat.press(content.topics[0].title["es"])
    chat.say("Sigo intentándolo cada día")
    chat.press("1")
    chat.press("parent.buttons.checkin_1")
    key = next(e.key for e in chat.effects if isinstance(e, ScheduleCheckin))
    chat.internal(job="checkin", key=key)
    assert chat.texts() == [content.text("parent.checkin.message", "es")]
    chat.say("Un poco mejor, gracias")
    assert chat.is_reflection(chat.texts()[0])


def test_a_declined_or_superseded_checkin_is_not_sent(content: Content) -> None:
    chat, scheduled = _checkin_scheduled(content)
    chat.internal(job="checkin", key="ci-7-0")
    assert chat.texts() == []
    chat.say("/stop")
    chat.internal(job="checkin", key=scheduled.key)
    assert chat.texts() == []


def test_no_checkin_offer_after_a_dv_disclosure(content: Content) -> None:
    chat = _to(Chat(content, no_checkin=True), "choosing_step")
    chat.press("1")
    assert chat.snap.state == "offering_resources"
    assert chat.t("parent.checkin.offer") not in chat.all_text()
    assert chat.t("parent.buttons.checkin_1") not in chat.labels()
    assert not any(isinstance(e, ScheduleCheckin) for e in chat.effects)


def test_dv_flag_set_later_silences_a_scheduled_checkin(content: Content) -> None:
    chat, scheduled = _checkin_scheduled(content)
    chat.snap.data["no_checkin"] = True  # the app sets it after a disclosure
    chat.internal(job="checkin", key=scheduled.key)
    assert chat.texts() == []
    chat.say("/stop")
    assert chat.snap.data["no_checkin"] is True  # a safety flag survives /stop


def test_checkin_waits_while_a_peer_has_the_conversation(content: Content) -> None:
    chat, scheduled = _checkin_scheduled(content)
    chat.say("/talk")
    chat.say("/talk")
    chat.internal(job="checkin", key=scheduled.key)
    assert chat.texts() == [] and chat.snap.state == "handed_off"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Should I stop giving my son his medication dose? What dosage is right?", "clinical"),
        ("Can I sue the school district? Do I need a lawyer for the custody case?", "legal"),
    ],
)
def test_boundary_reply_then_the_flow_continues(content: Content, text: str, kind: str) -> None:
    from flows.safety.response import boundary_reply

    assessment = assess_module.assess(text, "en")
    assert not assessment.crisis and getattr(assessment, kind), assessment
    chat = _to(Chat(content), "listening")
    ideas = next(b.data for b in chat.buttons() if b.label == chat.t("parent.buttons.ideas"))
    chat.say(text, assessment=assessment)
    assert chat.texts()[0] == boundary_reply(kind, "en", content)
    assert chat.labels() == [chat.t("parent.buttons.person")]
    assert chat.snap.state == "listening"
    chat.press_data(ideas)  # the earlier buttons still work: we carry on
    assert chat.snap.state == "choosing_topic"


def test_boundary_on_the_first_message_still_welcomes(content: Content) -> None:
    from flows.safety.response import boundary_reply

    text = "What medication dose should my child take for ADHD?"
    assessment = assess_module.assess(text, "en")
    assert not assessment.crisis and assessment.clinical, assessment
    chat = Chat(content)
    chat.say(text, assessment=assessment)
    assert chat.texts()[0] == boundary_reply("clinical", "en", content)
    assert chat.t("privacy.short") in chat.all_text()
    assert chat.snap.state == "welcomed"


@pytest.mark.parametrize("where", STATES)
def test_restart_resume_picks_up_where_it_was(content: Content, where: str) -> None:
    """The snapshot goes through JSON (as storage would) and the same next step works."""
    straight = _to(Chat(content), where)
    resumed = _to(Chat(content), where)
    resumed.restart()
    for chat in (straight, resumed):
        chat.say("I think I'd like to keep going with this, it is helping a bit")
    assert resumed.snap.state == straight.snap.state
    assert resumed.texts() == straight.texts()
    assert resumed.result.effects == straight.result.effects  # type: ignore[union-attr]


def test_restart_resume_keeps_buttons_working(content: Content) -> None:
    chat = _to(Chat(content), "offering_checkin")
    chat.restart()
    chat.press("parent.buttons.checkin_1")
    assert chat.snap.state == "offering_resources"


def test_an_unknown_saved_state_starts_fresh_and_kind(content: Content) -> None:
    chat = Chat(content)
    chat.snap.state = "some_state_from_an_older_version"
    chat.say("hello")
    assert chat.snap.state == "welcomed"


def test_talk_carries_the_topics_default_experience_tag_for_matching(content: Content) -> None:
    chat = _to(Chat(content), "sharing_strengths")
    assert content.topics[0].id == "cw-investigation"
    chat.say("/talk")
    chat.press("parent.buttons.card_send")
    assert chat.result is not None
    # The experience tag staff carry (content/experience.yaml), never the topic id.
    assert chat.result.effects == [RequestPeer(note=None, experience="child-welfare",
                                               card=True, topic="cw-investigation",
                                               region=False)]
