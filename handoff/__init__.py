"""Roster, queue, assignment and relay rules for the human handoff. No Telegram here."""
