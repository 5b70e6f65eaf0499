"""The edge: Telegram (polling and webhook), the aiohttp server, the workers, the CLI, the demo."""
