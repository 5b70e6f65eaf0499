"""Storage: tables, engine, migrations and the durable inbox/outbox (plain rows, no Telegram)."""
