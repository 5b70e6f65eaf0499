"""Nothing lost: 50 parents talk with specialists for a minute through Telegram faults,
and again while the bot process is killed with SIGKILL at random moments.

Faults on the fake Bot API: 10% of connections dropped (half before the request is
handled, half after — the "Telegram said OK but we never heard it" case that makes
duplicates possible), 429 with retry_after on 10% of calls and 502 on 5%, on every
method including getUpdates. Every parent message must reach its specialist and every
reply its parent; duplicates are counted and printed, never hidden.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import line_settings
from relay_load import (
    Load,
    add_specialists,
    connect_everyone,
    parents_talk,
    specialists_answer,
    wait_delivered,
)
from sqlalchemy import func, select

from bot.app.runtime import LineRuntime
from core.storage.models import HeldMessage, InboxRow, OutboxRow
from fake_telegram import FakeTelegram

pytestmark = pytest.mark.slow

PARENTS = list(range(1001, 1051))
SPECIALISTS = list(range(9001, 9018))  # 17 peers x 3 = 51 places for 50 parents
TALK_SECONDS = float(os.environ.get("PARENTLINE_DURABILITY_SECONDS", "60"))
FAULTS = {"drop": 0.05, "drop_after": 0.05, "retry_after": 0.10, "bad_gateway": 0.05,
          "send_only": False}


def _report(name: str, figures: dict[str, int], extra: dict[str, object]) -> None:
    line = json.dumps({"test": name, **figures, **extra})
    out = Path(os.environ.get("PARENTLINE_REPORT_DIR", "var")) / "durability.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as f:
        f.write(line + "\n")
    print(f"\n[durability] {line}")


async def _backlog(runtime: LineRuntime) -> dict[str, object]:
    """What is still waiting in the line's own tables (for the report when something is)."""
    async with runtime.db.read() as s:
        inbox_left = await s.scalar(select(func.count()).select_from(InboxRow)
                                    .where(InboxRow.processed_at.is_(None)))
        outbox_left = await s.scalar(select(func.count()).select_from(OutboxRow)
                                     .where(OutboxRow.status == "pending"))
        dead = await s.scalar(select(func.count()).select_from(OutboxRow)
                              .where(OutboxRow.status == "dead"))
        held = await s.scalar(select(func.count()).select_from(HeldMessage)
                              .where(HeldMessage.resolved_at.is_(None)))
        failed = await s.scalar(select(func.count()).select_from(InboxRow)
                                .where(InboxRow.error.is_not(None)))
    return {"inbox_pending": inbox_left, "outbox_pending": outbox_left, "outbox_dead": dead,
            "held_unresolved": held, "inbox_rows_with_errors": failed}


def _assert_nothing_lost(figures: dict[str, int]) -> None:
    assert figures["parent_messages"] > 0
    assert figures["parent_missing"] == 0, figures
    assert figures["reply_missing"] == 0, figures
    assert figures["replies"] >= figures["parent_messages"], figures


async def test_faults_lose_nothing(fake_tg: FakeTelegram, tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'line.db'}"
    await add_specialists(db_url, SPECIALISTS, max_active=3)
    runtime = LineRuntime(line_settings(fake_tg, tmp_path / "line.db"), serve_web=False)
    await runtime.start()
    load = Load(fake_tg, PARENTS, SPECIALISTS)
    try:
        await connect_everyone(load, db_url)
        fake_tg.configure_faults(seed=7, **FAULTS)
        answering = asyncio.create_task(specialists_answer(load))
        await parents_talk(load, TALK_SECONDS, every=6.0)
        figures = await wait_delivered(load, timeout=120)
        load.stop.set()
        await answering
        backlog = await _backlog(runtime)
    finally:
        fake_tg.configure_faults(drop=0, drop_after=0, retry_after=0, bad_gateway=0)
        await runtime.stop()
    _report("faults", figures, {"faults_injected": fake_tg.fault_counts,
                                "held_then_assigned": load.held_answered, **backlog})
    _assert_nothing_lost(figures)


class BotProcess:
    """``parentline run`` as a separate process, so it can be killed for real."""

    def __init__(self, fake: FakeTelegram, db_path: Path, log: Path) -> None:
        self.env = {
            **os.environ,
            "PARENTLINE_TELEGRAM_TOKEN": fake.token,
            "PARENTLINE_TELEGRAM_API_URL": fake.api_root,
            "PARENTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{db_path}",
            "PARENTLINE_SECRET_KEY": "kill-test",
            "PARENTLINE_WEB_PORT": "0",
            "PARENTLINE_OPS_PORT": "0",
            "PARENTLINE_LOG_LEVEL": "WARNING",
            "NO_PROXY": "127.0.0.1,localhost",
        }
        self.env.pop("PARENTLINE_WEBHOOK_URL", None)
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=15)


async def test_sigkill_at_random_moments_loses_nothing(fake_tg: FakeTelegram,
                                                        tmp_path: Path) -> None:
    db_path = tmp_path / "line.db"
    db_url = f"sqlite+aiosqlite:///{db_path}"
    await add_specialists(db_url, SPECIALISTS, max_active=3)
    bot = BotProcess(fake_tg, db_path, tmp_path / "bot.log")
    bot.start()
    load = Load(fake_tg, PARENTS, SPECIALISTS)
    kills = 0
    rng = random.Random(11)

    async def killer() -> None:
        nonlocal kills
        while not load.stop.is_set():
            await asyncio.sleep(rng.uniform(2.0, 5.0))
            if load.stop.is_set():
                break
            bot.kill()
            kills += 1
            bot.start()

    try:
        await connect_everyone(load, db_url, timeout=120)
        fake_tg.configure_faults(seed=3, **FAULTS)
        answering = asyncio.create_task(specialists_answer(load))
        killing = asyncio.create_task(killer())
        await parents_talk(load, TALK_SECONDS, every=6.0)
        # Stop killing, then let the line catch up.
        killing.cancel()
        await asyncio.gather(killing, return_exceptions=True)
        figures = await wait_delivered(load, timeout=150)
        load.stop.set()
        await answering
    finally:
        fake_tg.configure_faults(drop=0, drop_after=0, retry_after=0, bad_gateway=0)
        code = bot.terminate()
    _report("sigkill", figures, {"kills": kills, "held_then_assigned": load.held_answered,
                                 "faults_injected": fake_tg.fault_counts,
                                 "exit_code_on_sigterm": code})
    assert kills >= 10
    assert code == 0, (tmp_path / "bot.log").read_text()[-3000:]
    _assert_nothing_lost(figures)
