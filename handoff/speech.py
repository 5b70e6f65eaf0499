"""Small helpers for saying things: which language a staff member reads, how a parent is named.

Staff read their texts in their first roster language; a parent is shown to staff by
the name they chose to share, or else by their pseudonym — never by a Telegram name.
"""

from __future__ import annotations

from typing import Any

from core.context import Ctx
from core.storage.models import Parent, Staff


def staff_lang(staff: Staff) -> str:
    return (staff.languages or ["en"])[0]


def parent_label(ctx: Ctx, parent: Parent | None, lang: str) -> str:
    """``Parent K7Q2`` (or the name the parent chose to share)."""
    if parent is None:
        return ctx.text("staff.parent_gone", lang)
    if parent.chosen_name:
        return parent.chosen_name
    return ctx.text("staff.parent_label", lang, pseudonym=parent.pseudonym)


def staff_say(ctx: Ctx, staff: Staff, key: str, **params: Any) -> None:
    """Say ``key`` from ``staff.yaml`` in the staff member's private chat."""
    ctx.say(staff.tg_user_id, key, staff_lang(staff), **params)
