"""What the learned screen changes for a parent and a peer, over real HTTP (issue 12).

The grey zone gets a plain question with three buttons; "yes" and "not sure" get the
crisis response and the front of the queue, "no" a warm line; the question is not asked
twice in a row. A plan told over three messages is asked about, across a restart too. A
parent afraid of being reported hears the honest privacy answer; one who types that
they want a person is offered one. A specialist's "try melatonin at bedtime" is held.

Which sentences fall in the model's grey zone depends on the trained model, so each
test picks its message from a list of candidates by asking the screen itself, and
fails if none fits: a retrained model that has no grey zone left is worth a look.
"""

from __future__ import annotations

import pytest
from conftest import Line, Person
from sqlalchemy import select

from bot.app.runtime import LineRuntime
from core.storage.models import AuditEntry, Conversation, Parent
from flows.safety import assess, assess_window
from flows.safety.features import written_lang

GREY = [
    "some nights i think it would be easier to just not wake up",
    "i keep thinking about just driving and not coming back",
    "nobody would even notice if i was gone honestly",
    "im so tired of being here",
    "i dont know how much longer i can keep going like this",
    "whats the point of any of it lately",
    "sometimes i wonder if the kids would be better without me around",
    "i feel like im disappearing and i dont even mind",
    "ya no se cuanto mas aguanto asi",
    "a veces pienso que seria mas facil desaparecer",
    "no le veo sentido a nada",
    "estoy tan cansada que quisiera desaparecer",
    "i just want everything to stop for a while",
    "i am so done with all of it",
]
PLANS = [
    ["my ex has the kids this weekend", "the house will be empty",
     "nobody will find me until monday"],
    ["i keep a list on my phone", "who gets the dog and who gets my car",
     "it should all be sorted by friday"],
    ["the kids are asleep at my moms", "i have all of his pills in a cup",
     "im going to take them now"],
    ["i went to three pharmacies today", "now i have enough of them saved up",
     "tonight after the kids are asleep"],
    ["ive been saving my pills for a few weeks now", "the kids are at their dads this weekend",
     "so tonight i can finally do it"],
    ["fui juntando las pastillas poco a poco", "los ninos se quedan con su abuela el sabado",
     "el sabado ya por fin me voy"],
    ["i bought rope at the hardware store today", "theres a beam in the garage",
     "after everyone leaves tomorrow"],
]


def t(line: Line, key: str, lang: str = "en") -> str:
    return line.runtime.content.current.text(key, lang)


def grey_message(lang: str = "en") -> str:
    """A message in the model's grey zone, plainly written in ``lang`` when it is Spanish
    (the question comes in the language the message is written in)."""
    for text in GREY:
        if lang == "es" and written_lang(text) != "es":
            continue
        a = assess(text, lang)
        if a.concern and not a.crisis and not a.wants_human and not a.fear_of_report:
            return text
    raise AssertionError("no candidate falls in the model's grey zone any more")


def split_plan() -> list[str]:
    """A plan where no message alone is a crisis or worth a question, but the three read
    together are."""
    for plan in PLANS:
        alone = [assess(m, "en") for m in plan]
        first_two = assess_window(plan[:2], "en")
        together = assess_window(plan, "en")
        if (not any(a.crisis or a.concern for a in alone) and first_two and together
                and not (first_two.crisis or first_two.concern)
                and (together.crisis or together.concern)):
            return plan
    raise AssertionError("no candidate plan is caught only when read together")


async def on_duty(line: Line, uid: int = 7201) -> Person:
    peer = await line.specialist(uid, "Alex")
    peer.says("/onduty")
    await peer.reads("on duty")
    return peer


async def crisis_conversation(line: Line, tg_id: int) -> Conversation | None:
    async with line.runtime.db.read() as s:
        p = (await s.scalars(select(Parent).where(Parent.tg_user_id == tg_id))).one()
        return (await s.scalars(select(Conversation).where(
            Conversation.parent_id == p.id, Conversation.priority == "crisis"))).first()


async def test_grey_zone_asks_directly_and_yes_gets_the_crisis_response(line: Line) -> None:
    peer = await on_duty(line)
    parent = line.parent(8301)
    parent.says(grey_message())
    question = await parent.reads(t(line, "safety.ask_directly")[:40])
    assert [b["text"] for b in question["buttons"][0]] == ["Yes", "No", "I'm not sure"]
    await parent.press("Yes")
    reply = await parent.reads("988")
    assert "A peer specialist will be with you" in reply["text"]
    await peer.fake.wait_for_message(peer.id, lambda m: "CRISIS" in (m["text"] or ""),
                                     timeout=10)
    assert await crisis_conversation(line, 8301) is not None
    async with line.runtime.db.read() as s:
        actions = [a.action for a in await s.scalars(select(AuditEntry))]
    assert "concern_detected" in actions and "concern_answered" in actions


async def test_not_sure_is_treated_as_yes(line: Line) -> None:
    parent = line.parent(8302)
    parent.says(grey_message())
    await parent.reads(t(line, "safety.ask_directly")[:40])
    await parent.press("not sure")
    await parent.reads("988")
    assert await crisis_conversation(line, 8302) is not None


