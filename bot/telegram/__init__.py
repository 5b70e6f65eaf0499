"""The Telegram adapter: raw updates in (intake, updates), Bot API calls out (outgoing, client)."""
