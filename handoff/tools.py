"""A specialist's tools in a conversation: saved replies (``/r``) and the directory (``/find``).

Both send the parent words from content, in the parent's language, through the bot (the
parent never sees the specialist's account, and the bot writes nothing itself). A list
is shown in the specialist's language; pressing an entry sends it to the conversation
the list was made for (``/r`` or ``/find`` as a reply to a parent's message), or to the
only one, or asks which parent. Buttons are untrusted: a forged one never decodes, and
an old one (the reply renamed, the entry removed, the conversation over) is refused kindly.
"""

from __future__ import annotations

import hashlib

from core.context import Ctx
from core.storage.models import Conversation, Parent, Staff
from flows.content import Region, Resource, normalize
from flows.content.replies import SavedReply, saved_replies, saved_reply
from flows.events import SendText
from handoff import buttons as B
from handoff import queries, relay
from handoff.speech import parent_label, staff_lang, staff_say

FIND_MAX = 8  # buttons in one /find answer; more words narrow it down
_KEY_LEN = 10  # hex characters of a resource's button key (ids can be too long for 64 bytes)


def resource_key(resource_id: str) -> str:
    """A short, stable key for a resource in a button (the id itself may not fit)."""
    return hashlib.sha256(resource_id.encode()).hexdigest()[:_KEY_LEN]


# --- finding things --------------------------------------------------------------------


def _replies(ctx: Ctx, lang: str) -> list[SavedReply]:
    return saved_replies(ctx.content.texts, lang) or saved_replies(ctx.content.texts, "en")


def _title(ctx: Ctx, name: str, lang: str) -> str:
    reply = saved_reply(ctx.content.texts, name, lang) or saved_reply(ctx.content.texts, name, "en")
    return reply.title if reply else name


def find_resources(ctx: Ctx, words: str, region: Region | None = None) -> list[Resource]:
    """Directory entries whose name, description or categories have every word (a word
    start matches, accents ignored, any language): "escuel" finds "Escuela".

    With the parent's ``region``, help near them comes first, then national lines, then
    entries for other places (still listed: a specialist may know better), each group in
    the directory's order."""
    wanted = normalize(words).split()
    if not wanted:
        return []
    found = []
    for r in ctx.content.resources:
        if r.demo_only and not ctx.settings.demo:
            continue
        hay = " " + normalize(" ".join([*r.name.values(), *r.description.values(),
                                        *r.categories, r.id.replace("-", " ")]))
        if all(" " + w in hay for w in wanted):
            found.append(r)
    if region is None:
        return found

    def nearness(r: Resource) -> int:
        if r.serves.national:
            return 1
        return 0 if r.serves.covers(region) else 2

    return sorted(found, key=nearness)  # stable: the directory's order within each group


async def _region_of(ctx: Ctx, staff: Staff, conv: Conversation | None) -> Region | None:
    """The parent's region (the conversation replied to, or the specialist's only one),
    only if they left it on their card (or sent no card)."""
    if conv is None:
        active = await queries.active_of(ctx.session, staff.tg_user_id)
        conv = active[0] if len(active) == 1 else None
    if conv is None or not conv.region_shared:
        return None
    parent = await ctx.session.get(Parent, conv.parent_id)
    if parent is None or not (parent.region_zip or parent.region_state or parent.region_county):
        return None
    return Region(parent.region_zip, parent.region_state, parent.region_county)


def _resource_by_key(ctx: Ctx, key: str) -> Resource | None:
    return next((r for r in ctx.content.resources if resource_key(r.id) == key), None)


def _with_conv(arg: str, conv: Conversation | None) -> str:
    return f"{arg}:{conv.id}" if conv is not None else arg


# --- commands ----------------------------------------------------------------------------


def list_replies(ctx: Ctx, staff: Staff, conv: Conversation | None) -> None:
    """``/r``: one button per saved reply, titled in the specialist's language."""
    lang, chat = staff_lang(staff), staff.tg_user_id
    replies = _replies(ctx, lang)
    if not replies:
        staff_say(ctx, staff, "staff.replies_none")
        return
    rows = tuple(
        (ctx.button(chat, r.title, B.REPLY, _with_conv(r.name, conv)),) for r in replies
    )
    ctx.say(chat, "staff.replies_choose", lang, buttons=rows)


async def reply_named(ctx: Ctx, staff: Staff, conv: Conversation | None, name: str) -> None:
    """``/r NAME``: send that saved reply (to ``conv``, or the only conversation, or ask)."""
    name = name.strip().lower()
    if saved_reply(ctx.content.texts, name, "en") is None:
        names = ", ".join(r.name for r in _replies(ctx, staff_lang(staff)))
        staff_say(ctx, staff, "staff.reply_unknown", names=names)
        return
    await _send_reply(ctx, staff, name, conv)


