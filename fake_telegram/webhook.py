"""Webhook delivery: POST each pending update to the registered URL, retrying like Telegram.

An update leaves the queue only after a 2xx answer. With one worker
(the default) delivery is strictly sequential and a failing update blocks
the ones behind it, which is the simplest faithful model. More workers
deliver in parallel (Telegram opens up to ``max_connections``), which is how
a test provokes out-of-order arrival.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp

from fake_telegram.state import World


class WebhookDeliverer:
    """Background workers pushing ``world.pending`` to ``world.webhook.url``."""

    def __init__(
        self,
        world: World,
        *,
        concurrency: int = 1,
        retry_delay: float = 0.05,
        max_retry_delay: float = 1.0,
        timeout: float = 10.0,
    ) -> None:
        self.world = world
        self.concurrency = concurrency
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.timeout = timeout
        self.in_flight: set[int] = set()
        self.log: list[dict[str, Any]] = []
        self.delivered = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None
        self._stopping = False

    async def start(self) -> None:
        """Start the workers (idempotent)."""
        if self._tasks:
            return
        self._stopping = False
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout), trust_env=False
        )
        self._tasks = [
            asyncio.create_task(self._worker(), name=f"fake-telegram-webhook-{i}")
            for i in range(self.concurrency)
        ]

    async def stop(self) -> None:
        """Cancel the workers and close the HTTP session."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._session is not None:
            await self._session.close()
            self._session = None

    def reset(self) -> None:
        """Forget delivery history (the world's queue is reset separately)."""
        self.in_flight.clear()
        self.log.clear()
        self.delivered = 0

    def _claim(self) -> dict[str, Any] | None:
        hook = self.world.webhook
        if not hook.url or len(self.in_flight) >= max(1, hook.max_connections):
            return None
        self.world.expire()  # an update past its lifetime is dropped, not delivered
        for update in self.world.pending:
            if update["update_id"] not in self.in_flight:
                self.in_flight.add(update["update_id"])
                return update
        return None

    async def _worker(self) -> None:
        delay = self.retry_delay
        while not self._stopping:
            update = self._claim()
            if update is None:
                await self.world.wait_changed(1.0)
                continue
            update_id = update["update_id"]
            try:
                error = await self._post(update)
            finally:
                self.in_flight.discard(update_id)
            if error is None:
                self.world.pending = [u for u in self.world.pending if u is not update]
                self.delivered += 1
                delay = self.retry_delay
                self.world.notify()
            else:
                self.world.webhook.last_error_date = int(self.world.now())
                self.world.webhook.last_error_message = error
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_retry_delay)

    async def _post(self, update: dict[str, Any]) -> str | None:
        """Deliver one update; the error text as getWebhookInfo would show it, or None."""
        hook = self.world.webhook
        assert self._session is not None
        headers = (
            {"X-Telegram-Bot-Api-Secret-Token": hook.secret_token} if hook.secret_token else {}
        )
        status: int | None = None
        error: str | None
        try:
            async with self._session.post(hook.url, json=update, headers=headers) as response:
                status = response.status
                await response.read()
            error = (
                None
                if 200 <= status < 300
                else f"Wrong response from the webhook: {status} {response.reason}"
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = f"Connection failed: {type(exc).__name__}"
        self.log.append(
            {"update_id": update["update_id"], "status": status, "error": error,
             "ts": self.world.now()}
        )
        return error
