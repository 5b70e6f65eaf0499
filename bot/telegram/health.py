"""How Telegram is answering this process: the last good answer, the last poll, a 401.

Fed by the HTTP transport (:class:`~bot.telegram.aiohttp_request.AiohttpRequest` calls
:meth:`ApiHealth.observe` for every answer, with the method name and the status only) and
by the webhook (:meth:`ApiHealth.webhook_received`). ``/readyz`` and ``/metrics`` read it.

A getUpdates answered 409 "Conflict" means someone else is taking this bot's updates:
another process polling with the same token ("terminated by other getUpdates request"),
or a webhook someone set ("... while webhook is active", "terminated by setWebhook
request"). The poller reports each one (:meth:`ApiHealth.poll_conflict`) and each normal
answer (:meth:`ApiHealth.poll_answered`); the conflict is said once, in one sentence, and
/readyz fails with it while it lasts.

A 401 "Unauthorized" means Telegram no longer accepts the token (revoked in @BotFather, or
wrong): nothing the line does can succeed until an operator sets a new one, so it is said
once, loudly, in one sentence that says what to do; the line keeps trying, slowly, in case
Telegram's answer was a passing fault.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable

log = logging.getLogger(__name__)

#: Who took the updates when getUpdates answered 409 (the ``kind`` label on /metrics).
OTHER_POLLER = "other_poller"
WEBHOOK = "webhook"
CONFLICT_KINDS = (OTHER_POLLER, WEBHOOK)
OTHER_POLLER_PROBLEM = (
    "Another process is polling Telegram with this bot's token (409 Conflict: terminated "
    "by other getUpdates request), so the two take each other's updates: find it and stop "
    "it (a second `parentline run`, or an old copy still running); this line keeps polling "
    "and is ready again once it polls alone.")
WEBHOOK_PROBLEM = (
    "Someone set a webhook for this bot while this line polls (409 Conflict: webhook is "
    "active), so Telegram sends the updates there and this line will not delete it: remove "
    "it with deleteWebhook if no other line of yours uses it, and polling resumes by itself.")
# One 409 is what a restart leaves (the old process's last poll overlapping the new
# one's); two within a minute mean two processes are polling. Real Telegram answers at
# most one such 409 every 3 s (Client.cpp fail_query_conflict), so two pollers reach two
# in a few seconds.
CONFLICT_THRESHOLD = 2
CONFLICT_WINDOW = 60.0
# Over once no 409 came for this long and a poll has answered normally since: shorter
# than one 25 s long poll, so a whole undisturbed poll is enough.
CONFLICT_QUIET = 20.0

TOKEN_REJECTED = ("Telegram rejects the bot token (401 Unauthorized): it was revoked or is "
                  "wrong, so set PARENTLINE_TELEGRAM_TOKEN to a new token from @BotFather "
                  "and restart the line.")


def token_rejected_retry(seconds: float) -> str:
    """The poller's line for each slow retry, still one sentence."""
    return (TOKEN_REJECTED.removesuffix(".").replace(": it was revoked or is wrong, so", ", so")
            + f" (polling again in {seconds:.0f} s).")


class ApiHealth:
    """Wall-clock times (``time.time()``) of what last went right, whether a 401 came, and
    getUpdates conflicts (timed on ``clock``)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """``clock`` times the poll conflicts (a test moves it on instead of sleeping)."""
        self.last_answer: float | None = None  # any HTTP answer at all
        self.last_success: float | None = None  # any 2xx answer from the Bot API
        self.last_poll: float | None = None  # a getUpdates that answered 2xx
        self.last_webhook: float | None = None  # an update Telegram delivered and we stored
        self.token_rejected_since: float | None = None
        self.rejections = 0
        #: Update ids Telegram skipped between polls: updates lost unfetched (polling).
        self.missed_updates = 0
        self.clock = clock
        self.conflicts: Counter[str] = Counter()  # getUpdates 409s by kind, since start
        self.other_poller_since: float | None = None  # on ``clock``
        self.webhook_conflict_since: float | None = None
        self._recent_conflicts: deque[float] = deque()  # other-poller 409s in the window
        self._answered_since_conflict = False

    @property
    def token_rejected(self) -> bool:
        return self.token_rejected_since is not None

    def observe(self, method: str, status: int) -> None:
        """One HTTP answer from the Bot API (the method name, never the URL: the token)."""
        now = time.time()
        self.last_answer = now
        if status == 401:
            self.rejections += 1
            if self.token_rejected_since is None:
                self.token_rejected_since = now
                log.error(TOKEN_REJECTED)
            return
        if 200 <= status < 300:
            self.last_success = now
            if method == "getUpdates":
                self.last_poll = now
        if status < 500 and status != 404 and self.token_rejected_since is not None:
            # Telegram read the token and answered on its merits: it is accepted again.
            self.token_rejected_since = None
            log.warning("Telegram accepts the bot token again")

    def updates_missed(self, count: int) -> None:
        """The poller saw ``count`` update ids that will never come."""
        self.missed_updates += count

    def webhook_received(self) -> None:
        self.last_webhook = time.time()

    # --- getUpdates conflicts -------------------------------------------------------------

    def poll_conflict(self, kind: str) -> None:
        """getUpdates answered 409; ``kind`` is :data:`OTHER_POLLER` or :data:`WEBHOOK`."""
        now = self.clock()
        self.conflicts[kind] += 1
        self._answered_since_conflict = False
        if kind == WEBHOOK:  # a fact, not a race: at once
            if self.webhook_conflict_since is None:
                self.webhook_conflict_since = now
                log.warning(WEBHOOK_PROBLEM)
            return
        recent = self._recent_conflicts
        recent.append(now)
        while recent and recent[0] < now - CONFLICT_WINDOW:
            recent.popleft()
        if self.other_poller_since is None and len(recent) >= CONFLICT_THRESHOLD:
            self.other_poller_since = now
            log.warning(OTHER_POLLER_PROBLEM)

    def poll_answered(self) -> None:
        """getUpdates answered normally: a webhook conflict is over (getUpdates works only
        without one); another poller's once it has been quiet long enough."""
        self._answered_since_conflict = True
        if self.webhook_conflict_since is not None:
            self.webhook_conflict_since = None
            log.warning("Polling Telegram again: the webhook is gone")
        self._other_poller_gone()

    def poll_conflict_now(self, kind: str) -> bool:
        """Whether that conflict lasts (what /readyz and the gauge show)."""
        if kind == WEBHOOK:
            return self.webhook_conflict_since is not None
        self._other_poller_gone()
        return self.other_poller_since is not None

    def _other_poller_gone(self) -> None:
        if self.other_poller_since is None or not self._answered_since_conflict:
            return
        last = self._recent_conflicts[-1] if self._recent_conflicts else self.other_poller_since
        if self.clock() - last >= CONFLICT_QUIET:
            self.other_poller_since = None
            self._recent_conflicts.clear()
            log.warning("Polling Telegram alone again: no other getUpdates for %.0f s",
                        CONFLICT_QUIET)

    def problem(self) -> str | None:
        """The reason /readyz gives (the most urgent), or None."""
        if self.token_rejected:
            return TOKEN_REJECTED
        if self.poll_conflict_now(WEBHOOK):
            return WEBHOOK_PROBLEM
        if self.poll_conflict_now(OTHER_POLLER):
            return OTHER_POLLER_PROBLEM
        return None
