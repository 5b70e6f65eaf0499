"""Benchmark: parentline against a bare python-telegram-bot echo bot, on one harness.

``python bench/run.py`` (about four minutes on two cores) prints:

* CPU time per parent message, parentline on SQLite / the echo bot (target <= 2x);
* reply latency p50/p99 at 200 messages a second, from the moment the update is in the
  fake Bot API to the moment the bot's reply arrives there (the fake's ``ts``), and p99
  for crisis replies (target p99 <= 50 ms);
* resident memory of the bot process with 10,000 parents mid-flow (target <= 200 MB);
* claim throughput with 20 specialists on PostgreSQL, and double claims (target zero);
* screening cost (``bench/screening.py``, in this process): the worst time to screen a
  4,096-character message, and the event loop's longest stall while the line screens it
  in a worker thread.

Both bots run as subprocesses polling the same in-process fake Bot API; CPU time is read
from ``/proc/<pid>/stat`` over the loaded window only, memory from ``/proc/<pid>/status``.
Load comes from many distinct parents, each writing once per phase, because Telegram (and
our limiter) allow about one message a second into one chat. The bot's *global* limit
(Telegram's ~30/s) is lifted for the run: at 200 messages a second in, replies would
otherwise queue behind it and the latency would measure Telegram's limit, not the bot.

Options: ``--parents N`` (default 2000), ``--rate R`` (default 200/s), ``--postgres URL``
(default ``$PARENTLINE_TEST_POSTGRES_URL``; the claim figure is skipped without one),
``--profile DIR`` (run parentline under cProfile and print its hotspots), ``--json PATH``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import pstats
import random
import socket
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from screening import measure as measure_screening  # bench/screening.py, beside this file

from fake_telegram import FakeTelegram

REPO = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Every parent writes a different message: the line remembers screening answers by text,
# so one text sent by every parent would measure the memo, not the screening.
_OPENINGS = ("", "hi. ", "sorry it's late. ", "hello, ", "ok so ", "i dont know who else to ask. ")
_CONCERNS = ("my son has tantrums every single night", "my daughter won't sleep in her own bed",
             "my 4 year old hits his little sister", "my teen stopped talking to me",
             "the school keeps calling about my son", "my toddler screams when I leave the room",
             "bedtime takes two hours every night", "my kids fight all day long",
             "my son refuses to go to school", "my daughter melts down after school")
_SINCE = ("", " since the move", " since the baby came", " since school started", " this week")
_ENDINGS = (" and I am so tired", " and I feel like I'm failing", " and I dont know what to do",
            " and my partner works nights", ", any advice?", " and I'm on my own with them", "",
            " and it's wearing me down")
_AGAIN = ("Bedtime was hard again tonight", "Another rough evening",
          "He screamed for an hour again",
          "Today was a bit better actually", "She slammed the door again", "School called again")
_AFTER = ("", ", I just needed to say it", ", thanks for listening", " and I cried after",
          ", I tried what we talked about", " and I'm exhausted")


def concern_text(uid: int) -> str:
    """A parent's first concern, different for every one of 2,400 parents in a row."""
    n = uid % (len(_OPENINGS) * len(_CONCERNS) * len(_SINCE) * len(_ENDINGS))
    n, a = divmod(n, len(_OPENINGS))
    n, b = divmod(n, len(_CONCERNS))
    d, c = divmod(n, len(_SINCE))
    return f"{_OPENINGS[a]}{_CONCERNS[b]}{_SINCE[c]}{_ENDINGS[d]}"


def follow_up_text(uid: int) -> str:
    n = uid % (len(_OPENINGS) * len(_AGAIN) * len(_AFTER) * len(_SINCE))
    n, o = divmod(n, len(_OPENINGS))
    n, a = divmod(n, len(_AGAIN))
    c, b = divmod(n, len(_AFTER))
    return f"{_OPENINGS[o]}{_AGAIN[a]}{_SINCE[c]}{_AFTER[b]}"


CRISIS_CANDIDATES = (
    "I want to kill myself tonight",
    "I am going to kill myself",
    "I want to die",
)
_CRISIS_TAILS = ("", " i cant do this", " everyone would be better off", " the kids are asleep",
                 " nobody would notice", " im so tired of everything", " i mean it")
CRISIS_SHARE = 0.05
TARGETS = {
    "cpu_ratio": "<= 2x the echo bot (SQLite)",
    "p99_ms": "<= 50 ms at 200 msg/s",
    "rss_mb": "<= 200 MB at 10,000 parents",
    "double_claims": "0",
}


