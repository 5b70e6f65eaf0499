"""Write imported entries into a YAML file coordinators also edit, without losing an edit.

The importer keeps, beside the YAML, what it last wrote for each entry
(``.<file>.state.json``, to commit with the YAML). On re-import each field is merged
three ways — what the importer wrote last time (base), what the file says now (yours),
what the source says now (theirs):

* yours == base: the coordinator did not touch it; take the source's value (a change).
* theirs == base: only the coordinator changed it; keep the edit (reported as kept).
* both changed, differently: keep the coordinator's edit and report a **conflict** with
  the source's new value, so a person decides. The state then records the source's new
  value, so the same conflict is reported once, not on every import.

An entry gone from the source is removed only if nobody edited it; an entry a
coordinator deleted is not added back. Fields the importer does not own (``crisis``,
``demo_only``, ...) are never touched. Comments and order survive (ruamel round trip).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from flows.content.hsds.convert import FIELDS, Converted
from flows.content.hsds.read import HsdsError
from flows.content.yamlio import ContentError, load_yaml, plain

STATE_FORMAT = 1
HEADER = """\
Imported from Open Referral (HSDS) by `parentline resources import`. Review before use.
You may edit any entry: a re-import keeps your edits and reports where the source
changed the same field (a conflict). Commit .{name}.state.json (next to this
file) with it: without it every field looks hand-edited.
Categories come from hsds-taxonomy.yaml.
"""


@dataclass
class Change:
    id: str
    field: str
    old: Any
    new: Any


@dataclass
class Report:
    """What an import did (or would do, with ``dry_run``)."""

    file: str
    added: list[tuple[str, str]] = field(default_factory=list)  # (id, name)
    changed: list[Change] = field(default_factory=list)
    kept: list[Change] = field(default_factory=list)  # your edit, source unchanged
    conflicts: list[Change] = field(default_factory=list)  # old: yours, new: the source's
    removed: list[str] = field(default_factory=list)
    kept_gone: list[str] = field(default_factory=list)  # gone from source, edited: kept
    not_readded: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (service id, why)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (service id, note)
    unmapped: dict[str, int] = field(default_factory=dict)  # term -> services

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.changed or self.removed)


def norm(value: Any) -> Any:
    """Comparable plain JSON (dates as ISO text), whether from YAML or from the importer."""
    return json.loads(json.dumps(plain(value), default=str))  # keeps key order for writing


def _node(value: Any, in_list: bool = False) -> Any:
    """YAML nodes in the house style: lists of words and entries of lists on one line."""
    if isinstance(value, dict):
        m = CommentedMap((k, _node(v)) for k, v in value.items())
        if in_list:
            m.fa.set_flow_style()
        return m
    if isinstance(value, list):
        s = CommentedSeq(_node(v, in_list=True) for v in value)
        if all(not isinstance(v, dict | list) for v in value):
            s.fa.set_flow_style()
        return s
    return value


def _value(fname: str, value: Any) -> Any:
    if fname == "verified_on":
        return date.fromisoformat(value)
    return _node(value)


def _set(entry: CommentedMap, fname: str, value: Any) -> None:
    if value is None:
        entry.pop(fname, None)
        return
    if fname in entry:
        entry[fname] = _value(fname, value)
        return
    order = ["id", *FIELDS]
    pos = 0
    for i, key in enumerate(entry):
        if key in order and order.index(key) < order.index(fname):
            pos = i + 1
    entry.insert(pos, fname, _value(fname, value))


def _load_state(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): dict(v) for k, v in doc["resources"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise HsdsError(
            f"{path.name} is damaged; restore it from git (or delete it: every field of "
            "the imported file will then count as your edit)."
        ) from None


def merge(
    converted: list[Converted], out: Path, *, shown_as: str, dry_run: bool = False
) -> Report:
    """Merge ``converted`` into ``out`` (created if missing) and say what changed."""
    report = Report(file=shown_as)
    state_path = out.with_name(f".{out.stem}.state.json")
    # No YAML file (never imported, or deleted to start over): nothing to protect.
    state = _load_state(state_path) if out.exists() else {}
    if out.exists():
        try:
            doc = load_yaml(out, shown_as)
        except ContentError as exc:
            raise HsdsError(f"{exc.problems[0]} (fix it, then import again)") from None
        if not isinstance(doc, CommentedMap) or not isinstance(doc.get("resources"),
                                                               CommentedSeq):
            raise HsdsError(f"{shown_as} has no 'resources:' list; fix or delete it.")
    else:
        doc = CommentedMap()
        doc["resources"] = CommentedSeq()
        doc.yaml_set_start_comment(HEADER.format(name=out.stem))
    seq: CommentedSeq = doc["resources"]
    nodes = {str(n.get("id")): n for n in seq if isinstance(n, CommentedMap)}
    new_state: dict[str, dict[str, Any]] = {}

    for conv in converted:
        for note in conv.notes:
            report.notes.append((conv.service_id, note))
        for term in conv.unmapped:
            report.unmapped[term] = report.unmapped.get(term, 0) + 1
        if conv.entry is None:
            report.skipped.append((conv.service_id, conv.skipped or "it cannot be used"))
            continue
        rid = conv.entry["id"]
        theirs = {f: norm(conv.entry.get(f)) for f in FIELDS if f in conv.entry}
        base = state.get(rid)
        node = nodes.get(rid)
        if base is not None and not conv.dated and "verified_on" in base and all(
            theirs.get(f) == base.get(f) for f in FIELDS if f != "verified_on"
        ):
            theirs["verified_on"] = base["verified_on"]  # nothing new: not re-dated
        if node is None and base is not None:
            report.not_readded.append(rid)
            new_state[rid] = base
            continue
        new_state[rid] = theirs
        if node is None:
            entry = CommentedMap(id=rid)
            for f, v in theirs.items():
                _set(entry, f, v)
            seq.append(entry)
            report.added.append((rid, next(iter(conv.entry["name"].values()))))
            continue
        by_hand = base is None  # an entry written by hand with this id: all of it is "yours"
        for f in FIELDS:
            yours, b, t = norm(node.get(f)), (base or {}).get(f), theirs.get(f)
            if yours == t:
                continue
            if not by_hand and yours == b:
                _set(node, f, t)
                report.changed.append(Change(rid, f, yours, t))
            elif not by_hand and t == b:
                report.kept.append(Change(rid, f, yours, t))
            else:
                report.conflicts.append(Change(rid, f, yours, t))

    imported = {c.entry["id"] for c in converted if c.entry is not None}
    for rid, base in state.items():
        if rid in imported:
            continue
        node = nodes.get(rid)
        if node is None:
            continue
        if all(norm(node.get(f)) == base.get(f) for f in FIELDS):  # untouched: it goes
            seq.remove(node)
            report.removed.append(rid)
        else:
            report.kept_gone.append(rid)

    if not dry_run:
        yaml = YAML(typ="rt")
        yaml.width = 4096  # a long description stays on one line, as coordinators write it
        yaml.indent(mapping=2, sequence=4, offset=2)
        buf = StringIO()
        yaml.dump(doc, buf)
        out.write_text(buf.getvalue(), encoding="utf-8")
        state_path.write_text(
            json.dumps({"format": STATE_FORMAT, "resources": new_state}, indent=1,
                       sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
    return report
