"""The edge: Telegram (polling and webhook), the aiohttp server, CLI, config and storage wiring."""