# --- processes ---------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process (all its threads), from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (resident now) and VmHWM (peak resident) in MB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class BotProcess:
    name: str
    process: asyncio.subprocess.Process
    log: Path
    web_port: int | None = None

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    def tail(self, n: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        return ""


async def spawn(name: str, argv: list[str], env: dict[str, str], log: Path) -> BotProcess:
    out = log.open("wb")
    proc = await asyncio.create_subprocess_exec(*argv, cwd=REPO, env=env, stdout=out,
                                                stderr=asyncio.subprocess.STDOUT)
    out.close()
    return BotProcess(name, proc, log)


def parentline_env(fake: FakeTelegram, db_url: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "NO_PROXY": "127.0.0.1,localhost",
        "PARENTLINE_TELEGRAM_TOKEN": fake.token,
        "PARENTLINE_TELEGRAM_API_URL": fake.api_root,
        "PARENTLINE_DATABASE_URL": db_url,
        "PARENTLINE_CONTENT_DIR": str(REPO / "content"),
        "PARENTLINE_WEB_HOST": "127.0.0.1",
        "PARENTLINE_WEB_PORT": str(port),
        "PARENTLINE_SECRET_KEY": "bench",
        "PARENTLINE_OPS_PORT": "0",
        "PARENTLINE_METRICS_TOKEN": "bench",
        "PARENTLINE_WEBHOOK_URL": "",
        "PARENTLINE_LOG_LEVEL": "WARNING",
        "PARENTLINE_RATE_GLOBAL_PER_SECOND": "100000",
    }


async def start_parentline(fake: FakeTelegram, db_url: str, work: Path, name: str,
                           profile: Path | None = None) -> BotProcess:
    port = free_port()
    env = parentline_env(fake, db_url, port)
    argv = [sys.executable]
    if profile is not None:
        argv += ["-m", "cProfile", "-o", str(profile)]
    argv += ["-m", "bot.cli", "run"]
    bot = await spawn(name, argv, env, work / f"{name}.log")
    bot.web_port = port
    await wait_ready(bot)
    await wait_polling(fake)
    return bot


async def start_echo(fake: FakeTelegram, work: Path) -> BotProcess:
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost"}
    argv = [sys.executable, str(REPO / "bench" / "echo_bot.py"), "--api-root", fake.api_root,
            "--token", fake.token]
    bot = await spawn("echo", argv, env, work / "echo.log")
    await wait_polling(fake)
    return bot


async def wait_polling(fake: FakeTelegram, timeout: float = 60.0) -> None:
    """Until the bot's first getUpdates arrived (it is then listening)."""
    before = len(fake.requests("getUpdates"))
    deadline = time.monotonic() + timeout
    while len(fake.requests("getUpdates")) <= before:
        if time.monotonic() > deadline:
            raise RuntimeError("the bot never polled the fake Bot API")
        await asyncio.sleep(0.05)


async def readyz(bot: BotProcess) -> dict[str, Any]:
    async with aiohttp.ClientSession(trust_env=False) as s, \
            s.get(f"http://127.0.0.1:{bot.web_port}/readyz",
                  headers={"Authorization": "Bearer bench"}) as r:
        return dict(await r.json()) if r.status == 200 else {}


async def wait_ready(bot: BotProcess, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if bot.process.returncode is not None:
            raise RuntimeError(f"{bot.name} exited:\n{bot.tail()}")
        with contextlib.suppress(aiohttp.ClientError, OSError):
            if await readyz(bot):
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{bot.name} never became ready:\n{bot.tail()}")
        await asyncio.sleep(0.2)


async def wait_idle(bot: BotProcess, timeout: float = 120.0) -> None:
    """Until the inbox and the outbox are empty (parentline only)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = await readyz(bot)
        if info and info.get("inbox_backlog") == 0 and info.get("outbox_pending") == 0:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{bot.name} still busy after {timeout}s: {await readyz(bot)}")


# --- load ------------------------------------------------------------------------------------


@dataclass
class Sent:
    user: int
    ts: float  # when the update became available in the fake
    cursor: int  # bot messages in the chat before it
    crisis: bool = False


@dataclass
class Phase:
    sent: list[Sent] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    crisis_latencies: list[float] = field(default_factory=list)
    missing: int = 0
    cpu: float = 0.0
    seconds: float = 0.0


async def paced(fake: FakeTelegram, users: Iterable[int], text_of: Callable[[int], str],
                rate: float, crisis: set[int] | None = None) -> list[Sent]:
    """Each user writes once; the sends are spread evenly at ``rate`` a second."""
    sent: list[Sent] = []
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i, uid in enumerate(users):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        cursor = len(fake.world.bot_messages.get(uid, []))
        msg = fake.user_sends(uid, text_of(uid))
        stored = fake.world.messages[(uid, msg["message_id"])]
        sent.append(Sent(uid, stored.ts, cursor, bool(crisis and uid in crisis)))
    return sent


async def collect(fake: FakeTelegram, sent: list[Sent], timeout: float) -> Phase:
    """Wait for the first reply after each sent message; latency = reply ts - update ts."""
    phase = Phase(sent=sent)
    deadline = time.monotonic() + timeout
    waiting = list(sent)
    while waiting and time.monotonic() < deadline:
        still = []
        for s in waiting:
            msgs = fake.world.bot_messages.get(s.user, [])
            if len(msgs) > s.cursor:
                latency = msgs[s.cursor].ts - s.ts
                (phase.crisis_latencies if s.crisis else phase.latencies).append(latency)
            else:
                still.append(s)
        waiting = still
        if waiting:
            await fake.world.wait_changed(0.2)
    phase.missing = len(waiting)
    return phase


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def measured(fake: FakeTelegram, bot: BotProcess, users: list[int],
                   text_of: Callable[[int], str], rate: float, *,
                   crisis: set[int] | None = None, parentline: bool) -> Phase:
    """One loaded window: CPU of the bot process from first send to last reply (and drain)."""
    cpu0, t0 = cpu_seconds(bot.pid), time.monotonic()
    sent = await paced(fake, users, text_of, rate, crisis)
    phase = await collect(fake, sent, timeout=120)
    if parentline:
        await wait_idle(bot)
    else:
        await asyncio.sleep(0.3)
    phase.cpu = cpu_seconds(bot.pid) - cpu0
    phase.seconds = time.monotonic() - t0
    return phase


def crisis_texts() -> list[str]:
    """Different messages the shipped screening treats as a crisis (checked, not assumed)."""
    from flows.safety import assess

    texts = [f"{c}{t}" for c in CRISIS_CANDIDATES for t in _CRISIS_TAILS]
    found = [t for t in texts if assess(t, "en").crisis]
    if not found:
        raise RuntimeError("none of the crisis candidates is screened as a crisis")
    return found


# --- phases ----------------------------------------------------------------------------------


async def bench_echo(fake: FakeTelegram, work: Path, n: int, rate: float) -> Phase:
    users = list(range(100_001, 100_001 + n))
    for uid in users:
        fake.create_user(uid, language_code="en")
    bot = await start_echo(fake, work)
    try:
        warm = await paced(fake, users[:200], lambda _: "/start", rate)
        await collect(fake, warm, 60)
        return await measured(fake, bot, users, concern_text, rate, parentline=False)
    finally:
        await bot.stop()


async def bench_parentline(fake: FakeTelegram, work: Path, n: int, rate: float,
                           total_parents: int, profile: Path | None) -> dict[str, Any]:
    db_path = work / "bench.db"
    bot = await start_parentline(fake, f"sqlite+aiosqlite:///{db_path}", work, "parentline",
                                 profile)
    users = list(range(200_001, 200_001 + n))
    for uid in users:
        fake.create_user(uid, language_code="en")
    out: dict[str, Any] = {"rss_start": memory_mb(bot.pid)}
    try:
        # Every parent says hello first, so the measured message is mid-flow.
        warm = await paced(fake, users, lambda _: "/start", rate)
        warm_phase = await collect(fake, warm, 120)
        await wait_idle(bot)
        out["warmup_missing"] = warm_phase.missing
        rng = random.Random(7)
        crisis = set(rng.sample(users, int(n * CRISIS_SHARE)))
        ctexts = crisis_texts()
        phase = await measured(fake, bot, users,
                               lambda uid: (ctexts[uid % len(ctexts)] if uid in crisis
                                            else concern_text(uid)), rate,
                               crisis=crisis, parentline=True)
        out["phase"] = phase
        out["rss_after_load"] = memory_mb(bot.pid)
        out["burst"] = await bench_burst(fake, bot, users[:BURST])
        out["memory"] = await bench_memory(fake, bot, db_path, users, total_parents, rate)
    finally:
        await bot.stop()
    return out


BURST = 400


async def bench_burst(fake: FakeTelegram, bot: BotProcess, users: list[int]) -> dict[str, Any]:
    """Every parent of ``users`` writes at the same moment (the evening rush after a TV
    segment, or a poll that brings a hundred updates): how long until each hears back.
    The first replies show whether one batch holds everything else up."""
    sent = await paced(fake, users, follow_up_text, rate=1e9)
    phase = await collect(fake, sent, 120)
    await wait_idle(bot)
    ordered = sorted(phase.latencies)
    return {"n": len(users), "missing": phase.missing,
            "first_10_ms": pct(ordered[:10], 1.0) * 1000,
            "p50_ms": pct(ordered, 0.5) * 1000, "p99_ms": pct(ordered, 0.99) * 1000}


async def bench_memory(fake: FakeTelegram, bot: BotProcess, db_path: Path, driven: list[int],
                       total: int, rate: float) -> dict[str, Any]:
    """Fill the database to ``total`` parents mid-flow, then hear from a sample of them."""
    con = sqlite3.connect(db_path, timeout=60)
    try:
        con.row_factory = sqlite3.Row
        templates = [dict(r) for r in con.execute(
            f"SELECT * FROM parents WHERE tg_user_id IN ({','.join('?' * 50)})",
            driven[:50])]
        have = int(con.execute("SELECT count(*) FROM parents").fetchone()[0])
        extra = list(range(300_001, 300_001 + max(0, total - have)))
        rows = []
        for i, uid in enumerate(extra):
            row = dict(templates[i % len(templates)])
            row.pop("id")
            row.update(tg_user_id=uid, chat_id=uid, pseudonym=f"Z{uid}")
            rows.append(row)
        if rows:
            cols = list(rows[0])
            sql = (f"INSERT INTO parents ({', '.join(cols)}) "
                   f"VALUES ({', '.join(':' + c for c in cols)})")
            with con:
                con.executemany(sql, rows)
        count = int(con.execute("SELECT count(*) FROM parents").fetchone()[0])
        states = Counter(r[0] for r in con.execute("SELECT flow_state FROM parents"))
    finally:
        con.close()
    sample = random.Random(11).sample(extra, min(1000, len(extra))) if extra else []
    for uid in sample:
        fake.create_user(uid, language_code="en")
    sent = await paced(fake, sample, follow_up_text, rate)
    phase = await collect(fake, sent, 120)
    await wait_idle(bot)
    return {"parents": count, "flow_states": dict(states.most_common(3)),
            "sample": len(sample), "sample_missing": phase.missing,
            "sample_p99_ms": pct(phase.latencies, 0.99) * 1000, "rss": memory_mb(bot.pid)}


async def bench_claims(fake: FakeTelegram, work: Path, pg_url: str) -> dict[str, Any]:
    """20 specialists pull 200 waiting parents at once; claims/s and double claims."""
    import asyncpg
    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url

    from core.storage.db import Database
    from core.storage.migrate import upgrade
    from core.storage.models import Conversation, Parent
    from flows.content import load_content
    from handoff import roster

    specialists = list(range(900_001, 900_021))
    parents = list(range(400_001, 400_201))
    cap = 10
    base = make_url(pg_url)
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    db = Database(url)
    bot: BotProcess | None = None
    try:
        await upgrade(db)
        async with db.tx() as s:
            for i, sid in enumerate(specialists):
                await roster.add_staff(s, sid, f"Peer{i:02d}", "specialist", ["en"], cap, [],
                                       datetime.now(UTC))
        bot = await start_parentline(fake, url, work, "parentline-pg")
        for uid in parents:
            fake.create_user(uid, language_code="en")
            fake.user_sends(uid, "/talk")
            fake.user_sends(uid, "/talk")  # again: the handoff card is sent as it is
        for sid in specialists:
            fake.create_user(sid, language_code="en")
        await wait_idle(bot)
        for sid in specialists:
            fake.user_sends(sid, "/onduty")
        await wait_idle(bot)
        t0 = datetime.now(UTC)
        for _ in range(cap):
            for sid in specialists:
                fake.user_sends(sid, "/next")
        deadline = time.monotonic() + 120
        active = 0
        while time.monotonic() < deadline:
            async with db.read() as s:
                active = int(await s.scalar(select(func.count()).select_from(Conversation)
                                            .where(Conversation.status == "active")) or 0)
            if active >= len(parents):
                break
            await asyncio.sleep(0.1)
        async with db.read() as s:
            rows = (await s.execute(select(Parent.tg_user_id, Conversation.specialist_id,
                                           Conversation.claimed_at)
                                    .join(Conversation, Conversation.parent_id == Parent.id)
                                    .where(Conversation.status == "active"))).all()
        await wait_idle(bot)
        last = max((r[2] for r in rows if r[2] is not None), default=t0)
        seconds = max((last - t0).total_seconds(), 1e-6)
        content = load_content(REPO / "content")
        joined = {content.text("handoff.peer_joined", "en", name=f"Peer{i:02d}")
                  for i in range(len(specialists))}
        joined |= {content.text("handoff.peer_joined_after_hours", "en", name=f"Peer{i:02d}")
                   for i in range(len(specialists))}
        told = {uid: sum(1 for t in fake.texts_to(uid) if t in joined) for uid in parents}
        per_staff = Counter(int(r[1]) for r in rows if r[1] is not None)
        return {
            "claims": len(rows),
            "seconds": seconds,
            "claims_per_second": len(rows) / seconds,
            "double_claims": sum(max(0, c - 1) for c in told.values()),
            "parents_told_twice": sum(1 for c in told.values() if c > 1),
            "over_cap": sum(1 for c in per_staff.values() if c > cap),
        }
    finally:
        if bot is not None:
            await bot.stop()
        await db.dispose()
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


# --- report ------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return {"nproc": str(os.cpu_count()), "cpu": model, "ram": mem,
            "python": platform.python_version(), "os": platform.platform(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(m: dict[str, str], echo: Phase, pl: dict[str, Any], claims: dict[str, Any] | None,
           n: int, rate: float, screening: dict[str, float] | None = None
           ) -> tuple[str, dict[str, Any]]:
    phase: Phase = pl["phase"]
    echo_cpu = echo.cpu / max(1, len(echo.sent))
    pl_cpu = phase.cpu / max(1, len(phase.sent))
    ratio = pl_cpu / echo_cpu if echo_cpu else float("inf")
    p50 = pct(phase.latencies, 0.5) * 1000
    p99 = pct(phase.latencies, 0.99) * 1000
    c99 = pct(phase.crisis_latencies, 0.99) * 1000
    e50, e99 = pct(echo.latencies, 0.5) * 1000, pct(echo.latencies, 0.99) * 1000
    mem = pl["memory"]
    rss = mem["rss"].get("VmRSS", float("nan"))
    figures: dict[str, Any] = {
        "machine": m, "parents_per_phase": n, "rate": rate,
        "echo": {"cpu_ms_per_msg": echo_cpu * 1000, "p50_ms": e50, "p99_ms": e99,
                 "missing": echo.missing, "window_s": echo.seconds},
        "parentline": {"cpu_ms_per_msg": pl_cpu * 1000, "cpu_ratio": ratio, "p50_ms": p50,
                       "p99_ms": p99, "crisis_p99_ms": c99, "crisis_n":
                       len(phase.crisis_latencies), "missing": phase.missing,
                       "window_s": phase.seconds, "warmup_missing": pl["warmup_missing"],
                       "rss_start": pl["rss_start"], "rss_after_load": pl["rss_after_load"],
                       "memory": mem, "burst": pl["burst"]},
        "claims": claims,
        "screening": screening,
    }
    lines = [
        f"machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram']} RAM, Python {m['python']}, "
        f"{m['date']}",
        f"load: {n} distinct parents per phase at {rate:.0f} msg/s; bots poll the same fake",
        "",
        "| figure | parentline | echo bot | target | verdict |",
        "| --- | --- | --- | --- | --- |",
        f"| CPU per parent message (SQLite) | {pl_cpu * 1000:.2f} ms ({ratio:.1f}x) | "
        f"{echo_cpu * 1000:.2f} ms | {TARGETS['cpu_ratio']} | {verdict(ratio <= 2)} |",
        f"| reply latency p50 | {p50:.1f} ms | {e50:.1f} ms | | |",
        f"| reply latency p99 | {p99:.1f} ms | {e99:.1f} ms | {TARGETS['p99_ms']} | "
        f"{verdict(p99 <= 50)} |",
        f"| crisis reply p99 ({len(phase.crisis_latencies)} crises) | {c99:.1f} ms | | "
        f"{TARGETS['p99_ms']} | {verdict(c99 <= 50)} |",
        f"| resident memory, {mem['parents']} parents mid-flow | {rss:.0f} MB "
        f"(peak {mem['rss'].get('VmHWM', float('nan')):.0f} MB) | | {TARGETS['rss_mb']} | "
        f"{verdict(rss <= 200)} |",
        f"| a burst of {pl['burst']['n']} messages at once: first 10 / p50 / p99 replies | "
        f"{pl['burst']['first_10_ms']:.0f} / {pl['burst']['p50_ms']:.0f} / "
        f"{pl['burst']['p99_ms']:.0f} ms | | | |",
    ]
    if claims is not None:
        lines.append(
            f"| claims, 20 specialists, PostgreSQL | {claims['claims_per_second']:.0f} claims/s "
            f"({claims['claims']} in {claims['seconds']:.2f} s), {claims['double_claims']} "
            f"double, {claims['over_cap']} over cap | | {TARGETS['double_claims']} double | "
            f"{verdict(claims['double_claims'] == 0 and claims['over_cap'] == 0)} |")
    else:
        lines.append("| claims on PostgreSQL | skipped: no --postgres URL | | | |")
    if screening is not None:
        lines += [
            f"| screening a 4,096-character message, worst of 20 | "
            f"{screening['long_4096_max_ms']:.1f} ms (p50 {screening['long_4096_p50_ms']:.1f}"
            " ms), in a worker thread | | | |",
            f"| longest event-loop stall meanwhile (idle loop: "
            f"{screening['idle_loop_stall_ms']:.1f} ms) | "
            f"{screening['long_4096_loop_stall_ms']:.1f} ms | | a few ms | "
            f"{verdict(screening['long_4096_loop_stall_ms'] <= 10)} |",
        ]
    lines += [
        "",
        f"unanswered: parentline {phase.missing}, echo {echo.missing}, memory sample "
        f"{mem['sample_missing']}; RSS at start {pl['rss_start'].get('VmRSS', 0):.0f} MB, "
        f"after the load {pl['rss_after_load'].get('VmRSS', 0):.0f} MB; "
        f"flow states {mem['flow_states']}; memory-sample p99 {mem['sample_p99_ms']:.1f} ms",
    ]
    return "\n".join(lines), figures


def print_profile(path: Path, top: int = 25) -> None:
    if not path.exists():
        print(f"(no profile written at {path})")
        return
    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


async def main_async(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="parentline-bench-"))
    profile = Path(args.profile) / "parentline.prof" if args.profile else None
    if profile is not None:
        profile.parent.mkdir(parents=True, exist_ok=True)
    m = machine()
    print(f"working in {work}", flush=True)
    fake = FakeTelegram()
    await fake.start()
    try:
        t = time.monotonic()
        echo = await bench_echo(fake, work, args.parents, args.rate)
        print(f"echo bot done ({time.monotonic() - t:.0f}s)", flush=True)
        t = time.monotonic()
        pl = await bench_parentline(fake, work, args.parents, args.rate, args.total_parents,
                                    profile)
        print(f"parentline done ({time.monotonic() - t:.0f}s)", flush=True)
        claims = None
        if args.postgres:
            t = time.monotonic()
            claims = await bench_claims(fake, work, args.postgres)
            print(f"claims done ({time.monotonic() - t:.0f}s)", flush=True)
    finally:
        await fake.stop()
    t = time.monotonic()
    screening = await asyncio.to_thread(measure_screening)  # its own event loop
    print(f"screening done ({time.monotonic() - t:.0f}s)", flush=True)
    text, figures = report(m, echo, pl, claims, args.parents, args.rate, screening)
    print()
    print(text)
    if args.json:
        Path(args.json).write_text(  # noqa: ASYNC240 (once, after the measurements)
            json.dumps(figures, indent=2, default=str))
    if profile is not None:
        print_profile(profile)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="parentline benchmark (see module docstring)")
    parser.add_argument("--parents", type=int, default=2000, help="distinct parents per phase")
    parser.add_argument("--rate", type=float, default=200.0, help="messages a second")
    parser.add_argument("--total-parents", type=int, default=10_000,
                        help="parents in the database for the memory figure")
    parser.add_argument("--postgres", default=os.environ.get("PARENTLINE_TEST_POSTGRES_URL", ""),
                        help="PostgreSQL URL for the claim figure (a database is created)")
    parser.add_argument("--profile", default="", help="directory for a cProfile of parentline")
    parser.add_argument("--json", default="", help="also write the figures as JSON here")
    args = parser.parse_args()
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
