"""The aiohttp app: webhook, health, metrics, dashboard and demo page."""
