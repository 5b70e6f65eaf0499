"""The conversation engine: parent flows, content and safety screening. No Telegram here."""
