"""Standalone use: ``python -m fake_telegram --port 8081``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Any

from fake_telegram.fake import DEFAULT_TOKEN, FakeTelegram


async def serve_fake_telegram(
    host: str = "127.0.0.1",
    port: int = 8081,
    *,
    ready: asyncio.Event | None = None,
    **options: Any,
) -> None:
    """Run a fake until cancelled; prints where it listens (the demo reads that line)."""
    fake = FakeTelegram(host=host, port=port, **options)
    await fake.start()
    print(
        f"fake Telegram Bot API at {fake.url} (token {fake.token}); "
        f"PARENTLINE_TELEGRAM_API_URL={fake.api_root}",
        flush=True,
    )
    if ready is not None:
        ready.set()
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def run_fake_telegram(host: str = "127.0.0.1", port: int = 8081, **options: Any) -> None:
    """Blocking entry point; Ctrl-C stops it."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_fake_telegram(host, port, **options))


def main(argv: list[str] | None = None) -> None:
    """Command line: host, port, token, bot username, fault seed."""
    parser = argparse.ArgumentParser(description="Local fake Telegram Bot API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--bot-username", default="parentline_test_bot")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    run_fake_telegram(
        args.host, args.port, token=args.token, bot_username=args.bot_username, seed=args.seed
    )
