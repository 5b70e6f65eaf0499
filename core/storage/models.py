"""The tables. Everything the line must not forget lives here, not in memory.

Design notes:
- Parents are keyed by an internal id and shown to staff by a pseudonym; the Telegram
  user id is kept only to deliver messages. No names or usernames are stored anywhere.
- ``inbox`` and ``outbox`` make delivery durable: an update is committed before Telegram
  is told it arrived, and an outgoing message is committed in the same transaction as
  the state change that caused it.
- Message text is kept only where processing needs it, and purged on the retention
  schedule; aggregate counts (``daily_stats``) survive the purge.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    false,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The values a few string columns may hold (typed, so mypy catches a misspelled status).
ConversationStatus = Literal["queued", "active", "ended"]
StaffRole = Literal["specialist", "coordinator"]
OutboxStatus = Literal["pending", "sent", "dead"]
STAFF_ROLES: tuple[StaffRole, ...] = get_args(StaffRole)

# Integer primary keys autoincrement on SQLite only when declared INTEGER.
IdType = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
        list[int]: JSON(),
    }


# --- durable delivery -------------------------------------------------------------------


class InboxRow(Base):
    """One update (or an internal job) waiting to be processed, in per-chat order."""

    __tablename__ = "inbox"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # Telegram's update_id: a chat's updates are processed in this order even when
    # parallel webhook deliveries store them out of order. None for internal events.
    seq: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any] | None]
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_inbox_pending", "processed_at", "chat_id", "id"),)


class ChatLease(Base):
    """Which worker (in which replica) is processing a chat right now.

    Taking the lease is one atomic upsert, so two replicas never process one chat at
    the same time and each chat's updates run strictly in order.
    """

    __tablename__ = "chat_leases"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    owner: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime]


class OutboxRow(Base):
    """A Bot API call the line owes someone; written with the change that caused it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any] | None]
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    not_before: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[OutboxStatus] = mapped_column(String(10), default="pending")
    sent_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(200))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_outbox_pending", "status", "not_before", "id"),
        Index("ix_outbox_chat", "chat_id", "status", "id"),
    )


class RateBucket(Base):
    """Shared token buckets so replicas together stay under Telegram's limits."""

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    tokens: Mapped[float]
    updated_at: Mapped[datetime]


