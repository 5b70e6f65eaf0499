"""The roster: who may act as staff. Used by ``parentline staff add|list|remove``.

Only people on this list ever reach the staff side of the bot; everyone else is a
parent. Values are validated here so a typo in a role or an experience tag is a clear
error at the command line, not a specialist silently missing from every match.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import DEFAULT_CONTENT_DIR
from core.storage.models import STAFF_ROLES, Staff, StaffRole
from flows.content.parse import read_experience_ids
from handoff.policy import invalid_experience

# No one holds more conversations than this at once; it also keeps a typo (300 for 3)
# out of an INTEGER column.
MAX_ACTIVE_LIMIT = 50


class RosterError(ValueError):
    """A value the roster cannot accept; the message says how to fix it."""


def _clean_languages(languages: Iterable[str]) -> list[str]:
    out: list[str] = []
    for lang in languages:
        code = lang.strip().lower()
        if not code:
            continue
        if not (2 <= len(code) <= 8) or not code.replace("-", "").isalpha():
            raise RosterError(f'language "{lang}" should be a code such as en or es')
        if code not in out:
            out.append(code)
    return out or ["en"]


def _cap(max_active: int) -> int:
    if max_active < 1:
        raise RosterError("--max-active must be 1 or more")
    if max_active > MAX_ACTIVE_LIMIT:
        raise RosterError(f"--max-active must be {MAX_ACTIVE_LIMIT} or fewer")
    return max_active


def known_experience() -> tuple[str, ...]:
    """The experience tags a staff member may carry: the shipped content's, so the CLI and
    the dashboard offer and accept the same tags."""
    return content_experience()


def content_experience(content_dir: Path | None = None) -> tuple[str, ...]:
    """The experience tags defined in content (``content/experience.yaml``)."""
    return read_experience_ids(content_dir or DEFAULT_CONTENT_DIR)


def clean_experience(experience: Iterable[str], known: Collection[str] | None = None
                     ) -> list[str]:
    """Lower-cased, de-duplicated tags; an unknown one is an error that lists the known ones."""
    tags = known if known is not None else content_experience()
    exp = list(dict.fromkeys(e.strip().lower() for e in experience if e.strip()))
    bad = invalid_experience(exp, tags)
    if bad:
        raise RosterError(
            f'unknown experience "{", ".join(bad)}" (use: {", ".join(sorted(tags))}; '
            "they are defined in content/experience.yaml)"
        )
    return exp


def _role(role: str) -> StaffRole:
    for known in STAFF_ROLES:
        if role == known:
            return known
    raise RosterError(f'role "{role}" is not one of: {", ".join(sorted(STAFF_ROLES))}')


async def add_staff(
    session: AsyncSession,
    tg_user_id: int,
    name: str,
    role: str,
    languages: Iterable[str],
    max_active: int,
    experience: Iterable[str],
    now: datetime,
    *,
    known_experience: Collection[str] | None = None,
) -> Staff:
    """Add someone to the roster, or update them if they are already on it.

    ``known_experience``: the tags of the content in use (default: the shipped content).
    """
    name = name.strip()
    if not name:
        raise RosterError("--name is required: it is the display name parents see")
    if len(name) > 60:
        raise RosterError("--name is too long (60 characters at most)")
    known_role = _role(role)
    max_active = _cap(max_active)
    exp = clean_experience(experience, known_experience)
    langs = _clean_languages(languages)
    staff = await session.get(Staff, tg_user_id)
    if staff is None:
        # sessions_valid_from: a staff id removed and added back does not revive the
        # dashboard cookies issued to it before.
        staff = Staff(tg_user_id=tg_user_id, created_at=now, on_duty=False, paused=False,
                      sessions_valid_from=now)
        session.add(staff)
    staff.name = name
    staff.role = known_role
    staff.languages = langs
    staff.experience = exp
    staff.max_active = max_active
    await session.flush()
    return staff


async def set_experience(
    session: AsyncSession,
    tg_user_id: int,
    experience: Iterable[str],
    *,
    known_experience: Collection[str] | None = None,
) -> Staff:
    """Replace a staff member's experience tags (``parentline staff experience``)."""
    exp = clean_experience(experience, known_experience)
    staff = await session.get(Staff, tg_user_id)
    if staff is None:
        raise RosterError(f"no staff member with id {tg_user_id}; add them with staff add")
    staff.experience = exp
    await session.flush()
    return staff


async def set_cap_and_experience(session: AsyncSession, staff: Staff, max_active: int,
                                 experience: Iterable[str], *,
                                 known_experience: Collection[str] | None = None) -> None:
    """Change how many parents someone may hold at once and what they know best.

    A lower cap never takes a conversation away: it only stops new ones until the load
    is under it (``policy.has_room``). ``known_experience``: the tags of the content in
    use (default: the shipped content).
    """
    max_active = _cap(max_active)
    staff.experience = clean_experience(experience, known_experience)
    staff.max_active = max_active
    await session.flush()


async def list_staff(session: AsyncSession) -> list[Staff]:
    """Everyone on the roster, coordinators first, then by name."""
    rows = await session.scalars(select(Staff))
    return sorted(rows, key=lambda s: (s.role != "coordinator", s.name.casefold()))


async def end_sessions(session: AsyncSession, tg_user_id: int, now: datetime) -> None:
    """End every dashboard session of this staff member issued before ``now`` (sign-out)."""
    staff = await session.get(Staff, tg_user_id)
    if staff is not None:
        staff.sessions_valid_from = now
        await session.flush()


async def remove_staff(session: AsyncSession, tg_user_id: int) -> bool:
    """Take someone off the roster; False if they were not on it.

    Their active conversations go back to the front of the queue first, so nobody is
    left talking to an account that no longer exists on the line.
    """
    from handoff.queries import requeue_all_of  # local: queries imports policy only

    staff = await session.get(Staff, tg_user_id)
    if staff is None:
        return False
    await requeue_all_of(session, tg_user_id)
    await session.delete(staff)
    await session.flush()
    return True
