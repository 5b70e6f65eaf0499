"""Access & advocate: resources for the parent's region and topic, and a real person.

The region is asked for once (a ZIP code, a city, a county or a state, then maybe the
county; a shared location is read as its nearest ZIP) and can always be skipped. A place
looked up in the ZIP data is said back ("Travis County, TX"), so a wrong guess shows.
/talk and the "talk to a person" button show the parent's handoff card first
(:mod:`~flows.parent.card`); once it is sent, the handoff part answers with the queue
place or the after-hours text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows.content import Region, Resource, RightsInfo
from flows.effects import (
    ResourcesShared,
    SetRegion,
)
from flows.events import Button
from flows.parent import card
from flows.parent import machine as m
from flows.parent.groups import remind_button
from flows.parent.offers import _after_resources_buttons, _peer_button
from flows.parent.regions import Place, parse_place, place_for_location, place_in_state
from flows.safety.response import crisis_reply

if TYPE_CHECKING:
    from flows.parent.flow import _Ctx


MAX_REGION_TRIES = 2  # never trap a parent in a question they cannot answer
MAX_PENDING = 80  # a city or county name waiting for its state (kept in the flow data)
MAX_RESOURCES = 5
MAX_MESSAGE = 4000  # Telegram allows 4096 characters per message


def _cmd_talk(ctx: _Ctx) -> None:
    """/talk shows the card; /talk again while it is on screen sends it as it is."""
    note = ctx.event.args.strip() or None
    if ctx.state == m.REVIEWING_CARD and note is None:
        card.send(ctx)
        return
    card.open_card(ctx, note=note)


def _cmd_resources(ctx: _Ctx) -> None:
    if ctx.snap.in_handoff:
        # The peer has the conversation, so no questions: share what fits what we know.
        _share_resources(ctx, offer_peer=False)
        return
    _want_resources(ctx, "resources_cmd")


def _cmd_crisis(ctx: _Ctx) -> None:
    ctx.send(crisis_reply(None, ctx.lang, ctx.content, ctx.now))


def _btn_peer(ctx: _Ctx, arg: str) -> bool:
    """ "Talk to a person" (or "whoever is free" on the card): the card, then the queue."""
    card.open_card(ctx, note=None, wish=None)
    return True


def _btn_resources(ctx: _Ctx, arg: str) -> bool:
    if arg == "y":
        return _want_resources(ctx, "want_resources")
    if arg == "n" and ctx.fire("decline_resources"):
        ctx.say("parent.resources.declined", buttons=[[_peer_button(ctx)]])
        return True
    return False


def _btn_region_skip(ctx: _Ctx, arg: str) -> bool:
    if not m.can_fire(ctx.state, "region_done"):
        return False
    _region_done(ctx)
    return True


def _btn_finish(ctx: _Ctx, arg: str) -> bool:
    if not ctx.fire("finish"):
        return False
    ctx.say("parent.done")
    return True


def _btn_peer_experience(ctx: _Ctx, arg: str) -> bool:
    """ "Someone who has been through it too": the choice (optional), then the request.

    With no argument, the experiences are offered as buttons (the topic's own first) and
    "anyone who is free" on top; with an experience id, the parent is queued asking for it.
    """
    if not arg:
        ctx.send(ctx.text("parent.peer_choice"), _experience_buttons(ctx))
        return True
    if ctx.content.experience(arg) is None:
        return False
    card.open_card(ctx, note=None, wish=arg)
    return True


def _experience_buttons(ctx: _Ctx) -> list[list[Button]]:
    default = ctx.content.experience_for_topic(ctx.data.get("topic"))
    ordered = sorted(ctx.content.experiences, key=lambda e: default is None or e.id != default.id)
    rows = [[_peer_button_anyone(ctx)]]
    rows += [[Button(ctx.local(e.label), ctx.data_for("pe", e.id))] for e in ordered]
    return rows


def _peer_button_anyone(ctx: _Ctx) -> Button:
    return ctx.button("parent.buttons.anyone_free", "p")


def _want_resources(ctx: _Ctx, trigger: str) -> bool:
    if not ctx.fire(trigger):
        return False
    ctx.data.setdefault("goal", "resources")
    if ctx.state == m.ASKING_REGION:
        ctx.data["region_tries"] = 0
        ctx.say("parent.region.ask", buttons=[[ctx.button("parent.buttons.skip", "rs")]])
    else:
        _share_resources(ctx, offer_peer=True)
    return True


def _is_skip(ctx: _Ctx, text: str) -> bool:
    words = {
        w.strip().casefold() for w in ctx.content.text_list("parent.region.skip_words", ctx.lang)
    }
    return text.strip().strip(".!").casefold() in words


def _region_answer(ctx: _Ctx, text: str) -> None:
    if _is_skip(ctx, text):
        _region_done(ctx)
        return
    place = parse_place(text)
    pending = ctx.data.pop("region_pending", None)
    if isinstance(pending, str) and place is not None and place.state and not place.county:
        # The answer to "which state?" for a city or county several states have.
        place = parse_place(f"{pending}, {place.state}") or place
    if place is None or place.needs_state:
        tries = int(ctx.data.get("region_tries", 0)) + 1
        ctx.data["region_tries"] = tries
        if tries >= MAX_REGION_TRIES:
            _region_done(ctx)
            return
        ctx.fire("region_retry")
        if place is not None and place.needs_state:
            ctx.data["region_pending"] = place.needs_state[:MAX_PENDING]
            key = "parent.region.state_ask"
        else:
            key = "parent.region.not_understood"
        ctx.say(key, buttons=[[ctx.button("parent.buttons.skip", "rs")]])
        return
    _set_region(ctx, Region(place.zip, place.state, place.county))
    _say_found(ctx, place)
    if place.state and not place.county and not place.zip:
        ctx.fire("region_partial")
        ctx.say("parent.region.county_ask", buttons=[[ctx.button("parent.buttons.skip", "rs")]])
        return
    _region_done(ctx)


def _region_location(ctx: _Ctx, latitude: float, longitude: float) -> None:
    """A shared Telegram location, read as its nearest ZIP (the same lookup as a typed one).

    Only the ZIP, county and state are kept, never the coordinates. Outside the US (or not
    a point at all) the parent is asked to type a ZIP instead, and can still skip.
    """
    place = place_for_location(latitude, longitude)
    if place is None:
        if ctx.state == m.ASKING_REGION:
            ctx.fire("region_retry")
        ctx.say("parent.region.location_not_found",
                buttons=[[ctx.button("parent.buttons.skip", "rs")]])
        return
    ctx.data.pop("region_pending", None)
    _set_region(ctx, Region(place.zip, place.state, place.county))
    _say_found(ctx, place)
    if m.can_fire(ctx.state, "region_done"):
        _region_done(ctx)
    else:
        _share_resources(ctx, offer_peer=not ctx.snap.in_handoff)


def _say_found(ctx: _Ctx, place: Place) -> None:
    """Say back a place the ZIP data gave ("Travis County, TX"), so a wrong one shows."""
    if place.label:
        ctx.send(ctx.text("parent.region.found", place=place.label))


def _county_answer(ctx: _Ctx, text: str) -> None:
    """The county (or a city: "Austin" gives Travis) in the state the parent gave."""
    state = ctx.region.state if ctx.region else None
    place = None if _is_skip(ctx, text) or not state else place_in_state(state, text)
    if place is not None and place.county:
        _set_region(ctx, Region(None, state, place.county))
        _say_found(ctx, place)
    _region_done(ctx)


def _set_region(ctx: _Ctx, region: Region) -> None:
    ctx.region = region
    ctx.turn.region_known = True
    ctx.effects.append(SetRegion(region.zip, region.state, region.county))


def _region_done(ctx: _Ctx) -> None:
    ctx.data["region_asked"] = True
    ctx.data.pop("region_tries", None)
    ctx.data.pop("region_pending", None)
    ctx.fire("region_done")
    _share_resources(ctx, offer_peer=True)


def _share_resources(ctx: _Ctx, *, offer_peer: bool) -> None:
    """Local services, parent groups and rights for the parent's region and topic.

    Ranked by fit with the topic, then region; crisis and abuse lines only when the
    topic is about safety (``Content.resources_for_topic``).

    Every line shows its hours (``render_resource``), so nothing looks open at 3 a.m.
    """
    topic = ctx.topic
    found = ctx.content.resources_for_topic(
        topic, region=ctx.region, lang=ctx.lang, now=ctx.now, demo=ctx.snap.demo
    )
    services = [r for r in found if r.kind != "support_group"][:MAX_RESOURCES]
    groups = [r for r in found if r.kind == "support_group"][:MAX_RESOURCES]
    rights = ctx.content.rights_for(topic.id, ctx.region, ctx.lang) if topic else []
    shown = [*services, *groups]
    if shown:
        ctx.effects.append(ResourcesShared(tuple(r.id for r in shown)))

    def render(items: list[Resource]) -> list[str]:
        return [ctx.content.render_resource(r, ctx.lang, ctx.now) for r in items]

    # A group with an upcoming meeting is a message of its own, its reminder button under it.
    remindable = [(g, b) for g in groups if (b := remind_button(ctx, g)) is not None]
    plain_groups = [g for g in groups if all(g is not x for x, _ in remindable)]
    blocks = [
        ("parent.resources.intro", render(services)),
        ("parent.resources.groups_intro", render(plain_groups)),
        ("parent.resources.rights_intro", [_rights_text(ctx, x) for x in rights]),
    ]
    if not shown and not rights:
        ctx.say("parent.resources.none")
    for heading, items in blocks:
        if heading == "parent.resources.rights_intro":
            _send_remindable(ctx, remindable, headed=bool(plain_groups))
        if items:
            for chunk in _chunks([ctx.text(heading), *items]):
                ctx.send(chunk)
    if offer_peer:
        ctx.say("parent.resources.after", buttons=_after_resources_buttons(ctx))


def _send_remindable(ctx: _Ctx, items: list[tuple[Resource, Button]], *, headed: bool) -> None:
    for i, (group, button) in enumerate(items):
        text = ctx.content.render_resource(group, ctx.lang, ctx.now)
        if i == 0 and not headed:
            text = f"{ctx.text('parent.resources.groups_intro')}\n\n{text}"
        ctx.send(text[:MAX_MESSAGE], [[button]])


def _rights_text(ctx: _Ctx, info: RightsInfo) -> str:
    return f"{ctx.local(info.title)}\n{ctx.local(info.body)}"


def _chunks(paragraphs: list[str]) -> list[str]:
    """Paragraphs joined into messages that fit Telegram's limit, never split mid-paragraph."""
    out: list[str] = []
    current = ""
    for p in paragraphs:
        candidate = f"{current}\n\n{p}" if current else p
        if current and len(candidate) > MAX_MESSAGE:
            out.append(current)
            candidate = p
        current = candidate[:MAX_MESSAGE]
    if current:
        out.append(current)
    return out
