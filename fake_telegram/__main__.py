"""``python -m fake_telegram --port 8081``."""

from fake_telegram.runner import main

main()
