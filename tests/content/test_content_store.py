"""Hot reload keeps the last good content when a coordinator's edit breaks a file."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from flows.content import ContentError, ContentStore

SHIPPED = Path(__file__).resolve().parents[2] / "content"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    dest = tmp_path / "content"
    shutil.copytree(SHIPPED, dest)
    return dest


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    # Make the change visible to an mtime poll even on coarse-grained file systems.
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def test_first_load_failure_raises(root: Path) -> None:
    (root / "hours.yaml").unlink()
    with pytest.raises(ContentError):
        ContentStore(root)


def test_broken_edit_keeps_last_good_and_fixed_edit_is_picked_up(root: Path) -> None:
    store = ContentStore(root)
    good = store.current
    assert store.last_error_at is None
    loaded_at = store.last_reload_at
    common = root / "texts" / "en" / "common.yaml"

    edit(root / "resources" / "national.yaml", '"1-800-950-6264"', '"1-800-95"')
    problems = store.reload()
    assert store.current is good
    assert any('phone "1-800-95" is not a phone number' in p.message for p in problems)
    assert store.last_problems == problems
    assert store.last_error_at is not None
    assert store.last_reload_at == loaded_at

    edit(root / "resources" / "national.yaml", '"1-800-95"', '"1-800-950-6264"')
    edit(common, "Sorry — something", "So sorry — something")
    assert [p for p in store.reload() if p.severity == "error"] == []
    assert store.current is not good
    assert store.current.text("common.fallback_error", "en").startswith("So sorry")
    assert store.last_reload_at > loaded_at


def test_warnings_do_not_block_a_reload(root: Path) -> None:
    store = ContentStore(root)
    edit(root / "texts" / "es" / "common.yaml", "slow_down:", "# slow_down:")
    problems = store.reload()
    assert problems and all(p.severity == "warning" for p in problems)
    assert not store.current.has_text("common.slow_down", "es")
    assert store.current.text("common.slow_down", "es").startswith("I'm still reading")


async def test_watch_picks_up_changed_files(root: Path) -> None:
    store = ContentStore(root)
    good = store.current
    task = asyncio.create_task(store.watch(interval=0.05))
    try:
        edit(root / "texts" / "en" / "common.yaml", "Sorry — something", "Oh no — something")
        for _ in range(100):
            await asyncio.sleep(0.05)
            if store.current is not good:
                break
        assert store.current.text("common.fallback_error", "en").startswith("Oh no")
        # A broken file is noticed but refused.
        current = store.current
        edit(root / "hours.yaml", "timezone: America/Los_Angeles", "timezone: Mars/Olympus")
        for _ in range(100):
            await asyncio.sleep(0.05)
            if store.last_error_at is not None:
                break
        assert store.current is current
        assert any("Mars/Olympus" in p.message for p in store.last_problems)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
