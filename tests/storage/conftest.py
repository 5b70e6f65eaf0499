"""Database fixtures: every storage test runs on a SQLite file and, when configured, on
a real PostgreSQL (``PARENTLINE_TEST_POSTGRES_URL``) in a schema of its own."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.storage.db import Database
from core.storage.migrate import upgrade

PG_URL = os.environ.get("PARENTLINE_TEST_POSTGRES_URL", "")


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
    else:
        if not PG_URL:
            pytest.skip("PARENTLINE_TEST_POSTGRES_URL is not set (.ci/run sets it)")
        database = Database(PG_URL, schema=f"t_{uuid.uuid4().hex[:10]}")
    await upgrade(database)
    try:
        yield database
    finally:
        await database.drop_schema()
        await database.dispose()
