"""A specialist's tools over real HTTP (issue #14): saved replies, the directory, alerts.

A Spanish-speaking parent talks with a peer; the peer sends saved replies (``/r`` buttons
and ``/r NAME``) and shares a directory entry (``/find``); the parent gets each in
Spanish, from the bot (never a copy of the specialist's message). Forged and old buttons
are refused kindly. A Spanish-speaking specialist reads their alerts in Spanish.
"""

from __future__ import annotations

import pytest
from conftest import Line, Person
from sqlalchemy import select

from core.storage.models import Parent
from flows.content.replies import saved_reply


def t(line: Line, key: str, lang: str = "en", **params: object) -> str:
    return line.runtime.content.current.text(key, lang, **params)


def reply_text(line: Line, name: str, lang: str) -> str:
    reply = saved_reply(line.runtime.content.current.texts, name, lang)
    assert reply is not None, name
    return reply.text


def from_bot(person: Person) -> list[dict]:
    return [m for m in person.fake.messages_to(person.id) if m["method"] == "sendMessage"]


async def on_duty(line: Line, uid: int, name: str, languages: tuple[str, ...]) -> Person:
    peer = await line.specialist(uid, name, languages=languages)
    peer.says("/onduty")
    await peer.reads(t(line, "staff.onduty", languages[0])[:12])
    return peer


async def spanish_parent_with(line: Line, peer: Person, peer_lang: str, pid: int) -> Person:
    parent = line.parent(pid, lang="es")
    await parent.talks()
    await parent.reads(t(line, "handoff.queued", "es")[:25])
    await peer.reads(t(line, "staff.alert_new", peer_lang)[10:30])
    await peer.press(t(line, "staff.btn_take", peer_lang))
    await peer.reads(t(line, "staff.summary", peer_lang)[6:14])
    await parent.reads("una persona de apoyo, ")
    return parent


async def test_saved_replies_reach_a_spanish_parent_in_spanish(line: Line) -> None:
    ana = await on_duty(line, 8101, "Ana", ("en", "es"))
    parent = await spanish_parent_with(line, ana, "en", 9101)

    ana.says("/r")
    await ana.reads(t(line, "staff.replies_choose")[:20])
    labels = ana.button_labels()
    assert "I'm here" in labels and "Take your time" in labels  # in the specialist's language
    await ana.press("I'm here")
    got = await parent.reads(reply_text(line, "here", "es"))
    assert got["text"] == reply_text(line, "here", "es")  # exactly as written in content
    await ana.reads(t(line, "staff.reply_sent", title="I'm here", who="")[:8])

    ana.says("/r confidentiality")
    got = await parent.reads(reply_text(line, "confidentiality", "es")[:40])
    assert got["text"] == reply_text(line, "confidentiality", "es")
    assert "obligación legal de reportar" in got["text"]

    ana.says("/r nosuchreply")
    await ana.reads("closing_tonight")  # the names there are, so a typo is easy to fix

    # Through the bot: the parent got bot messages, never a copy from the specialist.
    assert not [m for m in parent.fake.messages_to(parent.id) if m["method"] == "copyMessage"]
    assert all(reply_text(line, "here", "en") not in x for x in parent.texts())


async def test_find_shares_an_entry_in_the_parents_language_and_refuses_bad_buttons(
    line: Line,
) -> None:
    maria = await on_duty(line, 8201, "María", ("es", "en"))
    parent = await spanish_parent_with(line, maria, "es", 9201)

    maria.says("/find nada-parecido-xyz")
    await maria.reads(t(line, "staff.find_none", "es")[:20])
    maria.says("/find poison")  # English words find entries too
    await maria.reads(t(line, "staff.find_results", "es", count=1)[:20])
    assert maria.button_labels() == ["Centro de Control de Envenenamientos"]
    await maria.press("Envenenamientos")
    shared = await parent.reads(t(line, "handoff.peer_shared_resource", "es", resource="")[:30])
    assert "Centro de Control de Envenenamientos" in shared["text"]
    assert "Poison Control" not in shared["text"]
    await maria.reads(t(line, "staff.shared", "es", name="", who="")[:10])

    # A forged button (altered data) is refused kindly, in her language, and sends nothing.
    before = len(parent.texts())
    msg = maria.last_with_buttons()
    forged = msg["buttons"][0][0]["callback_data"][:-3] + "aaa"
    maria.fake.user_presses(maria.id, msg["message_id"], forged)
    expired = t(line, "staff.button_expired", "es")
    await maria.fake.wait_until(
        lambda: any(expired in str(c["answer"]) for c in line.fake.callbacks()), 10)

    # An old button, after the conversation ended, sends nothing to anyone.
    maria.says("/end")
    await parent.reads(t(line, "handoff.ended_thanks", "es")[:20])
    again = await parent.reads(t(line, "handoff.ended_resources", "es", resources="")[:20])
    assert "Centro de Control de Envenenamientos" in again["text"]  # kept for the goodbye
    await parent.reads(t(line, "handoff.survey_heard", "es")[:20])
    after_end = len(parent.texts())
    assert after_end > before
    await maria.press("Envenenamientos")
    await maria.reads(t(line, "staff.no_active", "es")[:20])
    assert len(parent.texts()) == after_end


