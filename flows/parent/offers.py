"""The buttons that offer each next move, shared by every part of the parent flow.

Every choice is a button, and the parent's own words always work too; ``_prompt`` is
the question a waiting state asks again after listening to free text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows.events import Button
from flows.parent import machine as m

if TYPE_CHECKING:
    from flows.parent.flow import _Ctx


def _peer_button(ctx: _Ctx) -> Button:
    return ctx.button("parent.buttons.person", "p")


def _peer_like_me_button(ctx: _Ctx) -> list[Button]:
    """ "Someone who has been through it too" (a row; empty when content defines none)."""
    if not ctx.content.experiences:
        return []
    return [ctx.button("parent.buttons.person_like_me", "pe")]


def _help_buttons(ctx: _Ctx, *, ideas: bool = True) -> list[list[Button]]:
    rows = [[ctx.button("parent.buttons.vent", "h", "vent")]]
    if ideas:
        rows.append([ctx.button("parent.buttons.ideas", "h", "ideas")])
    rows += [[ctx.button("parent.buttons.resources", "h", "res")], [_peer_button(ctx)],
             _peer_like_me_button(ctx)]
    return rows


def _ideas_offer_buttons(ctx: _Ctx) -> list[list[Button]]:
    return [
        [
            ctx.button("parent.buttons.yes_please", "i", "y"),
            ctx.button("parent.buttons.not_now", "i", "n"),
        ]
    ]


def _resources_offer_buttons(ctx: _Ctx) -> list[list[Button]]:
    return [
        [
            ctx.button("parent.buttons.yes_please", "r", "y"),
            ctx.button("parent.buttons.not_now", "r", "n"),
        ]
    ]


def _after_resources_buttons(ctx: _Ctx) -> list[list[Button]]:
    """The real person first; ideas only if they have not made a plan yet."""
    rows = [[_peer_button(ctx)], _peer_like_me_button(ctx)]
    if "planned" not in ctx.data:
        rows.append([ctx.button("parent.buttons.ideas", "h", "ideas")])
    rows.append([ctx.button("parent.buttons.im_ok", "ok")])
    return rows


def _checkin_buttons(ctx: _Ctx) -> list[list[Button]]:
    return [
        [
            ctx.button("parent.buttons.checkin_1", "c", "1"),
            ctx.button("parent.buttons.checkin_3", "c", "3"),
        ],
        [ctx.button("parent.buttons.no_thanks", "c", "0")],
    ]


def _prompt(ctx: _Ctx) -> tuple[list[str], list[list[Button]] | None]:
    """The question of a state that waits for a choice, to ask again after listening."""
    state = ctx.state
    if state == m.OFFERING_IDEAS:
        return ["parent.ideas.offer"], _ideas_offer_buttons(ctx)
    if state == m.OFFERING_CHECKIN:
        return ["parent.checkin.offer"], _checkin_buttons(ctx)
    if state == m.OFFERING_RESOURCES:
        return ["parent.resources.offer"], _resources_offer_buttons(ctx)
    if state == m.AFTER_RESOURCES:
        return [], _after_resources_buttons(ctx)
    return [], _help_buttons(ctx)
