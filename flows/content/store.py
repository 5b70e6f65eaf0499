"""Hot reload: coordinators edit files, the running bot picks them up safely.

A broken edit must never take the line down or leave it half-updated, so a reload
builds a whole new :class:`Content` and swaps it in only when it has no errors;
otherwise the last good content stays and the problems are kept for the dashboard.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, datetime
from pathlib import Path

from flows.content.content import Content
from flows.content.loader import load_content
from flows.content.parse import content_files
from flows.content.yamlio import ContentError, Problem

log = logging.getLogger(__name__)


class ContentStore:
    """Holds the current content and reloads it on demand, on SIGHUP or on file change."""

    def __init__(self, dir: Path) -> None:
        """Load at once; a first load that fails raises :class:`ContentError`."""
        self.dir = Path(dir)
        self._stamp = self._snapshot()
        self.current: Content = load_content(self.dir)
        self.last_problems: list[Problem] = list(self.current.problems)
        self.last_reload_at: datetime = datetime.now(UTC)
        self.last_error_at: datetime | None = None

    def _snapshot(self) -> tuple[tuple[str, int, int], ...]:
        stamp = []
        for path in content_files(self.dir):
            try:
                st = path.stat()
            except FileNotFoundError:  # removed while we looked
                continue
            stamp.append((str(path), st.st_mtime_ns, st.st_size))
        return tuple(stamp)

    def reload(self) -> list[Problem]:
        """Load again; keep the last good content if the new one has errors.

        Returns the problems found (errors when it was refused, else warnings).
        """
        self._stamp = self._snapshot()
        try:
            fresh = load_content(self.dir)
        except ContentError as exc:
            self.last_problems = list(exc.problems)
            self.last_error_at = datetime.now(UTC)
            log.warning(
                "content reload refused; keeping the last good content (%d problems)",
                len(exc.problems),
            )
            for p in exc.problems:
                log.warning("%s", p)
            return self.last_problems
        except Exception:  # a bug must not stop the line: keep serving the last good content
            log.exception("content reload crashed; keeping the last good content")
            self.last_problems = [Problem(str(self.dir), 1, "reload crashed; see the logs")]
            self.last_error_at = datetime.now(UTC)
            return self.last_problems
        self.current = fresh
        self.last_problems = list(fresh.problems)
        self.last_reload_at = datetime.now(UTC)
        log.info("content reloaded (%d warnings)", len(fresh.problems))
        return self.last_problems

    def changed(self) -> bool:
        """True if any content file was added, removed or modified since the last load."""
        return self._snapshot() != self._stamp

    async def watch(self, interval: float = 2.0) -> None:
        """Poll file times every ``interval`` seconds; reload on change. Runs until cancelled."""
        while True:
            await asyncio.sleep(interval)
            if await asyncio.to_thread(self.changed):
                await asyncio.to_thread(self.reload)

    def install_sighup(self, loop: asyncio.AbstractEventLoop | None = None) -> bool:
        """Reload on SIGHUP (``kill -HUP``); returns False where signals are unsupported."""
        loop = loop or asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, self.reload)
        except (NotImplementedError, AttributeError, RuntimeError):
            return False
        return True
