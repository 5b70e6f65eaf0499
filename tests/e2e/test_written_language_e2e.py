"""The language a parent writes in, over a phone set to another one.

Telegram's language hint is the phone's. A Spanish-speaking parent on an English phone
whose first message is plainly Spanish is welcomed in Spanish; a crisis written in
Spanish gets the crisis lines in Spanish even from a parent whose language is English
(their setting stays, /language still changes it); a short or mixed message keeps the
parent's language.
"""

from __future__ import annotations

from conftest import Line
from sqlalchemy import select

from core.storage.models import Parent


def t(line: Line, key: str, lang: str = "en") -> str:
    return line.runtime.content.current.text(key, lang)


async def lang_of(line: Line, tg_id: int) -> str:
    async with line.runtime.db.read() as s:
        return (await s.scalars(select(Parent.lang).where(Parent.tg_user_id == tg_id))).one()


async def test_a_first_message_in_spanish_on_an_english_phone_is_answered_in_spanish(
        line: Line) -> None:
    parent = line.parent(9701, lang="en")
    parent.says("Mi hijo tiene berrinches todos los días y estoy muy cansada")
    reflection = await parent.reads()
    assert "berrinches" in reflection["text"]  # the topic's own words, in Spanish
    await parent.reads(t(line, "parent.welcome_after_story", "es")[:40])
    assert await lang_of(line, 9701) == "es"


async def test_a_short_hello_keeps_the_phones_language(line: Line) -> None:
    parent = line.parent(9702, lang="en")
    parent.says("hola")
    await parent.reads(t(line, "parent.welcome")[:40])
    assert await lang_of(line, 9702) == "en"


async def test_a_crisis_written_in_spanish_gets_spanish_lines_from_an_english_parent(
        line: Line) -> None:
    parent = line.parent(9703, lang="en")
    parent.says("/start")
    await parent.reads(t(line, "parent.welcome")[:40])
    parent.says("ya no puedo más. me tomé todas las pastillas")
    reply = await parent.reads(t(line, "crisis.medical_emergency", "es")[:40])
    assert "911" in reply["text"]
    assert await lang_of(line, 9703) == "en"  # their setting is theirs to change


async def test_a_crisis_written_in_english_gets_english_lines_from_a_spanish_parent(
        line: Line) -> None:
    parent = line.parent(9704, lang="es")
    parent.says("/start")
    await parent.reads(t(line, "parent.welcome", "es")[:40])
    parent.says("i can't do this anymore. i took all my pills")
    await parent.reads(t(line, "crisis.medical_emergency")[:40])
