"""Fault injection and Telegram's flood limits, so the bot's resilience can be tested.

Two kinds of trouble are modelled:

* random faults from a seeded RNG (a run can be reproduced from its seed):
  a dropped connection before the method runs, a dropped connection *after*
  it ran (the bot cannot know the message went out: the source of duplicates
  when it retries), 429 with a small ``retry_after``, and 502;
* flood control as Telegram documents it: about one message a second per
  private chat with short bursts tolerated, 20 a minute per group, 30 a
  second overall. Exceeding it answers 429 with the wait until a slot frees.

Every injected fault is counted, so a test can assert that the bot really met
the trouble it claims to survive.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from fake_telegram.errors import ApiError, bad_gateway, too_many_requests

#: Methods that put something in a chat; random faults can be limited to these.
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "copyMessage",
        "forwardMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "deleteMessage",
        "answerCallbackQuery",
        "sendChatAction",
        "sendPhoto",
        "sendDocument",
        "sendVoice",
        "sendVideo",
        "sendAudio",
        "sendSticker",
        "sendVideoNote",
        "leaveChat",
    }
)
#: Methods that count against Telegram's flood limits (sends and edits share them).
RATE_LIMITED_METHODS = frozenset(
    {
        "sendMessage",
        "copyMessage",
        "forwardMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "sendPhoto",
        "sendDocument",
        "sendVoice",
        "sendVideo",
        "sendAudio",
        "sendSticker",
        "sendVideoNote",
    }
)

Drop = Literal["drop", "drop_after"]


@dataclass
class FaultConfig:
    """Probabilities (0..1) per request, and the flood-limit switch and shape."""

    drop: float = 0.0
    drop_after: float = 0.0
    retry_after: float = 0.0
    bad_gateway: float = 0.0
    retry_after_seconds: int = 1
    send_only: bool = True
    rate_limits: bool = False
    private_per_second: float = 1.0
    private_burst: int = 4
    group_per_minute: int = 20
    global_per_second: int = 30


class TokenBucket:
    """``capacity`` requests at once, refilled at ``rate`` per second."""

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.updated = now

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        """Spend a token; call only after ``wait`` returned 0."""
        self.tokens -= 1


@dataclass
class Decision:
    """What to do with one request: nothing, an error answer, or a dropped connection."""

    error: ApiError | None = None
    drop: Drop | None = None


class Faults:
    """Decides, request by request, whether trouble happens; counts what it injected."""

    def __init__(self, seed: int = 0, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = FaultConfig()
        self.seed = seed
        self.rng = random.Random(seed)
        self.clock = clock
        self.counters: Counter[str] = Counter()
        self._buckets: dict[tuple[str, Any], TokenBucket] = {}

    def configure(self, *, seed: int | None = None, **options: Any) -> FaultConfig:
        """Change options by name (see ``FaultConfig``); a new ``seed`` restarts the RNG."""
        known = {f.name for f in fields(FaultConfig)}
        unknown = set(options) - known
        if unknown:
            raise ValueError(f"unknown fault options {sorted(unknown)}; known: {sorted(known)}")
        for key, value in options.items():
            setattr(self.config, key, value)
        if seed is not None:
            self.seed = seed
            self.rng = random.Random(seed)
        self._buckets.clear()
        return self.config

    def reset(self) -> None:
        """No faults, no limits, counters zeroed, RNG back to its seed."""
        self.config = FaultConfig()
        self.rng = random.Random(self.seed)
        self.counters.clear()
        self._buckets.clear()

    def as_dict(self) -> dict[str, Any]:
        """Config, seed and counters for the control API."""
        return {"seed": self.seed, "config": asdict(self.config), "counters": dict(self.counters)}

    def decide(self, method: str, chat_id: Any) -> Decision:
        """Roll the dice for one request, then apply flood limits."""
        cfg = self.config
        if not cfg.send_only or method in SEND_METHODS:
            roll = self.rng.random()
            for name, probability in (
                ("drop", cfg.drop),
                ("drop_after", cfg.drop_after),
                ("retry_after", cfg.retry_after),
                ("bad_gateway", cfg.bad_gateway),
            ):
                if roll < probability:
                    self.counters[name] += 1
                    if name == "retry_after":
                        return Decision(error=too_many_requests(cfg.retry_after_seconds))
                    if name == "bad_gateway":
                        return Decision(error=bad_gateway())
                    return Decision(drop="drop" if name == "drop" else "drop_after")
                roll -= probability
        if cfg.rate_limits and method in RATE_LIMITED_METHODS and chat_id is not None:
            error = self._flood_check(chat_id)
            if error is not None:
                return Decision(error=error)
        return Decision()

    def _flood_check(self, chat_id: Any) -> ApiError | None:
        cfg = self.config
        now = self.clock()
        is_group = not isinstance(chat_id, int) or chat_id < 0
        scope = ("group", chat_id) if is_group else ("private", chat_id)
        if is_group:
            shape = (float(cfg.group_per_minute), cfg.group_per_minute / 60.0)
        else:
            shape = (float(cfg.private_burst), cfg.private_per_second)
        chat_bucket = self._bucket(scope, shape, now)
        global_bucket = self._bucket(
            ("global", None), (float(cfg.global_per_second), float(cfg.global_per_second)), now
        )
        for name, bucket in (
            (f"rate_limited_{scope[0]}", chat_bucket),
            ("rate_limited_global", global_bucket),
        ):
            wait = bucket.wait(now)
            if wait > 0:
                self.counters[name] += 1
                return too_many_requests(max(1, math.ceil(wait)))
        chat_bucket.take()
        global_bucket.take()
        return None

    def _bucket(self, key: tuple[str, Any], shape: tuple[float, float], now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(shape[0], shape[1], now)
        return bucket


def duplicates(
    messages: Iterable[dict[str, Any]], marker: str | None = None
) -> dict[tuple[int, str], int]:
    """Texts the bot sent more than once to the same chat, with their counts.

    Meant for relay tests: a relayed message carries a marker (e.g. a request
    id or a unique phrase); seeing it twice in one chat means a retry after a
    lost response produced a duplicate. Deleted messages are ignored.
    """
    seen: Counter[tuple[int, str]] = Counter()
    for msg in messages:
        text = msg.get("text")
        if msg.get("deleted") or not text or (marker is not None and marker not in text):
            continue
        seen[(int(msg["chat_id"]), text)] += 1
    return {key: count for key, count in seen.items() if count > 1}
