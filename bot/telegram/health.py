"""How Telegram is answering this process: the last good answer, the last poll, a 401.

Fed by the HTTP transport (:class:`~bot.telegram.aiohttp_request.AiohttpRequest` calls
:meth:`ApiHealth.observe` for every answer, with the method name and the status only) and
by the webhook (:meth:`ApiHealth.webhook_received`). ``/readyz`` and ``/metrics`` read it.

A 401 "Unauthorized" means Telegram no longer accepts the token (revoked in @BotFather, or
wrong): nothing the line does can succeed until an operator sets a new one, so it is said
once, loudly, in one sentence that says what to do; the line keeps trying, slowly, in case
Telegram's answer was a passing fault.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)

TOKEN_REJECTED = ("Telegram rejects the bot token (401 Unauthorized): it was revoked or is "
                  "wrong, so set PARENTLINE_TELEGRAM_TOKEN to a new token from @BotFather "
                  "and restart the line.")


def token_rejected_retry(seconds: float) -> str:
    """The poller's line for each slow retry, still one sentence."""
    return (TOKEN_REJECTED.removesuffix(".").replace(": it was revoked or is wrong, so", ", so")
            + f" (polling again in {seconds:.0f} s).")


class ApiHealth:
    """Wall-clock times (``time.time()``) of what last went right, and whether a 401 came."""

    def __init__(self) -> None:
        self.last_answer: float | None = None  # any HTTP answer at all
        self.last_success: float | None = None  # any 2xx answer from the Bot API
        self.last_poll: float | None = None  # a getUpdates that answered 2xx
        self.last_webhook: float | None = None  # an update Telegram delivered and we stored
        self.token_rejected_since: float | None = None
        self.rejections = 0
        #: Update ids Telegram skipped between polls: updates lost unfetched (polling).
        self.missed_updates = 0

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

    def problem(self) -> str | None:
        """The reason /readyz gives, or None."""
        return TOKEN_REJECTED if self.token_rejected else None