class Job(Base):
    """Something to do later (a check-in, a reminder, a timeout). Survives restarts."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime]
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("parents.id", ondelete="CASCADE"), nullable=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    done_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_jobs_due", "done_at", "due_at"),)


# --- people ---------------------------------------------------------------------------------


class Parent(Base):
    """A parent, known by an internal id and a pseudonym; never by name."""

    __tablename__ = "parents"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    pseudonym: Mapped[str] = mapped_column(String(20), unique=True)
    tg_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    lang: Mapped[str] = mapped_column(String(8), default="en")
    flow_state: Mapped[str] = mapped_column(String(40), default="")
    flow_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    region_zip: Mapped[str | None] = mapped_column(String(10))
    region_state: Mapped[str | None] = mapped_column(String(40))
    region_county: Mapped[str | None] = mapped_column(String(60))
    chosen_name: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked_until: Mapped[datetime | None]
    no_checkin: Mapped[bool] = mapped_column(Boolean, default=False)
    media_notice_given: Mapped[bool] = mapped_column(Boolean, default=False)
    last_staff_id: Mapped[int | None] = mapped_column(BigInteger)
    flood_until: Mapped[datetime | None]
    burst_started_at: Mapped[datetime | None]
    burst_count: Mapped[int] = mapped_column(Integer, default=0)
    # The last few messages, read together by the crisis screen (flows.safety.ask); at
    # most an hour old, cleared by the purge and by /forget.
    screen_window: Mapped[list[list[str]] | None] = mapped_column(JSON, default=None)
    screen_window_at: Mapped[datetime | None]
    # The album (``media_group_id``) of their last message: its other items are one message.
    media_group_id: Mapped[str | None] = mapped_column(String(64))
    edit_noted_at: Mapped[datetime | None]  # last "an edit isn't re-read" (rate-limited)


class Staff(Base):
    """A peer specialist or coordinator on the roster (added with ``parentline staff add``)."""

    __tablename__ = "staff"

    tg_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(60))  # display name the parent sees
    role: Mapped[StaffRole] = mapped_column(String(20), default="specialist")
    languages: Mapped[list[str]] = mapped_column(default=list)
    experience: Mapped[list[str]] = mapped_column(default=list)
    max_active: Mapped[int] = mapped_column(Integer, default=3)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    duty_started_at: Mapped[datetime | None]
    last_active_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # What the bot expects from this staff member's next plain message (handoff):
    # "note" (closing note for a conversation) or "advise" (coordinator advice to a peer).
    awaiting: Mapped[str | None] = mapped_column(String(20))
    awaiting_conv_id: Mapped[int | None] = mapped_column(BigInteger)
    # Dashboard cookies issued before this moment are refused (sign-out, re-added staff).
    sessions_valid_from: Mapped[datetime | None]
    # When Telegram last refused to deliver to this staff member (403: blocked the bot,
    # account deleted, never pressed Start); cleared when they write to the bot again.
    # While set they are off duty and nobody is told through them (handoff/unreachable.py).
    unreachable_at: Mapped[datetime | None]


# --- conversations and handoff --------------------------------------------------------------


class Conversation(Base):
    """One request for a person: queued, then active with a specialist, then ended."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("parents.id", ondelete="CASCADE"), index=True)
    status: Mapped[ConversationStatus] = mapped_column(String(10), default="queued")
    priority: Mapped[str] = mapped_column(String(10), default="normal")  # crisis|normal
    crisis: Mapped[bool] = mapped_column(Boolean, default=False)
    crisis_category: Mapped[str | None] = mapped_column(String(30))
    lang: Mapped[str] = mapped_column(String(8), default="en")
    topic: Mapped[str | None] = mapped_column(String(40))
    requested_experience: Mapped[str | None] = mapped_column(String(40))
    # The parent chose ``requested_experience`` themselves and waits for such a peer.
    experience_only: Mapped[bool] = mapped_column(Boolean, default=False,
                                                  server_default=false())
    preferred_staff_id: Mapped[int | None] = mapped_column(BigInteger)
    any_language_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    after_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    queued_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    specialist_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    waiting_note: Mapped[str | None] = mapped_column(Text)  # parent's words for the peer
    # Requested with the parent's handoff card (flows/parent/card.py): the peer reads
    # that card only; its line in their own words, and whether their region is on it.
    from_card: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    card_line: Mapped[str | None] = mapped_column(Text)
    region_shared: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    resources_shared: Mapped[list[str]] = mapped_column(default=list)
    handoff_notes: Mapped[list[str]] = mapped_column(default=list)  # specialist notes on transfer
    declined_by: Mapped[list[int]] = mapped_column(default=list)
    end_outcome: Mapped[str | None] = mapped_column(String(30))
    ended_by: Mapped[str | None] = mapped_column(String(20))
    survey_heard: Mapped[int | None] = mapped_column(Integer)
    survey_helpful: Mapped[int | None] = mapped_column(Integer)
    specialist_category: Mapped[str | None] = mapped_column(String(40))
    specialist_note: Mapped[str | None] = mapped_column(Text)
    heavy: Mapped[bool] = mapped_column(Boolean, default=False)
    last_parent_msg_at: Mapped[datetime | None]
    quiet_checked_at: Mapped[datetime | None]
    stale_asked_at: Mapped[datetime | None]
    last_position_told: Mapped[int | None] = mapped_column(Integer)
    consult_staff_id: Mapped[int | None] = mapped_column(BigInteger)
    relay_batch: Mapped[list[str]] = mapped_column(default=list)  # a flood, relayed as one
    # Albums on their way, by sender ("parent" / "staff"): message ids, copied together shortly.
    album_batch: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # Back at the front of the queue after /newpeer, a decline, a transfer or /offduty.
    front_of_queue: Mapped[bool] = mapped_column(Boolean, default=False)
    note_acked: Mapped[bool] = mapped_column(Boolean, default=False)  # "I'll pass it on" said once
    last_wait_told: Mapped[int | None] = mapped_column(Integer)  # minutes, for position updates
    offered_staff_id: Mapped[int | None] = mapped_column(BigInteger)  # push mode: offered to
    # Since when the parent has waited for their specialist's words (None: answered);
    # the h.answer job nudges, then requeues, from it (handoff/waiting.py).
    awaiting_answer_since: Mapped[datetime | None]

    __table_args__ = (Index("ix_conv_queue", "status", "priority", "queued_at"),)


class RelayLink(Base):
    """Which relayed message in a specialist's chat belongs to which conversation.

    A specialist with several parents answers one by replying to that parent's message;
    this table is how the reply finds its way back.
    """

    __tablename__ = "relay_links"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    staff_chat_id: Mapped[int] = mapped_column(BigInteger)
    staff_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_relay_staff_msg", "staff_chat_id", "staff_message_id"),)


class HeldMessage(Base):
    """A specialist's message the line did not relay yet (whose is it? / looks clinical)."""

    __tablename__ = "held_messages"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    staff_id: Mapped[int] = mapped_column(BigInteger, index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(20))  # ambiguous|nudge
    looks_clinical: Mapped[bool] = mapped_column(Boolean, default=False)  # nudge once assigned
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class SentMessage(Base):
    """Ids of messages the bot sent a parent, so /forget can delete them (Telegram: 48 h)."""

    __tablename__ = "sent_messages"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    message_id: Mapped[int] = mapped_column(BigInteger)
    sent_at: Mapped[datetime]


# --- accountability and aggregates ----------------------------------------------------------


class AuditEntry(Base):
    """Who did what, when: escalations, dashboard views, report decisions. Never message text."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    pseudonym: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(40))
    evidence: Mapped[list[str]] = mapped_column(default=list)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)


class ReportDecision(Base):
    """A mandated-report decision. Kept under legal hold: /forget and retention skip it."""

    __tablename__ = "report_decisions"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    pseudonym: Mapped[str] = mapped_column(String(20))
    conversation_ref: Mapped[int] = mapped_column(BigInteger)
    staff_id: Mapped[int] = mapped_column(BigInteger)
    coordinator_id: Mapped[int | None] = mapped_column(BigInteger)
    decision: Mapped[str] = mapped_column(String(20), default="pending")  # pending|made|not_made
    decided_at: Mapped[datetime | None]


class DailyStat(Base):
    """Aggregate counters per day; these stay after message texts are purged."""

    __tablename__ = "daily_stats"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class LoginToken(Base):
    """A one-time dashboard sign-in link sent through Telegram (valid 10 minutes)."""

    __tablename__ = "login_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class KeyValue(Base):
    """Small shared facts: polling offset, last content reload, schema notes."""

    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
