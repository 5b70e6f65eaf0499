"""Button actions of the handoff (all start with ``h.``) and their small arguments.

A pressed button is untrusted input: the codec checks the signature, and these
helpers turn the argument back into ids without ever raising on a bad one.
"""

from __future__ import annotations

# staff side
TAKE = "h.take"  # arg: conversation id
DECLINE = "h.decline"  # arg: conversation id ("not a good fit")
TO = "h.to"  # arg: held id:conversation id (which parent is this for?)
NUDGE_SEND = "h.nudge_send"  # arg: held id
NUDGE_EDIT = "h.nudge_edit"  # arg: held id
PICK = "h.pick"  # arg: command:conversation id (which conversation did /end etc. mean?)
XFER = "h.xfer"  # arg: conversation id:staff id
XFER_QUEUE = "h.xfer_q"  # arg: conversation id
CATEGORY = "h.cat"  # arg: conversation id:index in staff.end_categories
HEAVY = "h.heavy"  # arg: conversation id
NOTE_SKIP = "h.note_skip"  # arg: conversation id
DEBRIEF = "h.debrief"  # arg: conversation id:y|n
OUTCOME = "h.outcome"  # arg: conversation id:safe|emergency|left
HELP = "h.help"  # arg: conversation id (coordinator will advise)
ADVISE_DONE = "h.advise_done"
REPORT = "h.report"  # arg: report decision id:made|not_made
END = "h.end"  # arg: conversation id (after a quiet check)
REPLY = "h.r"  # arg: saved reply name[:conversation id]
SHARE = "h.share"  # arg: resource key[:conversation id] (handoff.tools.resource_key)

# parent side
LEAVE = "h.leave"  # arg: conversation id
WAIT_LANG = "h.wait"  # arg: conversation id
GO_AHEAD = "h.goahead"  # arg: conversation id
WAIT_EXPERIENCE = "h.xwait"  # arg: conversation id (wait for a peer with that experience)
NEXT_PEER = "h.xnext"  # arg: conversation id (the next free peer is fine)
STILL_YES = "h.still_yes"  # arg: conversation id
STILL_NO = "h.still_no"  # arg: conversation id
SURVEY_HEARD = "h.sv_heard"  # arg: conversation id:1..5
SURVEY_HELPFUL = "h.sv_help"  # arg: conversation id:1..5
SURVEY_SKIP = "h.sv_skip"  # arg: conversation id
PARENT_END = "h.p_end"  # arg: conversation id ("I'm done for now" on a quiet check)

OUTCOMES: tuple[str, ...] = ("safe", "emergency", "left")
PICKABLE: tuple[str, ...] = ("end", "transfer", "consult", "report")


def to_int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def split2(arg: str) -> tuple[str, str]:
    head, _, tail = arg.partition(":")
    return head, tail


def int_pair(arg: str) -> tuple[int, int] | None:
    a, b = split2(arg)
    x, y = to_int(a), to_int(b)
    return (x, y) if x is not None and y is not None else None
