"""Engage: welcome, privacy first, and listening: what the parent says is reflected back
before anything is offered.
"""

from __future__ import annotations

from types import EllipsisType
from typing import TYPE_CHECKING

from flows.content import Topic
from flows.events import Button
from flows.parent.access import _want_resources
from flows.parent.explore import _note_topic, _want_ideas
from flows.parent.offers import _help_buttons

if TYPE_CHECKING:
    from flows.parent.flow import _Ctx


STORY_MIN_WORDS = 5  # fewer words and no topic: a greeting, not yet a story


def _cmd_start(ctx: _Ctx) -> None:
    ctx.reset()
    ctx.fire("start")
    _welcome(ctx)


def _btn_help(ctx: _Ctx, arg: str) -> bool:
    if arg == "vent":
        if not ctx.fire("vent"):
            return False
        ctx.say("parent.vent")
        return True
    if arg == "ideas":
        return _want_ideas(ctx)
    if arg == "res":
        return _want_resources(ctx, "want_resources")
    return False


def _welcome(ctx: _Ctx) -> None:
    ctx.say("parent.welcome", "privacy.short", "parent.invite")


def _first_message(ctx: _Ctx, text: str) -> None:
    """A story in the first message is listened to before anything else is said."""
    topic = ctx.content.match_topic(text, ctx.lang)
    if topic is None and len(text.split()) < STORY_MIN_WORDS:
        ctx.fire("hello")
        _welcome(ctx)
        return
    ctx.fire("open_up")
    _reflect(ctx, text, [], None, matched=topic)
    ctx.say(
        "parent.welcome_after_story", "privacy.short", "parent.ask_help", buttons=_help_buttons(ctx)
    )


def _reflect(ctx: _Ctx, text: str, then: list[str], buttons: list[list[Button]] | None,
             *, matched: Topic | EllipsisType | None = ...) -> None:
    """Reflect what the parent said (the topic's own words the first time it matches).

    ``matched``: the caller already looked the text up (``None``: no topic matched).
    """
    if not ctx.data.get("topic"):
        topic = ctx.content.match_topic(text, ctx.lang) if matched is ... else matched
        if topic is not None:
            _note_topic(ctx, topic)
    topic = ctx.topic
    if topic is not None and ctx.data.get("reflected") != topic.id:
        ctx.data["reflected"] = topic.id
        first = ctx.local(topic.reflection)
    else:
        first = _generic_reflection(ctx)
    ctx.send("\n\n".join([first, *(ctx.text(k) for k in then)]), buttons)


def _generic_reflection(ctx: _Ctx) -> str:
    """Rotate warm, generic reflections so the parent does not hear the same line twice."""
    options = ctx.content.text_list("parent.reflect.generic", ctx.lang)
    count = int(ctx.data.get("reflections", 0))
    ctx.data["reflections"] = count + 1
    return options[count % len(options)]
