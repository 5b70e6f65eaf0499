"""The Telegram adapter: parsing updates, calling the Bot API, polling."""
