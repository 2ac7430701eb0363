"""Showing generated code to a person: highlighted in a terminal, side by side, or as HTML.

The highlighter uses Python's own tokenizer, so it needs no extra package: keywords, names of
accumulators (``b_x``), comments (which carry the user's line numbers), strings and numbers each
get a colour. Output that is not a terminal stays plain text.
"""

from __future__ import annotations

import html
import io
import keyword
import re
import shutil
import sys
import textwrap
import tokenize

__all__ = ["highlight_ansi", "highlight_html", "side_by_side", "show", "escape_controls", "CSS"]

# C0 controls but tab and newline, DEL, C1 controls: a terminal would act on them (colours, cursor
# moves, titles), so text from the user's file is printed with them written as escapes
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """``text`` with terminal control characters written as ``\\xNN`` (ESC -> ``\\x1b``)."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


_ANSI = {
    "keyword": "\033[1;35m",
    "comment": "\033[2;32m",
    "string": "\033[33m",
    "number": "\033[36m",
    "accumulator": "\033[1;31m",
    "def": "\033[1;34m",
    "lax": "\033[1;36m",
}
_RESET = "\033[0m"


def _kind(tok, prev) -> str | None:
    if tok.type == tokenize.COMMENT:
        return "comment"
    if tok.type == tokenize.STRING:
        return "string"
    if tok.type == tokenize.NUMBER:
        return "number"
    if tok.type == tokenize.NAME:
        if keyword.iskeyword(tok.string):
            return "keyword"
        if prev is not None and prev.string == "def":
            return "def"
        if re.match(r"b_\w", tok.string):
            return "accumulator"
        if tok.string == "lax":
            return "lax"
    return None


def _spans(source: str):
    """(line index, start col, end col, kind) of every highlighted token."""
    out = []
    prev = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            kind = _kind(tok, prev)
            if kind and tok.start[0] == tok.end[0]:
                out.append((tok.start[0] - 1, tok.start[1], tok.end[1], kind))
            if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                prev = tok
    except (tokenize.TokenError, IndentationError):
        pass
    return out


def _apply(source: str, wrap) -> list[str]:
    lines = source.split("\n")
    by_line: dict[int, list] = {}
    for line, start, end, kind in _spans(source):
        by_line.setdefault(line, []).append((start, end, kind))
    out = []
    for i, text in enumerate(lines):
        pieces, col = [], 0
        for start, end, kind in sorted(by_line.get(i, [])):
            pieces.append(wrap(text[col:start], None))
            pieces.append(wrap(text[start:end], kind))
            col = end
        pieces.append(wrap(text[col:], None))
        out.append("".join(pieces))
    return out


def highlight_ansi(source: str) -> str:
    return "\n".join(_apply(source, lambda s, k: f"{_ANSI[k]}{s}{_RESET}" if k and s else s))


def highlight_html(source: str, line_ids: str | None = None) -> str:
    """``<pre>`` with one ``<span class="line">`` per line; ids ``{line_ids}-{n}`` if given."""
    lines = _apply(
        source, lambda s, k: f'<span class="tok-{k}">{html.escape(s)}</span>' if k and s else html.escape(s)
    )
    rows = []
    for n, text in enumerate(lines, start=1):
        ident = f' id="{line_ids}-{n}" data-line="{n}"' if line_ids else ""
        rows.append(f'<span class="line"{ident}><span class="ln">{n:>4}</span> {text}</span>')
    return '<pre class="code">' + "".join(rows) + "</pre>"  # each line is a block


CSS = """
.code { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #fbfbf8;
        padding: 8px; border: 1px solid #ddd; border-radius: 4px; overflow: auto; margin: 0; }
.code .line { display: block; white-space: pre; }
.code .ln { color: #aaa; user-select: none; }
.tok-keyword { color: #8250df; font-weight: 600; } .tok-comment { color: #2f7d32; }
.tok-string { color: #a3620a; } .tok-number { color: #0b7285; } .tok-def { color: #0550ae; font-weight: 600; }
.tok-accumulator { color: #c2255c; font-weight: 600; } .tok-lax { color: #1c7ed6; font-weight: 600; }
"""


def side_by_side(transformed, width: int | None = None) -> str:
    """The generated gradient, each line beside the line of your code it comes from."""
    width = width or shutil.get_terminal_size((160, 40)).columns
    left_w = max(30, min(60, width // 3))
    right_w = max(40, width - left_w - 3)
    generated = transformed.source.split("\n")
    first = transformed.parsed.first_line
    mine = sorted(
        (g, u, s) for g, u, f, s in transformed.source_map.entries if f == transformed.gradient.name
    )
    out = [
        f"{'your code':<{left_w}} | generated: {transformed.gradient.name}",
        "-" * left_w + "-+-" + "-" * right_w,
    ]
    for section in ("forward", "backward"):
        out.append(f"{'':<{left_w}} | == {section}")
        last = None
        for g, u, s in mine:
            if s != section:
                continue
            text = (
                transformed.parsed.lines[u - first].strip()
                if 0 <= u - first < len(transformed.parsed.lines)
                else ""
            )
            left = textwrap.shorten(f"{u:>4}  {text}", left_w, placeholder="...") if u != last else ""
            out.append(f"{left:<{left_w}} | {generated[g - 1][:right_w]}")
            last = u
    return "\n".join(out)


def show(transformed, side: bool = False, color: bool | None = None, file=None) -> None:
    file = file or sys.stdout
    if color is None:
        color = hasattr(file, "isatty") and file.isatty()
    text = escape_controls(side_by_side(transformed) if side else transformed.source)
    print(highlight_ansi(text) if color else text, file=file)
