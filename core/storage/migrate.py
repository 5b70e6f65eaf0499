"""Schema upgrades through Alembic, never ``create_all``: PostgreSQL installs upgrade in place."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from core.storage.db import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema of ``db`` up to ``revision`` (idempotent)."""
    await db.ensure_schema()
    await _run_on(db.engine, db.url, revision)


async def _run_on(engine: AsyncEngine, url: str, revision: str) -> None:
    cfg = alembic_config(url)

    def _go(connection: object) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_go)
