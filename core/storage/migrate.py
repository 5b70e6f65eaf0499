"""Schema upgrades through Alembic, never ``create_all``: PostgreSQL installs upgrade in place."""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from core.storage.db import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Alembic keeps the running migration in module globals (``alembic.context``), so two
# upgrades at once in one process (replicas started together in one test) break each
# other: one at a time per event loop. Separate processes are not affected by this.
_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary())


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema of ``db`` up to ``revision`` (idempotent)."""
    lock = _LOCKS.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock:
        await db.ensure_schema()
        await _run_on(db.engine, db.url, revision)


async def _run_on(engine: AsyncEngine, url: str, revision: str) -> None:
    cfg = alembic_config(url)

    def _go(connection: object) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_go)
