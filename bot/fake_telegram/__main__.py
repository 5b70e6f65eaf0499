"""``python -m bot.fake_telegram --port 8081``."""

from bot.fake_telegram.runner import main

main()
