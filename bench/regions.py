"""What the offline place lookup costs: load time, memory and per-lookup time.

``python bench/regions.py`` prints, in a fresh process: the ``zipcodes`` data's first
load (time, resident memory), building the city/county/centroid index (time, Python
memory held by it, peak), and the time of ZIP, city and nearest-location lookups.
The numbers are written down in docs/regions.md.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from pathlib import Path


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _per_call_ms(fn: object, *args: object, n: int = 200) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn(*args)  # type: ignore[operator]
    return (time.perf_counter() - start) / n * 1000


def main() -> None:
    import zipcodes

    from flows.parent import regions  # the line's own imports, before measuring

    gc.collect()
    before = _rss_mb()
    start = time.perf_counter()
    regions.warm()
    took = time.perf_counter() - start
    gc.collect()
    print(f"index build from the shipped table (what the line does): {took:.2f} s, "
          f"+{_rss_mb() - before:.0f} MB resident")
    before = _rss_mb()
    start = time.perf_counter()
    zipcodes.matching("78701")  # the package decompresses its embedded data once
    print(f"for comparison, the zipcodes package's own data, first query: "
          f"{time.perf_counter() - start:.2f} s, +{_rss_mb() - before:.0f} MB resident "
          "(the line never loads it)")
    tracemalloc.start()
    again = regions._Index(regions.read_table())  # a second one, to count what it holds
    gc.collect()
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del again
    print(f"index objects: {held / 2**20:.1f} MB held, {peak / 2**20:.1f} MB at peak")

    print(f"ZIP 78701: {_per_call_ms(regions.parse_place, 'my zip is 78701'):.3f} ms")
    print(f"city 'vivo en Austin': {_per_call_ms(regions.parse_place, 'vivo en Austin'):.3f} ms")
    print(f"county 'Travis County': {_per_call_ms(regions.parse_place, 'Travis County'):.3f} ms")
    for name, lat, lon in (("Austin", 30.2672, -97.7431), ("Manhattan", 40.7128, -74.006),
                           ("rural Nevada", 39.5, -116.5), ("Paris (none)", 48.85, 2.35)):
        print(f"nearest ZIP, {name}: "
              f"{_per_call_ms(regions.place_for_location, lat, lon, n=50):.2f} ms")


if __name__ == "__main__":
    main()
