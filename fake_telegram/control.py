"""JSON control routes under ``/_control``: the ``FakeTelegram`` API for other processes.

A bot started as a subprocess, the demo page and the benchmark cannot call
Python methods on the fake, so each control method has a route. Bodies and
answers are plain JSON; a wrong argument answers 400 and an unknown message
404, each with ``{"error": "..."}``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from fake_telegram.fake import FakeTelegram

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Action = Callable[[dict[str, Any]], Awaitable[Any]]


def _json_route(action: Action) -> Handler:
    """Wrap an action: merge query and JSON body, map errors to 400/404, answer JSON."""

    @functools.wraps(action)
    async def handler(request: web.Request) -> web.StreamResponse:
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                return web.json_response({"error": "body is not JSON"}, status=400)
            if isinstance(body, dict):
                args.update(body)
        try:
            result = await action(args)
        except KeyError as exc:
            return web.json_response({"error": str(exc.args[0] if exc.args else exc)}, status=404)
        except TimeoutError as exc:
            return web.json_response({"error": str(exc)}, status=408)
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(result)

    return handler


def _int(args: dict[str, Any], key: str) -> int:
    if key not in args:
        raise ValueError(f"missing {key!r}")
    return int(args[key])


def _opt_int(args: dict[str, Any], key: str) -> int | None:
    value = args.get(key)
    return None if value in (None, "") else int(value)


def control_routes(fake: FakeTelegram) -> list[web.RouteDef]:
    """All ``/_control`` routes bound to ``fake``."""

    async def state(args: dict[str, Any]) -> Any:
        return {
            "url": fake.url,
            "api_root": fake.api_root,
            "bot": fake.world.bot_user,
            "users": len(fake.world.users),
            "raw_updates": fake.raw_updates,
            "pending_updates": len(fake.pending_updates),
            "webhook": {
                "url": fake.world.webhook.url,
                "delivered": fake.webhook.delivered,
                "last_error": fake.world.webhook.last_error_message,
            },
            "faults": fake.faults.as_dict(),
        }

    async def clock(args: dict[str, Any]) -> Any:
        """GET: Telegram's time; POST ``{"advance": seconds}`` moves it forward first."""
        if args.get("advance") not in (None, ""):
            fake.advance_clock(float(args["advance"]))
        return {"now": fake.now(), "offset": fake.world.clock.offset,
                "expired_updates": fake.expired_updates}

    async def users(args: dict[str, Any]) -> Any:
        return fake.create_user(
            _int(args, "id"),
            args.get("first_name"),
            language_code=args.get("language_code", "en"),
            username=args.get("username"),
            last_name=args.get("last_name"),
            started=bool(args.get("started", True)),
        )

    async def send(args: dict[str, Any]) -> Any:
        return fake.user_sends(
            _int(args, "user_id"),
            str(args["text"]),
            chat_id=_opt_int(args, "chat_id"),
            reply_to=_opt_int(args, "reply_to"),
            forwarded=bool(args.get("forwarded", False)),
        )

    async def send_media(args: dict[str, Any]) -> Any:
        return fake.user_sends_media(
            _int(args, "user_id"),
            str(args["kind"]),
            args.get("caption"),
            chat_id=_opt_int(args, "chat_id"),
        )

    async def edit(args: dict[str, Any]) -> Any:
        return fake.user_edits(
            _int(args, "user_id"),
            _int(args, "message_id"),
            str(args["text"]),
            chat_id=_opt_int(args, "chat_id"),
        )

    async def send_location(args: dict[str, Any]) -> Any:
        return fake.user_sends_location(
            _int(args, "user_id"),
            float(args["latitude"]),
            float(args["longitude"]),
            live_period=_opt_int(args, "live_period"),
            chat_id=_opt_int(args, "chat_id"),
        )

    async def move(args: dict[str, Any]) -> Any:
        return fake.user_moves(
            _int(args, "user_id"),
            _int(args, "message_id"),
            float(args["latitude"]),
            float(args["longitude"]),
            chat_id=_opt_int(args, "chat_id"),
        )

    async def send_album(args: dict[str, Any]) -> Any:
        return fake.user_sends_album(
            _int(args, "user_id"),
            [str(k) for k in args["kinds"]],
            args.get("caption"),
            chat_id=_opt_int(args, "chat_id"),
        )

    async def press(args: dict[str, Any]) -> Any:
        return fake.user_presses(
            _int(args, "user_id"),
            _int(args, "message_id"),
            str(args["data"]),
            chat_id=_opt_int(args, "chat_id"),
        )

    async def group_message(args: dict[str, Any]) -> Any:
        return fake.group_message(_int(args, "chat_id"), _int(args, "user_id"), str(args["text"]))

    async def add_bot_to_group(args: dict[str, Any]) -> Any:
        return fake.add_bot_to_group(
            _int(args, "chat_id"), _int(args, "user_id"), title=args.get("title")
        )

    async def remove_bot_from_group(args: dict[str, Any]) -> Any:
        return fake.remove_bot_from_group(
            _int(args, "chat_id"), _int(args, "user_id"), kicked=bool(args.get("kicked", True))
        )

    async def migrate_group(args: dict[str, Any]) -> Any:
        new_id = fake.migrate_group(
            _int(args, "chat_id"), _int(args, "user_id"), new_chat_id=_opt_int(args, "new_chat_id")
        )
        return {"chat_id": new_id}

    async def revoke_token(args: dict[str, Any]) -> Any:
        return {"token": fake.revoke_token(args.get("new_token") or None)}

    async def channel_post(args: dict[str, Any]) -> Any:
        return fake.channel_post(_int(args, "chat_id"), str(args["text"]), title=args.get("title"))

    async def block(args: dict[str, Any]) -> Any:
        fake.user_blocks_bot(_int(args, "user_id"))
        return {"ok": True}

    async def unblock(args: dict[str, Any]) -> Any:
        fake.user_unblocks_bot(_int(args, "user_id"))
        return {"ok": True}

    async def messages(args: dict[str, Any]) -> Any:
        return fake.messages_to(_int(args, "chat_id"))[_opt_int(args, "after") or 0 :]

    async def wait_message(args: dict[str, Any]) -> Any:
        contains = args.get("contains")
        return await fake.wait_for_message(
            _int(args, "chat_id"),
            str(contains) if contains else None,
            timeout=min(60.0, float(args.get("timeout", 5.0))),
            after=_opt_int(args, "after"),
        )

    async def requests(args: dict[str, Any]) -> Any:
        return [r.as_dict() for r in fake.requests(args.get("method"))]

    async def events(args: dict[str, Any]) -> Any:
        after = _opt_int(args, "after") or 0
        timeout = min(60.0, float(args.get("timeout", 0)))
        with contextlib.suppress(TimeoutError):
            await fake.wait_until(lambda: len(fake.world.events) > after, timeout)
        return fake.world.events[after:]

    async def callbacks(args: dict[str, Any]) -> Any:
        return fake.callbacks()

    async def faults(args: dict[str, Any]) -> Any:
        options = {k: v for k, v in args.items() if k != "seed"}
        if options or "seed" in args:
            fake.configure_faults(seed=_opt_int(args, "seed"), **options)
        return fake.faults.as_dict()

    async def duplicates(args: dict[str, Any]) -> Any:
        found = fake.duplicates(_opt_int(args, "chat_id"), args.get("marker"))
        return [{"chat_id": c, "text": t, "count": n} for (c, t), n in found.items()]

    async def reset(args: dict[str, Any]) -> Any:
        fake.reset()
        return {"ok": True}

    get, post = web.get, web.post
    return [
        get("/_control/state", _json_route(state)),
        post("/_control/users", _json_route(users)),
        post("/_control/send", _json_route(send)),
        post("/_control/send_media", _json_route(send_media)),
        post("/_control/edit", _json_route(edit)),
        post("/_control/send_location", _json_route(send_location)),
        post("/_control/move", _json_route(move)),
        post("/_control/send_album", _json_route(send_album)),
        post("/_control/press", _json_route(press)),
        post("/_control/group_message", _json_route(group_message)),
        post("/_control/add_bot_to_group", _json_route(add_bot_to_group)),
        post("/_control/remove_bot_from_group", _json_route(remove_bot_from_group)),
        post("/_control/migrate_group", _json_route(migrate_group)),
        post("/_control/revoke_token", _json_route(revoke_token)),
        post("/_control/channel_post", _json_route(channel_post)),
        post("/_control/block", _json_route(block)),
        post("/_control/unblock", _json_route(unblock)),
        get("/_control/messages", _json_route(messages)),
        get("/_control/wait_message", _json_route(wait_message)),
        get("/_control/requests", _json_route(requests)),
        get("/_control/events", _json_route(events)),
        get("/_control/callbacks", _json_route(callbacks)),
        get("/_control/faults", _json_route(faults)),
        post("/_control/faults", _json_route(faults)),
        get("/_control/duplicates", _json_route(duplicates)),
        post("/_control/reset", _json_route(reset)),
        get("/_control/clock", _json_route(clock)),
        post("/_control/clock", _json_route(clock)),
    ]
