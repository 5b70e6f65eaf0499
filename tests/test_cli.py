"""The command line as an operator or coordinator meets it (real subprocesses)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, env: dict[str, str] | None = None,
        cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PARENTLINE_")}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True,
                          text=True, env={**base, **(env or {})}, cwd=cwd, timeout=120)


def test_missing_token_is_explained_not_a_traceback() -> None:
    res = run("run")
    assert res.returncode == 2
    assert "BotFather" in res.stderr and "parentline demo" in res.stderr
    assert "Traceback" not in res.stderr


def test_config_check_names_unknown_variables_and_explains_bad_values(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PARENTLINE_RETENTION_DAYZ=7\nPARENTLINE_WORKERS=0\n")
    res = run("config", "check", cwd=tmp_path,
              env={"PARENTLINE_TELEGRAM_TOKN": "1:x", "PARENTLINE_WEB_PORT": "80a"})
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    assert 'PARENTLINE_WEB_PORT="80a" is not a whole number.' in lines
    assert 'PARENTLINE_WORKERS="0" must be at least 1.' in lines  # from .env
    assert ("PARENTLINE_TELEGRAM_TOKN (in the environment) is not a setting and is ignored; "
            "did you mean PARENTLINE_TELEGRAM_TOKEN?") in lines
    assert ("PARENTLINE_RETENTION_DAYZ (in .env) is not a setting and is ignored; "
            "did you mean PARENTLINE_RETENTION_DAYS?") in lines
    assert "2 bad value(s), 2 unknown variable(s)." in lines
    assert "Traceback" not in res.stdout + res.stderr


def test_config_check_passes_and_ignores_the_scripts_variables(tmp_path: Path) -> None:
    res = run("config", "check", cwd=tmp_path,
              env={"PARENTLINE_VENV": ".venv", "PARENTLINE_TEST_POSTGRES_URL": "postgresql://x",
                   "PARENTLINE_WEB_PORT": "8081"})
    assert res.returncode == 0, res.stdout
    assert res.stdout.splitlines()[-1] == "config OK"
    assert "PARENTLINE_TELEGRAM_TOKEN is not set" in res.stdout


def test_bad_value_at_run_is_one_sentence_not_a_traceback() -> None:
    res = run("run", env={"PARENTLINE_TELEGRAM_TOKEN": "1:x", "PARENTLINE_ASSIGNMENT_MODE": "both"})
    assert res.returncode == 2
    first = res.stderr.splitlines()[0]
    assert first == "PARENTLINE_ASSIGNMENT_MODE=\"both\" must be 'pull' or 'push'."
    assert "Traceback" not in res.stderr


def test_content_check_passes_on_shipped_content() -> None:
    res = run("content", "check")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "content OK" in res.stdout


def test_content_check_names_the_file_and_line(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(REPO / "content", content)
    national = content / "resources" / "national.yaml"
    lines = national.read_text().splitlines()
    i = next(n for n, line in enumerate(lines) if "1-800-222-1222" in line)
    lines[i] = lines[i].replace("1-800-222-1222", "555-12")
    national.write_text("\n".join(lines) + "\n")
    res = run("content", "check", str(content))
    assert res.returncode == 1
    assert f"resources/national.yaml:{i + 1}:" in res.stdout
    assert '"555-12" is not a phone number' in res.stdout


def test_staff_roster_round_trip(tmp_path: Path) -> None:
    env = {"PARENTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"}
    res = run("staff", "add", "4242", "--name", "Maria", "--languages", "en,es",
              "--experience", "child-welfare,kinship", env=env)
    assert res.returncode == 0, res.stderr
    listed = run("staff", "list", env=env)
    assert "4242" in listed.stdout and "Maria" in listed.stdout and "en,es" in listed.stdout
    bad = run("staff", "add", "4243", "--name", "X", "--experience", "astrology", env=env)
    assert bad.returncode == 1 and "astrology" in bad.stderr
    assert run("staff", "remove", "4242", env=env).returncode == 0
    assert run("staff", "remove", "4242", env=env).returncode == 1


def test_safety_eval_prints_recall_and_misses() -> None:
    res = run("safety", "eval", "tests/safety/data/crisis_heldout.jsonl")
    assert "recall" in res.stdout.lower()
    assert res.returncode in (0, 1)


def test_flows_diagram_matches_the_committed_one(tmp_path: Path) -> None:
    res = run("flows", "diagram", "--out", str(tmp_path))
    assert res.returncode == 0
    written = tmp_path / "parent.mmd"
    assert written.read_text() == (REPO / "docs" / "flows" / "parent.mmd").read_text()


def test_run_refuses_to_start_without_its_own_secret_key(tmp_path: Path) -> None:
    res = run("run", cwd=tmp_path, env={"PARENTLINE_TELEGRAM_TOKEN": "1:x"})
    assert res.returncode == 2
    assert "PARENTLINE_SECRET_KEY is not set" in res.stderr
    assert "secrets.token_urlsafe(32)" in res.stderr and "Traceback" not in res.stderr
    res = run("run", cwd=tmp_path, env={"PARENTLINE_TELEGRAM_TOKEN": "1:x",
                                        "PARENTLINE_SECRET_KEY": "1:x"})
    assert res.returncode == 2 and "must not be the bot token" in res.stderr


def test_config_check_explains_the_secret_key(tmp_path: Path) -> None:
    res = run("config", "check", cwd=tmp_path, env={"PARENTLINE_TELEGRAM_TOKEN": "1:x"})
    assert "note: PARENTLINE_SECRET_KEY is not set" in res.stdout
    assert "secrets.token_urlsafe(32)" in res.stdout and "refuses to start" in res.stdout
    res = run("config", "check", cwd=tmp_path, env={"PARENTLINE_TELEGRAM_TOKEN": "1:x",
                                                    "PARENTLINE_SECRET_KEY": "short"})
    assert "note: PARENTLINE_SECRET_KEY has 5 characters" in res.stdout
    res = run("config", "check", cwd=tmp_path, env={"PARENTLINE_TELEGRAM_TOKEN": "1:x",
                                                    "PARENTLINE_SECRET_KEY": "k" * 43})
    assert "SECRET_KEY" not in res.stdout and res.stdout.splitlines()[-1] == "config OK"


def test_the_runtime_refuses_a_missing_key_and_the_demo_makes_its_own() -> None:
    from bot.app.runtime import LineRuntime
    from core.config import Settings, SettingsError

    with pytest.raises(SettingsError, match="PARENTLINE_SECRET_KEY is not set"):
        LineRuntime(Settings(_env_file=None, telegram_token="1:x"))
    with pytest.raises(SettingsError):
        Settings(_env_file=None, telegram_token="1:x").secret  # noqa: B018
    one = Settings(_env_file=None, telegram_token="1:x", demo=True)
    two = Settings(_env_file=None, telegram_token="1:x", demo=True)
    assert len(one.secret_key) >= 32 and one.secret == one.secret != two.secret
    # the old key derived from the token is gone
    assert one.secret != hashlib.sha256(b"parentline:1:x").digest()


def test_content_show_topic_lists_what_a_parent_would_be_offered() -> None:
    tantrums = run("content", "show-topic", "tantrums")
    assert tantrums.returncode == 0, tantrums.stderr
    out = tantrums.stdout
    assert "1. national-parent-helpline" in out
    assert "childhelp" not in out and "[safety line]" not in out
    assert "default lived experience: -" in out
    cps = run("content", "show-topic", "cw-investigation", "--lang", "es", "--region", "78701")
    assert cps.returncode == 0, cps.stderr
    assert "default lived experience: child-welfare" in cps.stdout
    assert "; es; Travis, TX, 78701)" in cps.stdout
    exes = run("content", "show-topic", "co-parenting", "--lang", "es")
    assert "dv-hotline [safety line]" in exes.stdout
    assert "Línea Nacional sobre la Violencia Doméstica" in exes.stdout
    unknown = run("content", "show-topic", "tantrum")
    assert unknown.returncode == 1 and "tantrums" in unknown.stderr


def test_staff_experience_is_validated_against_content_and_can_be_edited(tmp_path: Path) -> None:
    env = {"PARENTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    assert run("staff", "add", "4250", "--name", "Rosa", "--experience", "iep", env=env
               ).returncode == 0
    edited = run("staff", "experience", "4250", "child-welfare,hospitalization", env=env)
    assert edited.returncode == 0, edited.stderr
    assert "child-welfare,hospitalization" in run("staff", "list", env=env).stdout
    bad = run("staff", "experience", "4250", "cw-investigation", env=env)
    assert bad.returncode == 1 and "cw-investigation" in bad.stderr
    assert "child-welfare" in bad.stderr  # the known tags are listed
    assert run("staff", "experience", "4999", "iep", env=env).returncode == 1
def test_staff_remove_sends_their_parent_back_to_the_queue_and_tells_them(
        tmp_path: Path) -> None:
    import asyncio
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from core.storage.db import Database
    from core.storage.migrate import upgrade
    from core.storage.models import Conversation, OutboxRow, Parent, Staff
    from flows.content import load_content
    from handoff import roster

    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    now = datetime.now(UTC)

    async def seed() -> None:
        db = Database(url)
        await upgrade(db)
        async with db.tx() as s:
            await roster.add_staff(s, 4242, "Maria", "specialist", ["en"], 3, [], now)
            s.add(Parent(id=1, pseudonym="K7Q2", tg_user_id=9001, chat_id=9001, lang="es",
                         created_at=now, last_seen_at=now))
            await s.flush()
            s.add(Conversation(parent_id=1, status="active", priority="normal", lang="es",
                               queued_at=now - timedelta(minutes=9), claimed_at=now,
                               specialist_id=4242))
        await db.dispose()

    async def after() -> tuple[Staff | None, Conversation | None, list[OutboxRow]]:
        db = Database(url)
        async with db.read() as s:
            out = (await s.get(Staff, 4242), await s.scalar(select(Conversation)),
                   list(await s.scalars(select(OutboxRow).order_by(OutboxRow.id))))
        await db.dispose()
        return out

    asyncio.run(seed())
    env = {"PARENTLINE_DATABASE_URL": url}
    refused = run("staff", "remove", "4242", env=env)  # no key: the Leave button needs it
    assert refused.returncode == 1 and "PARENTLINE_SECRET_KEY" in refused.stderr
    staff, conv, sent = asyncio.run(after())
    assert staff is not None and conv is not None and conv.status == "active" and not sent

    res = run("staff", "remove", "4242", env={**env, "PARENTLINE_SECRET_KEY": "k" * 32})
    assert res.returncode == 0, res.stderr
    assert "1 conversation(s) back at the front of the queue" in res.stdout
    staff, conv, sent = asyncio.run(after())
    assert staff is None and conv is not None
    assert (conv.status, conv.specialist_id, conv.front_of_queue) == ("queued", None, True)
    texts = {row.chat_id: (row.params or {}).get("text", "") for row in sent}
    content = load_content(REPO / "content")
    assert texts[9001] == content.text("handoff.back_in_queue", "es", position=1, minutes="?")
    assert texts[4242] == content.text("staff.removed_from_roster", "en", count=1)
