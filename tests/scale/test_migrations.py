"""Alembic brings a fresh SQLite file and a fresh PostgreSQL schema to the same head, twice.

Production installs upgrade in place (``parentline db upgrade`` once before a rollout),
so the migrations — not ``create_all`` — must produce every table and column the models
declare, on both backends, and a second run must change nothing: several replicas run
``upgrade`` on start and must not fight over it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from core.storage.db import Database
from core.storage.migrate import MIGRATIONS, alembic_config, upgrade
from core.storage.models import Base

PG_URL = os.environ.get("PARENTLINE_TEST_POSTGRES_URL", "")
REPO = Path(__file__).resolve().parents[2]


def _heads() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return set(script.get_heads())


async def _snapshot(db: Database) -> dict[str, Any]:
    """Tables, their columns and indexes, and the stamped revision: what a no-op keeps."""

    def grab(conn: Connection) -> dict[str, Any]:
        insp = inspect(conn)
        tables = {}
        for name in insp.get_table_names():
            tables[name] = {
                "columns": sorted(c["name"] for c in insp.get_columns(name)),
                "indexes": sorted(str(i["name"]) for i in insp.get_indexes(name)),
            }
        rows = conn.execute(text("SELECT version_num FROM alembic_version"))
        version = sorted(r[0] for r in rows)
        return {"tables": tables, "version": version}

    async with db.engine.connect() as conn:
        return await conn.run_sync(grab)


def _assert_matches_models(snap: dict[str, Any]) -> None:
    tables = snap["tables"]
    missing = sorted(set(Base.metadata.tables) - set(tables))
    assert not missing, f"migrations do not create {missing}"
    for name, table in Base.metadata.tables.items():
        absent = sorted({c.name for c in table.columns} - set(tables[name]["columns"]))
        assert not absent, f"{name}: the models have columns no migration adds: {absent}"
    assert set(snap["version"]) == _heads(), snap["version"]


async def test_sqlite_upgrade_creates_everything_and_is_idempotent(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    try:
        await upgrade(db)
        first = await _snapshot(db)
        _assert_matches_models(first)
        await upgrade(db)
        assert await _snapshot(db) == first
    finally:
        await db.dispose()


def test_cli_db_upgrade_on_sqlite_twice(tmp_path: Path) -> None:
    """The operator's command, as a process: ``parentline db upgrade`` (then again)."""
    env = {**os.environ, "PARENTLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    for _ in range(2):
        done = subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "up to date" in done.stdout
    assert (tmp_path / "cli.db").stat().st_size > 0


@pytest.mark.postgres
async def test_postgres_upgrade_creates_everything_and_is_idempotent() -> None:
    if not PG_URL:
        pytest.skip("PARENTLINE_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    db = Database(PG_URL, schema=f"mig_{uuid.uuid4().hex[:10]}")
    try:
        await upgrade(db)
        first = await _snapshot(db)
        _assert_matches_models(first)
        await upgrade(db)
        assert await _snapshot(db) == first
        # Everything landed in the test's own schema, not in public.
        async with db.read() as s:
            where = await s.scalar(text(
                "SELECT table_schema FROM information_schema.tables "
                "WHERE table_name = 'alembic_version' AND table_schema = :s"),
                {"s": db.schema})
        assert where == db.schema
    finally:
        await db.drop_schema()
        await db.dispose()


def test_migrations_folder_is_shipped() -> None:
    """The wheel (and the Docker image) must carry the migrations next to the code."""
    assert (MIGRATIONS / "env.py").is_file()
    assert any((MIGRATIONS / "versions").glob("0001_*.py"))
