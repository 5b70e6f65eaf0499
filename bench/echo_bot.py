"""The baseline: a bare python-telegram-bot echo bot, polling the same fake Bot API.

It is the least a Telegram bot in Python can do per message (parse the update, send one
message back), so "parentline costs k times an echo bot" says what the durable inbox,
the outbox, the flow and the safety screening cost on top of the library.

``python bench/echo_bot.py --api-root http://127.0.0.1:PORT --token TOKEN``
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the same text: one Bot API call per update, as cheap as a reply gets."""
    if update.message is not None and update.message.text is not None:
        await update.message.reply_text(update.message.text)


def build(api_root: str, token: str) -> Application[Any, Any, Any, Any, Any, Any]:
    """A minimal ``Application``: default settings, no persistence, no rate limiter."""
    app = ApplicationBuilder().token(token).base_url(f"{api_root.rstrip('/')}/bot").build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api-root", required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    build(args.api_root, args.token).run_polling(poll_interval=0.0, timeout=10,
                                                 drop_pending_updates=False)


if __name__ == "__main__":
    main()
