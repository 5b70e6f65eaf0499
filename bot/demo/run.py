"""``parentline demo``: start the demo line, print where to look, stop on Ctrl-C/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import sys
import webbrowser

from bot.demo.line import DemoLine

BANNER = """
  parentline demo is running.

  Open  {url}/demo

  Left: a parent writing to the line in Telegram. Right: Sam, a peer specialist on duty.
  Walk the whole path: welcome, a topic, resources, "Talk to a real person", take, reply,
  /end, the survey. Everything runs on this computer — no Telegram token, nothing is
  sent anywhere. Local resources are fictional examples; the national hotlines shown
  are real, so please don't call them to test.

  Dashboard (as the demo coordinator): {url}/demo/dashboard
  Press Ctrl-C to stop.
"""


async def run_demo(port: int = 8080, open_browser: bool = False) -> int:
    """Run until Ctrl-C or SIGTERM; returns the process exit code."""
    demo = DemoLine(port)
    try:
        await demo.start()
    except OSError as exc:
        await demo.stop()
        if exc.errno == errno.EADDRINUSE:
            print(f"port {port} is already in use; try: parentline demo --port {port + 1}",
                  file=sys.stderr)
            return 1
        raise
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    print(BANNER.format(url=demo.url), flush=True)
    if not demo.onduty_confirmed:
        print("  (note: the specialist's /onduty got no answer; the handoff part may not "
              "work in this build)\n", flush=True)
    if open_browser:
        with contextlib.suppress(Exception):
            webbrowser.open(f"{demo.url}/demo")
    try:
        await stop.wait()
    finally:
        print("stopping the demo…", flush=True)
        await demo.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return 0
