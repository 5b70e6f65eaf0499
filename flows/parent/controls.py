"""The parent's own controls, in any state: language, privacy, /help, /stop and /forget.

/forget asks first; cancelling (or just writing on) returns the parent where they were.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows.effects import (
    CancelCheckins,
    CancelMeetingReminders,
    ForgetConfirmed,
    LanguageChanged,
    LeaveQueue,
)
from flows.parent import machine as m

if TYPE_CHECKING:
    from flows.parent.flow import _Ctx


LANGUAGES = ("en", "es")


def _cmd_privacy(ctx: _Ctx) -> None:
    days = ctx.data.get("retention_days", 30)
    ctx.send(ctx.text("privacy.full", retention_days=days))


def _cmd_language(ctx: _Ctx) -> None:
    wanted = ctx.event.args.strip().lower()[:2]
    if wanted in LANGUAGES:
        _switch_language(ctx, wanted)
        return
    ctx.say(
        "parent.language.choose",
        buttons=[
            [
                ctx.button("parent.buttons.lang_en", "lang", "en"),
                ctx.button("parent.buttons.lang_es", "lang", "es"),
            ]
        ],
    )


def _cmd_stop(ctx: _Ctx) -> None:
    if ctx.snap.in_handoff:
        ctx.effects.append(LeaveQueue())
    ctx.effects += [CancelCheckins(), CancelMeetingReminders()]
    ctx.reset()
    ctx.fire("stop")
    ctx.say("parent.stop")


def _cmd_forget(ctx: _Ctx) -> None:
    if ctx.state != m.CONFIRMING_FORGET:
        ctx.data["resume"] = ctx.state
    ctx.fire("forget")
    ctx.say(
        "parent.forget.confirm",
        buttons=[
            [
                ctx.button("parent.buttons.forget_yes", "fg", "y"),
                ctx.button("parent.buttons.forget_no", "fg", "n"),
            ]
        ],
    )


def _cmd_help(ctx: _Ctx) -> None:
    ctx.say("parent.help")


def _btn_language(ctx: _Ctx, arg: str) -> bool:
    if arg not in LANGUAGES:
        return False
    _switch_language(ctx, arg)
    return True


def _btn_forget(ctx: _Ctx, arg: str) -> bool:
    if ctx.state != m.CONFIRMING_FORGET:
        return False
    if arg == "y":
        if ctx.snap.in_handoff:
            ctx.effects.append(LeaveQueue())
        ctx.effects += [CancelCheckins(), ForgetConfirmed()]
        ctx.fire("forget_confirm")
        ctx.data.clear()
        ctx.say("parent.forget.done", "privacy.forget_limits")
        return True
    if arg == "n":
        _resume(ctx)
        ctx.say("parent.forget.cancelled")
        return True
    return False


def _switch_language(ctx: _Ctx, lang: str) -> None:
    if lang != ctx.lang:
        ctx.effects.append(LanguageChanged(lang))
    ctx.lang = lang
    ctx.say("parent.language.changed")


def _resume(ctx: _Ctx) -> None:
    """Back to where the parent was before /forget (a restore, like loading from storage)."""
    m.restore(ctx.turn, str(ctx.data.pop("resume", m.IDLE)))
