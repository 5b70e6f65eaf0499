"""``parentline demo``: the whole line on one laptop, no token and no database server.

A fake Telegram (``fake_telegram``) plays the parent and a peer specialist; the real
line runs against it on a temporary SQLite file; ``/demo`` shows both phones side by side.
"""
