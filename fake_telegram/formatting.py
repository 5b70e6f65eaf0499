"""Just enough of Telegram's ``parse_mode`` handling to catch real bot bugs.

Telegram rejects a message whose markup does not parse ("can't parse
entities") and measures the 4096 limit on the text *after* markup is removed.
Both bite bots that interpolate user text, so the fake checks them. Only the
common failure modes are modelled: unsupported or unbalanced HTML tags, and
MarkdownV2 reserved characters left unescaped.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

from fake_telegram.errors import ApiError, bad_request

_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
# Reserved in MarkdownV2 and never part of an entity we model: must be escaped.
_MD_RESERVED = frozenset(".!-=+#{}")


class _HtmlChecker(HTMLParser):
    """Tags checked as TDLib's ``parse_html`` (td/telegram/MessageEntity.cpp) checks them,
    with its wording, byte offsets included."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.parts: list[str] = []
        self.error: str | None = None
        self._text = text
        self._line_starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self._line_starts.append(i + 1)

    def _byte_offset(self) -> int:
        """Where the current tag starts, in UTF-8 bytes (TDLib counts bytes)."""
        line, col = self.getpos()
        return len(self._text[: self._line_starts[line - 1] + col].encode())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.error is None and tag not in _HTML_TAGS:
            self.error = f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.error is not None:
            return
        if not self.stack:
            self.error = f"Unexpected end tag at byte offset {self._byte_offset()}"
        elif self.stack[-1] != tag:
            self.error = (f"Unmatched end tag at byte offset {self._byte_offset()}, "
                          f'expected "</{self.stack[-1]}>", found "</{tag}>"')
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(text: str, parse_mode: str | None) -> str:
    """The text as the user will see it, or 400 "can't parse entities"."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _parse_markdown_v2(text)
    if mode == "markdown":
        return text.replace("*", "").replace("_", "").replace("`", "")
    return text


def _parse_html(text: str) -> str:
    checker = _HtmlChecker(text)
    checker.feed(text)
    checker.close()
    if checker.error is None and checker.stack:
        checker.error = f'Can\'t find end tag corresponding to start tag "{checker.stack[-1]}"'
    if checker.error is not None:
        raise _cant_parse(checker.error)
    return html.unescape("".join(checker.parts))


def _parse_markdown_v2(text: str) -> str:
    out: list[str] = []
    in_code = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == "`":
            in_code = not in_code
        elif not in_code and ch in _MD_RESERVED:
            raise _cant_parse(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        elif ch not in "*_~|`[]()":
            out.append(ch)
        i += 1
    return "".join(out)


def _cant_parse(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")
