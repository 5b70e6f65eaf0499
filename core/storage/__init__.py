"""Storage wiring: tables, engine, migrations and the durable inbox/outbox."""
