"""The core: settings, the unit of work (:class:`~core.context.Ctx`) and storage.

Imports ``flows`` and nothing of ``handoff`` or ``bot``; nothing here speaks Telegram.
"""