async def find(ctx: Ctx, staff: Staff, conv: Conversation | None, words: str) -> None:
    """``/find WORD``: matching directory entries, each a button that shares it; near the
    parent first when the conversation is known and its card kept their region."""
    lang, chat = staff_lang(staff), staff.tg_user_id
    if not normalize(words):
        staff_say(ctx, staff, "staff.find_usage")
        return
    found = find_resources(ctx, words, await _region_of(ctx, staff, conv))
    if not found:
        staff_say(ctx, staff, "staff.find_none")
        return
    rows = tuple(
        (ctx.button(chat, _name(r, lang), B.SHARE, _with_conv(resource_key(r.id), conv)),)
        for r in found[:FIND_MAX]
    )
    key = "staff.find_more" if len(found) > FIND_MAX else "staff.find_results"
    ctx.say(chat, key, lang, buttons=rows, count=len(found), shown=FIND_MAX)


def _name(r: Resource, lang: str) -> str:
    return (r.name.get(lang) or r.name.get("en") or r.id)[:60]


# --- buttons -----------------------------------------------------------------------------


async def reply_button(ctx: Ctx, staff: Staff, arg: str) -> None:
    name, tail = B.split2(arg)
    ok, conv = await _conv_arg(ctx, staff, tail)
    if ok:
        await _send_reply(ctx, staff, name, conv)


async def share_button(ctx: Ctx, staff: Staff, arg: str) -> None:
    key, tail = B.split2(arg)
    res = _resource_by_key(ctx, key)
    if res is None or (res.demo_only and not ctx.settings.demo):
        staff_say(ctx, staff, "staff.find_gone")
        return
    ok, conv = await _conv_arg(ctx, staff, tail)
    if not ok:
        return
    target = await _target(ctx, staff, conv, B.SHARE, key)
    if target is None:
        return
    conv_, parent = target
    text = ctx.content.render_resource(res, parent.lang, ctx.now)
    ctx.say(parent.chat_id, "handoff.peer_shared_resource", parent.lang, resource=text,
            meta={"conversation": conv_.id})
    if res.id not in (conv_.resources_shared or []):
        conv_.resources_shared = [*(conv_.resources_shared or []), res.id]
    await ctx.bump("resources_shared")
    await relay.answered(ctx, parent, conv_)
    staff_say(ctx, staff, "staff.shared", name=_name(res, staff_lang(staff)),
              who=parent_label(ctx, parent, staff_lang(staff)))


async def _conv_arg(ctx: Ctx, staff: Staff, tail: str) -> tuple[bool, Conversation | None]:
    """(ok, the conversation a button names, if any); not ok, after saying so, when it
    names one that is no longer this specialist's active conversation."""
    if not tail:
        return True, None
    conv_id = B.to_int(tail)
    conv = await ctx.session.get(Conversation, conv_id) if conv_id is not None else None
    if conv is None or conv.status != "active" or conv.specialist_id != staff.tg_user_id:
        staff_say(ctx, staff, "staff.conv_not_yours")
        return False, None
    return True, conv


async def _target(
    ctx: Ctx, staff: Staff, conv: Conversation | None, action: str, arg: str
) -> tuple[Conversation, Parent] | None:
    """``conv``, or the only active conversation, or ask which parent (``action`` again)."""
    if conv is None:
        active = await queries.active_of(ctx.session, staff.tg_user_id)
        if not active:
            staff_say(ctx, staff, "staff.no_active")
            return None
        if len(active) > 1:
            lang, chat = staff_lang(staff), staff.tg_user_id
            rows = []
            for c in active:
                p = await queries.parent_of(ctx.session, c)
                label = parent_label(ctx, p, lang)
                rows.append((ctx.button(chat, label, action, f"{arg}:{c.id}"),))
            ctx.say(chat, "staff.which_parent_tool", lang, buttons=tuple(rows))
            return None
        conv = active[0]
    parent = await queries.parent_of(ctx.session, conv)
    if parent is None or parent.unreachable:
        staff_say(ctx, staff, "staff.parent_unreachable",
                  who=parent_label(ctx, parent, staff_lang(staff)))
        return None
    return conv, parent


async def _send_reply(ctx: Ctx, staff: Staff, name: str, conv: Conversation | None) -> None:
    if saved_reply(ctx.content.texts, name, "en") is None:
        staff_say(ctx, staff, "staff.reply_gone")
        return
    target = await _target(ctx, staff, conv, B.REPLY, name)
    if target is None:
        return
    conv_, parent = target
    reply = saved_reply(ctx.content.texts, name, parent.lang)
    if reply is None:  # content check refuses this; never send the wrong language
        staff_say(ctx, staff, "staff.reply_gone")
        return
    # Exactly as written in content: not formatted, not generated.
    ctx.send(SendText(parent.chat_id, reply.text, meta={"conversation": conv_.id}))
    await relay.answered(ctx, parent, conv_)
    lang = staff_lang(staff)
    staff_say(ctx, staff, "staff.reply_sent", title=_title(ctx, name, lang),
              who=parent_label(ctx, parent, lang))