async def test_no_gets_a_warm_line_and_is_not_asked_twice_in_a_row(line: Line) -> None:
    parent = line.parent(8303)
    text = grey_message()
    parent.says(text)
    await parent.reads(t(line, "safety.ask_directly")[:40])
    await parent.press("No")
    await parent.reads(t(line, "safety.answer_no")[:40])
    parent.says(text)  # the same worry again, right after a "no"
    reply = await parent.reads()
    assert t(line, "safety.ask_directly")[:40] not in reply["text"]
    assert "988" not in reply["text"]
    assert sum(t(line, "safety.ask_directly")[:40] in x for x in parent.texts()) == 1
    assert await crisis_conversation(line, 8303) is None


async def test_spanish_question_in_spanish(line: Line) -> None:
    parent = line.parent(8304, lang="es")
    parent.says("/start")
    await parent.reads()
    parent.says(grey_message("es"))
    question = await parent.reads(t(line, "safety.ask_directly", "es")[:40])
    assert [b["text"] for b in question["buttons"][0]] == ["Sí", "No", "No estoy segura/o"]


@pytest.mark.parametrize("restart", [False, True])
async def test_a_plan_told_over_three_messages_is_caught(line: Line, restart: bool) -> None:
    plan = split_plan()
    parent = line.parent(8310 + int(restart))
    parent.says("/start")
    await parent.reads(t(line, "parent.welcome")[:30])
    for i, message in enumerate(plan):
        if restart and i == 2:  # a new process on the same database: the window is kept
            await line.runtime.stop()
            line.runtime = LineRuntime(line.runtime.settings, db=line.runtime.db,
                                       serve_web=False)
            await line.runtime.start()
        parent.says(message)
        if i < 2:
            reply = await parent.reads()
            assert "988" not in reply["text"]
            assert t(line, "safety.ask_directly")[:40] not in reply["text"]
    # Read together, the three ask directly (the window never sends the full response
    # on its own); the parent's "yes" does.
    await parent.reads(t(line, "safety.ask_directly")[:40])
    await parent.press("Yes")
    await parent.reads("988")
    assert await crisis_conversation(line, 8310 + int(restart)) is not None


async def test_fear_of_being_reported_gets_the_honest_privacy_answer(line: Line) -> None:
    parent = line.parent(8320)
    parent.says("if i tell you i yelled at my kids will you call cps on me")
    reply = await parent.reads(t(line, "privacy.report_fear")[:40])
    assert t(line, "boundary.legal")[:30] not in "\n".join(parent.texts())
    assert [b["text"] for row in reply["buttons"] for b in row] == [
        t(line, "parent.buttons.person"), t(line, "parent.buttons.person_like_me")]


async def test_typing_that_you_want_a_person_offers_one(line: Line) -> None:
    peer = await on_duty(line)
    parent = line.parent(8321, lang="es")
    parent.says("quiero hablar con una persona de verdad, no con un robot")
    await parent.reads(t(line, "parent.human_offer", "es")[:40])
    await parent.press(t(line, "parent.buttons.person", "es"))
    await parent.reads(t(line, "parent.card.show", "es")[:30])
    await parent.press(t(line, "parent.buttons.card_send", "es"))
    await peer.reads("Parent ")


async def test_a_specialists_melatonin_advice_is_held(line: Line) -> None:
    peer = await on_duty(line)
    parent = line.parent(8330)
    await parent.talks()
    await peer.reads("Parent ")
    peer.says("/next")
    await parent.reads("has joined")
    peer.says("try melatonin at bedtime, it worked for us")
    await peer.reads(t(line, "staff.nudge")[:30])
    peer.says("when my son could not sleep, what helped me was a boring bedtime routine")
    await parent.reads("boring bedtime routine")
    assert not any("melatonin" in x for x in parent.texts())


async def test_with_a_specialist_the_person_asks_not_the_bot(line: Line) -> None:
    peer = await on_duty(line)
    parent = line.parent(8331)
    await parent.talks()
    await peer.reads("Parent ")
    peer.says("/next")
    await parent.reads("has joined")
    text = grey_message()
    parent.says(text)
    note = await peer.reads("not sure about")
    assert text[:20] not in note["text"]  # the note never carries the parent's words
    await peer.fake.wait_until(lambda: any(text[:20] in x for x in peer.texts()), 10)
    assert not any(t(line, "safety.ask_directly")[:40] in x for x in parent.texts())


async def test_rules_and_model_are_ready_at_start_and_long_messages_are_screened_off_the_loop(
    line: Line,
) -> None:
    import threading

    from flows import safety

    # start-up loaded the content's rules and model and ran them once
    assert safety.active_rules() is line.runtime.content.current.safety_rules
    assert safety.active_model() is line.runtime.content.current.risk_model
    assert all(safety.screened_on(t) is not None for t in safety.WARM_UP_TEXTS)

    loop_thread = threading.current_thread().name
    filler = "It has been a long week and the school called again about the bus. "
    text = (filler * 80)[: 4096 - 60] + " I can't do this anymore, I want to kill myself."
    assert len(text) <= 4096
    parent = line.parent(905)
    parent.says(text)
    reply = await parent.reads(t(line, "crisis.suicide")[:40])
    assert "988" in reply["text"]
    where = safety.screened_on(text)
    assert where is not None and where != loop_thread, where  # a worker thread screened it
