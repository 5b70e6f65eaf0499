"""Plan: one small next step (from the topic's list or their own words) and a check-in.

A check-in is only scheduled when the parent asks for one and nothing (a disclosure of
domestic violence) makes an unasked message unsafe.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from flows.effects import (
    CancelCheckins,
    PlanChosen,
    ScheduleCheckin,
)
from flows.events import Button
from flows.parent import machine as m
from flows.parent.offers import _checkin_buttons, _help_buttons, _resources_offer_buttons

if TYPE_CHECKING:
    from flows.parent.flow import _Ctx


CHECKIN_DAYS = {"1": 1, "3": 3}


def _btn_step(ctx: _Ctx, arg: str) -> bool:
    if arg == "own":
        if not ctx.fire("own_step"):
            return False
        ctx.say("parent.step.own_prompt")
        return True
    steps = ctx.steps()
    if not arg.isdigit() or not 0 <= int(arg) < len(steps):
        return False
    if not m.can_fire(ctx.state, "pick_step"):
        return False
    _step_chosen(ctx, int(arg))
    return True


def _btn_checkin(ctx: _Ctx, arg: str) -> bool:
    if arg not in (*CHECKIN_DAYS, "0") or not ctx.fire("answer_checkin"):
        return False
    if arg in CHECKIN_DAYS and ctx.turn.checkin_allowed():
        due = ctx.now + timedelta(days=CHECKIN_DAYS[arg])
        key = f"ci-{ctx.snap.parent_id}-{int(due.timestamp())}"
        ctx.data["checkin_key"] = key
        ctx.effects += [CancelCheckins(), ScheduleCheckin(due, key)]
        first = f"parent.checkin.scheduled_{arg}"
    else:
        first = "parent.checkin.declined"
    ctx.say(first, "parent.resources.offer", buttons=_resources_offer_buttons(ctx))
    return True


def _btn_checkin_reply(ctx: _Ctx, arg: str) -> bool:
    if arg == "ok" and ctx.fire("checkin_reply"):
        ctx.say("parent.checkin.glad")
        return True
    if arg == "hard" and ctx.fire("checkin_reply"):
        ctx.say("parent.checkin.hard", "parent.ask_help", buttons=_help_buttons(ctx))
        return True
    return False


def _show_steps(ctx: _Ctx) -> None:
    steps = ctx.steps()
    if not steps:
        ctx.say("parent.step.own_prompt")
        ctx.fire("own_step")
        return
    lines = [ctx.text("parent.ideas.intro"), *(f"{i}. {s}" for i, s in enumerate(steps, 1))]
    numbers = [Button(str(i + 1), ctx.data_for("s", str(i))) for i in range(len(steps))]
    rows = [numbers[i : i + 4] for i in range(0, len(numbers), 4)]
    rows.append([ctx.button("parent.buttons.own_step", "s", "own")])
    ctx.send("\n".join(lines), rows)


def _step_chosen(ctx: _Ctx, index: int | None) -> None:
    ctx.effects.append(PlanChosen(index))
    ctx.data["planned"] = True
    ctx.fire("pick_step")
    if ctx.state == m.OFFERING_CHECKIN:
        ctx.say("parent.step.ack", "parent.checkin.offer", buttons=_checkin_buttons(ctx))
    else:
        ctx.say("parent.step.ack", "parent.resources.offer", buttons=_resources_offer_buttons(ctx))
