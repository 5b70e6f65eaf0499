"""Screening cost, in one process: what the rules and the risk model add per message.

``python bench/screening.py`` prints the time to load rules and model, the memory the
model adds, and per-message screening time (this message, then the window of the last
few) at p50 / p99 / max over the corpus messages, and for the worst case the line can
receive: a 4,096-character message. No targets are asserted here; ``bench/run.py``
prints this beside the whole-line figures (target: p99 <= 5 ms a message).
"""

from __future__ import annotations

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
        start = time.perf_counter()
        safety.assess(text, "en")
        window = ask.push(window, text, now)
        safety.assess_window(ask.texts(window), "en")
        times.append((time.perf_counter() - start) * 1000)
    long_text = " ".join(texts)[:4096]
    long_times = []
    for _ in range(20):
        start = time.perf_counter()
        safety.assess(long_text, "en")
        long_times.append((time.perf_counter() - start) * 1000)
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
    }


def main() -> int:
    m = measure()
    print(f"screening: rules load {m['rules_load_ms']:.0f} ms, model load "
          f"{m['model_load_ms']:.0f} ms and {m['model_rss_mb']:.0f} MB (with the rules)")
    print(f"screening per message (message + window, {m['messages']:.0f} corpus messages): "
          f"p50 {m['p50_ms']:.2f} ms, p99 {m['p99_ms']:.2f} ms, max {m['max_ms']:.2f} ms "
          "(target p99 <= 5 ms)")
    print(f"screening a 4,096-character message: p50 {m['long_4096_p50_ms']:.1f} ms, "
          f"worst {m['long_4096_max_ms']:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