async def test_alerts_reach_a_spanish_speaking_specialist_in_spanish(line: Line) -> None:
    maria = await on_duty(line, 8301, "María", ("es", "en"))
    await line.parent(9301, lang="en").talks()
    alert = await maria.reads("quiere hablar con una persona de apoyo")
    assert "would like to talk" not in alert["text"]
    assert t(line, "staff.btn_take", "es") in maria.button_labels()


async def test_a_flood_batch_reaches_a_spanish_speaking_specialist_in_spanish(line: Line) -> None:
    maria = await on_duty(line, 8401, "María", ("es", "en"))
    parent = await spanish_parent_with(line, maria, "es", 9401)
    for i in range(14):
        parent.says(f"mensaje {i} otra vez")
    header = t(line, "moderation.batch_header", "es", pseudonym="", count=0).split("0")[1][:15]
    batch = await maria.reads(header, timeout=30)
    assert "mensaje 13 otra vez" in batch["text"]
    assert t(line, "moderation.batch_header", "en", pseudonym="", count=0)[:10] not in batch["text"]


async def test_with_two_parents_a_reply_goes_where_it_is_meant(line: Line) -> None:
    ana = await on_duty(line, 8501, "Ana", ("en", "es"))
    p_es = await spanish_parent_with(line, ana, "en", 9501)
    p_en = line.parent(9502, lang="en")
    await p_en.talks()
    await p_en.reads("in line")
    await ana.reads(t(line, "staff.alert_new")[10:30])
    await ana.press(t(line, "staff.btn_take"))
    await p_en.reads("has joined")

    p_es.says("hola, sigo aquí")
    await ana.fake.wait_until(lambda: any("sigo aquí" in (m["text"] or "")
                                          for m in ana.fake.messages_to(ana.id)), 10)
    copy = next(m for m in ana.fake.messages_to(ana.id) if "sigo aquí" in (m["text"] or ""))
    ana.says("/r here", reply_to=copy["message_id"])  # a reply says which parent
    await p_es.reads(reply_text(line, "here", "es"))

    ana.says("/r take_your_time")  # two conversations, no reply: ask, never guess
    await ana.reads(t(line, "staff.which_parent_tool")[:25])
    assert not any(reply_text(line, "take_your_time", lang) in x
                   for lang in ("en", "es") for x in p_en.texts() + p_es.texts())
    async with line.runtime.db.read() as s:
        pseudonym = (await s.scalars(select(Parent.pseudonym)
                                     .where(Parent.tg_user_id == 9502))).one()
    await ana.press(f"Parent {pseudonym}")
    await p_en.reads(reply_text(line, "take_your_time", "en"))
    assert not any(reply_text(line, "here", "en") in x for x in p_en.texts())


@pytest.mark.parametrize("line_overrides", [{"demo": True}])  # the example region's entries
@pytest.mark.parametrize("region_on_card", [True, False])
async def test_find_puts_help_near_the_parent_first_only_if_their_card_kept_the_region(
        line: Line, region_on_card: bool) -> None:
    sam = await on_duty(line, 8401 + int(region_on_card), "Sam", ("en",))
    parent = line.parent(9401 + int(region_on_card))
    parent.says("/resources")
    await parent.reads(t(line, "parent.region.ask")[:25])
    parent.says("78701")  # Travis County, TX
    await parent.reads(t(line, "parent.resources.after")[:25])
    await parent.press(t(line, "parent.buttons.person"))
    await parent.reads(t(line, "parent.card.show")[:30])
    if not region_on_card:
        await parent.press(t(line, "parent.buttons.card_no_region"))
        await parent.reads(t(line, "parent.card.show")[:30])
    await parent.press(t(line, "parent.buttons.card_send"))
    await sam.reads("would like to talk")
    await sam.press("Take")
    await sam.reads("sent you their card")

    sam.says("/find parent")
    await sam.reads("entries match")
    labels = sam.button_labels()
    content = line.runtime.content.current
    names = {r.id: r.name["en"][:60] for r in content.resources}
    near = [names["example-travis-county-family-line"], names["example-texas-parent-line"]]
    if region_on_card:
        assert labels[:2] == near  # Travis County, then Texas, before national lines
        national = {names[r.id] for r in content.resources if r.serves.national}
        assert labels[2] in national  # and other places' entries last
    else:  # the specialist's list gives away nothing the parent took off their card
        assert labels[0] == names["example-family-resource-center"]
