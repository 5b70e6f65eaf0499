"""Draw the parent flow as a Mermaid state diagram, straight from the rulebook data.

Coordinators review the conversation's shape in ``docs/flows/parent.mmd`` without
reading Python; because it is generated from ``STATES``/``TRANSITIONS``, it cannot
drift from what the bot does. ``parentline flows diagram`` calls :func:`write_diagrams`.
"""

from __future__ import annotations

from pathlib import Path

from flows.parent.machine import CONFIRMING_FORGET, NEW, STATES, TRANSITIONS

# Commands that reach a state from anywhere are drawn once as notes, not 17 arrows each.
_FROM_ANYWHERE = "*"
_MANY = 10  # a trigger from this many states is drawn as "from (almost) any state"


def _sources(source: str | list[str]) -> list[str]:
    return [source] if isinstance(source, str) else list(source)


def mermaid() -> str:
    """The parent flow as Mermaid ``stateDiagram-v2`` text (deterministic)."""
    lines = ["stateDiagram-v2", "    direction TB", f"    [*] --> {NEW}"]
    for state, (move, what) in STATES.items():
        lines.append(f"    {state}: {state} ({move})<br/>{what}")
    seen: set[tuple[str, str, str]] = set()
    anywhere: list[tuple[str, str]] = []
    for t in TRANSITIONS:
        label = str(t["trigger"]) + (f" (if {t['conditions']})" if t.get("conditions") else "")
        if t["source"] == _FROM_ANYWHERE or len(_sources(t["source"])) >= _MANY:
            if (label, str(t["dest"])) not in anywhere:
                anywhere.append((label, str(t["dest"])))
            continue
        for source in _sources(t["source"]):
            dest = source if t["dest"] == "=" else str(t["dest"])
            key = (source, dest, label)
            if key in seen:
                continue
            seen.add(key)
            lines.append(f"    {source} --> {dest}: {label}")
    lines.append(f"    note left of {CONFIRMING_FORGET}: cancel goes back to where they were")
    notes = "<br/>".join(f"{label} -> {dest}" for label, dest in anywhere)
    lines += [
        f"    note right of {NEW}",
        f"        From (almost) any state:<br/>{notes}",
        "    end note",
    ]
    return "\n".join(lines) + "\n"


def write_diagrams(out_dir: Path) -> list[Path]:
    """Write ``parent.mmd`` into ``out_dir`` (created if needed); returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "parent.mmd"
    path.write_text(mermaid(), encoding="utf-8")
    return [path]
