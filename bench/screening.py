"""Screening cost, in one process: what the rules and the risk model add per message.

``python bench/screening.py`` prints the time to load rules and model, the memory the
model adds, and per-message screening time (this message, then the window of the last
few) at p50 / p99 / max over the corpus messages, and for the worst case the line can
receive: a 4,096-character message (20 different ones, the worst of them printed), and
the event loop's longest stall while those are screened in a worker thread as the line
does (``bot/app/processor.py``, ``prescreen``). No targets are asserted here;
``bench/run.py`` prints this beside the whole-line figures (target: p99 <= 5 ms a
message, and a stall of a few milliseconds at most).
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure() -> dict[str, float]:
    before = rss_mb()
    t0 = time.perf_counter()
    from flows import safety
    from flows.safety import ask

    safety.active_rules()
    t1 = time.perf_counter()
    safety.active_model()
    t2 = time.perf_counter()
    after = rss_mb()
    texts: list[str] = []
    for path in sorted((REPO / "content" / "safety" / "corpus").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if "text" in row:
                texts.append(str(row["text"]))
    window: list[list[str]] = []
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    times: list[float] = []
    for text in texts:
        safety.forget_screened()  # measure screening, not the line's memo of answers
        start = time.perf_counter()
        safety.assess(text, "en")
        window = ask.push(window, text, now)
        safety.assess_window(ask.texts(window), "en")
        times.append((time.perf_counter() - start) * 1000)
    # Corpus messages run together (crisis words throughout: the rules' worst case), from
    # 20 different starting points so no two are alike.
    joined = " ".join(texts)
    step = max(1, (len(joined) - 4096) // 20)
    long_texts = [joined[i * step : i * step + 4096] for i in range(20)]
    long_times = []
    for long_text in long_texts:
        safety.forget_screened()
        start = time.perf_counter()
        safety.assess(long_text, "en")
        long_times.append((time.perf_counter() - start) * 1000)
    safety.forget_screened()
    from bot.app.processor import GIL_SWITCH_SECONDS

    default_switch = sys.getswitchinterval()
    stall_default = asyncio.run(_loop_stall(long_texts))
    sys.setswitchinterval(GIL_SWITCH_SECONDS)  # as the line sets it at start-up
    try:
        safety.forget_screened()
        stall = asyncio.run(_loop_stall(long_texts))
        idle_stall = asyncio.run(_loop_stall([]))
    finally:
        sys.setswitchinterval(default_switch)
    return {
        "rules_load_ms": (t1 - t0) * 1000,
        "model_load_ms": (t2 - t1) * 1000,
        "model_rss_mb": after - before,
        "messages": len(times),
        "p50_ms": pct(times, 0.5),
        "p99_ms": pct(times, 0.99),
        "max_ms": max(times),
        "long_4096_p50_ms": pct(long_times, 0.5),
        "long_4096_max_ms": max(long_times),
        "long_4096_loop_stall_ms": stall,
        "long_4096_loop_stall_default_switch_ms": stall_default,
        "idle_loop_stall_ms": idle_stall,
    }


async def _loop_stall(long_texts: list[str]) -> float:
    """The longest the event loop went without running while ``long_texts`` were screened
    in a worker thread (the line's ``prescreen``), in milliseconds."""
    from flows import safety

    loop = asyncio.get_running_loop()
    worst = 0.0
    done = False

    async def ticker() -> None:
        nonlocal worst
        last = loop.time()
        while not done:
            await asyncio.sleep(0.0005)
            now = loop.time()
            worst = max(worst, now - last)
            last = now

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    if long_texts:
        for text in long_texts:
            await asyncio.to_thread(safety.prescreen, [text])
    else:
        await asyncio.sleep(0.5)  # the baseline: what the machine itself adds
    done = True
    await tick
    return worst * 1000


def main() -> int:
    m = measure()
    print(f"screening: rules load {m['rules_load_ms']:.0f} ms, model load "
          f"{m['model_load_ms']:.0f} ms and {m['model_rss_mb']:.0f} MB (with the rules)")
    print(f"screening per message (message + window, {m['messages']:.0f} corpus messages): "
          f"p50 {m['p50_ms']:.2f} ms, p99 {m['p99_ms']:.2f} ms, max {m['max_ms']:.2f} ms "
          "(target p99 <= 5 ms)")
    print(f"screening a 4,096-character message: p50 {m['long_4096_p50_ms']:.1f} ms, "
          f"worst {m['long_4096_max_ms']:.1f} ms; longest event-loop stall while screened in "
          f"a worker thread {m['long_4096_loop_stall_ms']:.1f} ms (with CPython's default GIL "
          f"switch of 5 ms: {m['long_4096_loop_stall_default_switch_ms']:.1f} ms; idle loop on "
          f"this machine: {m['idle_loop_stall_ms']:.1f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
