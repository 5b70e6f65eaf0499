"""The support-group reminder in the pure parent flow: what is scheduled, what is said."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from parent_transcript import CHAT, NOW, SECRET, Chat

from flows.callbacks import encode
from flows.content import Content
from flows.effects import CancelMeetingReminders, ScheduleMeetingReminder
from flows.parent.groups import JOB, REMIND, UNREMIND

LA = ZoneInfo("America/Los_Angeles")
GROUP = "example-parent-group-en"  # Wednesdays 18:30-20:00 Pacific
WEDNESDAY = datetime(2026, 3, 11, 18, 30, tzinfo=LA)  # the day after NOW (Tue 11:30 PDT)
# Words that must never reach a shared phone's lock screen.
TELLTALE = ("parent", "support", "group", "circle", "abuse", "cps", "padre", "grupo", "apoyo")


def test_remind_button_schedules_the_day_before_and_says_when(content: Content) -> None:
    assert NOW.astimezone(LA).strftime("%a %H:%M") == "Tue 11:30"
    chat = Chat(content)
    chat.press_data(encode(SECRET, CHAT, REMIND, GROUP))
    sched = [e for e in chat.effects if isinstance(e, ScheduleMeetingReminder)]
    assert sched == [ScheduleMeetingReminder(GROUP, WEDNESDAY,
                                             datetime(2026, 3, 10, 18, 30, tzinfo=LA))]
    assert chat.texts()[0].startswith(
        "Okay. I'll send a short reminder on Tuesday, March 10 at 6:30 pm (Pacific time).")
    assert chat.labels() == [chat.t("parent.buttons.cancel_reminder")]
    chat.press("parent.buttons.cancel_reminder")
    assert chat.effects[-1] == CancelMeetingReminders(GROUP)
    assert chat.texts() == [chat.t("parent.groups.reminder_cancelled")]


def test_the_reminder_says_only_the_time_in_the_parents_language(content: Content) -> None:
    chat = Chat(content)
    chat.internal(job=JOB, resource=GROUP, at=WEDNESDAY.isoformat())
    assert chat.texts() == ["A reminder you asked for: tomorrow at 6:30 pm (Pacific time)."]
    es = Chat(content, language_code="es")
    es.snap = replace(es.snap, lang="es", state="idle")
    es.internal(job=JOB, resource=GROUP, at=WEDNESDAY.isoformat())
    assert es.texts() == [
        "Un recordatorio que pediste: mañana a las 6:30 p. m. (hora del Pacífico)."]
    for text in (*chat.texts(), *es.texts()):
        assert not any(word in text.casefold() for word in TELLTALE)


def test_no_reminder_for_a_time_the_group_no_longer_meets_or_a_group_gone(
    content: Content,
) -> None:
    chat = Chat(content)
    for payload in (
        {"resource": GROUP, "at": WEDNESDAY.replace(hour=17).isoformat()},  # changed time
        {"resource": "example-gone", "at": WEDNESDAY.isoformat()},
        {"resource": GROUP, "at": datetime(2026, 3, 4, 18, 30, tzinfo=LA).isoformat()},  # past
        {"resource": GROUP, "at": "not a date"},
        {"resource": GROUP},
    ):
        chat.internal(job=JOB, **payload)
        assert chat.texts() == [], payload


def test_stop_drops_every_reminder_and_a_forged_button_does_nothing(content: Content) -> None:
    chat = Chat(content)
    chat.say("/stop")
    assert CancelMeetingReminders(None) in chat.effects
    chat.press_data(encode(b"other-secret", CHAT, REMIND, GROUP))
    assert chat.texts() == [chat.t("common.expired_button")]
    chat.press_data(encode(SECRET, CHAT, UNREMIND, ""))
    assert chat.texts() == [chat.t("common.expired_button")]
    assert not any(isinstance(e, ScheduleMeetingReminder) for e in chat.effects)


def test_in_a_peer_conversation_the_reminder_buttons_still_work(content: Content) -> None:
    chat = Chat(content)
    chat.snap = replace(chat.snap, in_handoff=True)
    chat.press_data(encode(SECRET, CHAT, REMIND, GROUP))
    assert any(isinstance(e, ScheduleMeetingReminder) for e in chat.effects)
