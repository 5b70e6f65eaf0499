"""Everything a staff member sends in their private chat with the bot, routed in one place.

``STAFF_COMMANDS`` is the one table from a command's name to its handler, whichever
package the handler lives in: the handoff's (duty, queue, conversations), moderation's
(``/block``) and the dashboard's (``/dashboard``). Buttons and messages go to the handoff.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.app import moderation
from core.context import Ctx
from core.storage.models import Staff
from flows.events import Inbound
from handoff import api as handoff

StaffCommand = Callable[[Ctx, Staff, Inbound], Awaitable[None]]


async def dashboard_link(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    """/dashboard: a one-time sign-in link, in this chat."""
    from bot.web.dashboard.login import issue_login  # the web side loads only when asked

    await issue_login(ctx, staff)


STAFF_COMMANDS: dict[str, StaffCommand] = {
    # duty
    "onduty": handoff.on_duty,
    "offduty": handoff.off_duty,
    "pause": handoff.pause,
    "next": handoff.take_next,
    # one conversation: the replied-to one, the only one, or a question which
    "end": handoff.on_conversation,
    "transfer": handoff.on_conversation,
    "consult": handoff.on_conversation,
    "report": handoff.on_conversation,
    # saying things from content: saved replies, directory entries (handoff/tools.py)
    "r": handoff.saved_reply_command,
    "find": handoff.find_command,
    # looking around
    "queue": handoff.show_queue,
    "who": handoff.show_who,
    "help": handoff.staff_help,
    "start": handoff.staff_help,
    # coordinators: blocks that expire by themselves (checked in block_command)
    "block": moderation.block_command,
    "unblock": moderation.block_command,
    # the web dashboard
    "dashboard": dashboard_link,
}


async def staff_event(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    """A staff member's command, button or message (never screened: staff are not parents)."""
    if ev.kind != "command":
        await handoff.staff_event(ctx, staff, ev)
        return
    staff.last_active_at = ctx.now
    handler = STAFF_COMMANDS.get(ev.command or "", handoff.unknown_command)
    await handler(ctx, staff, ev)
