"""Explore: the parent names what is going on (a topic or their own words) and is asked
about their strengths before any idea is offered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows.content import Topic
from flows.effects import (
    TopicChosen,
)
from flows.events import Button
from flows.parent import machine as m
from flows.parent.offers import _help_buttons, _ideas_offer_buttons, _peer_button
from flows.parent.plan import _show_steps

if TYPE_CHECKING:
    from flows.content import Content
    from flows.parent.flow import _Ctx


def _topic(content: Content, topic_id: str) -> Topic | None:
    return content.topic(topic_id)


def _btn_topic(ctx: _Ctx, arg: str) -> bool:
    if not arg:
        if not ctx.fire("other_topic"):
            return False
        ctx.say("parent.topic.something_else", buttons=[[_peer_button(ctx)]])
        return True
    topic = _topic(ctx.content, arg)
    if topic is None or not m.can_fire(ctx.state, "pick_topic"):
        return False
    _choose_topic(ctx, topic)
    return True


def _btn_ideas(ctx: _Ctx, arg: str) -> bool:
    if arg == "y":
        if not ctx.fire("accept_ideas"):
            return False
        _show_steps(ctx)
        return True
    if arg == "n" and ctx.fire("decline_ideas"):
        ctx.say("parent.ideas.declined", buttons=_help_buttons(ctx, ideas=False))
        return True
    return False


def _want_ideas(ctx: _Ctx) -> bool:
    ctx.data["goal"] = "ideas"
    if not ctx.fire("want_ideas"):
        return False
    topic = ctx.topic
    if ctx.state == m.SHARING_STRENGTHS and topic is not None:
        _topic_message(ctx, topic)
    else:
        _ask_topic(ctx)
    return True


def _ask_topic(ctx: _Ctx) -> None:
    rows = [[Button(ctx.local(t.title), ctx.data_for("t", t.id))] for t in ctx.content.topics]
    rows.append([ctx.button("parent.buttons.something_else", "t", "")])
    ctx.say("parent.topic.choose", buttons=rows)


def _note_topic(ctx: _Ctx, topic: Topic) -> None:
    if ctx.data.get("topic") != topic.id:
        ctx.data["topic"] = topic.id
        ctx.effects.append(TopicChosen(topic.id))


def _choose_topic(ctx: _Ctx, topic: Topic) -> None:
    _note_topic(ctx, topic)
    ctx.fire("pick_topic")
    _topic_message(ctx, topic)


def _topic_message(ctx: _Ctx, topic: Topic) -> None:
    """The normalizing intro only for everyday struggles; never for grief or hard news."""
    parts = []
    if topic.tone == "common":
        parts.append(ctx.text("parent.topic.normalize"))
    if ctx.data.get("reflected") != topic.id:
        ctx.data["reflected"] = topic.id
        parts.append(ctx.local(topic.reflection))
    parts.append(ctx.local(topic.strength_question))
    ctx.send("\n\n".join(parts))


def _strengths_told(ctx: _Ctx) -> None:
    ctx.fire("tell_strengths")
    if ctx.state == m.CHOOSING_STEP:
        ctx.say("parent.strengths.thanks")
        _show_steps(ctx)
    else:
        ctx.say("parent.strengths.thanks", "parent.ideas.offer", buttons=_ideas_offer_buttons(ctx))
