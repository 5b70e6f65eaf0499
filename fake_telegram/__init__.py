"""A local fake of the Telegram Bot API for tests, the demo and the benchmark.

Speaks the real HTTP protocol (so the production PTB client is exercised
unchanged) and lets a test play the users: see ``FakeTelegram``. It imports
neither ``telegram`` nor the domain packages, only aiohttp and plain JSON.
"""

from fake_telegram.errors import ApiError
from fake_telegram.fake import DEFAULT_TOKEN, FakeTelegram
from fake_telegram.faults import FaultConfig, Faults
from fake_telegram.runner import run_fake_telegram, serve_fake_telegram

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "FakeTelegram",
    "FaultConfig",
    "Faults",
    "run_fake_telegram",
    "serve_fake_telegram",
]
