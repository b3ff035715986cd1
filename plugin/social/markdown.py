"""Post bodies: Markdown (CommonMark, raw HTML off) rendered with markdown-it-py, then sanitised
with nh3 (ammonia) — the sanitiser is the safety boundary, the renderer settings are a second one."""

from __future__ import annotations

import html as _html
import re
from collections.abc import Mapping

import nh3
from markdown_it import MarkdownIt

MAX_BODY_CHARS = 20_000

ALLOWED_TAGS = frozenset(
    {
        "a",
        "blockquote",
        "br",
        "code",
        "del",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "strong",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer"

# Images are off: a remote image in a post is a tracking pixel for everyone who reads it.
_md = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable(["table", "strikethrough"])
    .disable("image")
)


def render_unsafe(markdown: str) -> str:
    """markdown-it's HTML, before sanitising (exposed for tests only)."""
    return _md.render(markdown)


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        link_rel=LINK_REL,
        set_tag_attribute_values={"a": {"target": "_blank"}},
        url_schemes=set(URL_SCHEMES),
        strip_comments=True,
    )


def render(markdown: str, mentions: Mapping[str, str] | None = None) -> str:
    """Safe HTML for a post body (the caller has checked its size with :func:`check_body`).

    ``mentions`` maps resolved handles (case-folded, see :func:`mention_candidates`) to display
    names: each ``@handle`` outside code and links becomes ``<span class="mention">@Name</span>``.
    The sanitiser keeps exactly that span (no other class, no attribute); nothing else changes.
    """
    if not mentions:
        return sanitise(_md.render(markdown))
    return _sanitise_with_mentions(_mark_mentions(_md.render(markdown), mentions))


# --- @mentions -----------------------------------------------------------------------------------
# A mention is "@" + a handle: words of letters/digits joined by dots (``@lea.learner``), not
# preceded by a word character, "@" or "." (so e-mail addresses are not mentions). Only text
# outside <code>, <pre> and <a> counts: code samples and links stay as they are.
MENTION_RE = re.compile(r"(?<![\w@.])@([^\W_]+(?:\.[^\W_]+)*)")
_TAG_RE = re.compile(r"(<[^>]*>)")
_SKIP_TAGS = frozenset({"code", "pre", "a"})
MENTION_CLASS = "mention"


def _text_segments(rendered: str) -> list[tuple[str, bool]]:
    """markdown-it's HTML split into (piece, is_mentionable_text); tags and text inside code,
    pre and links are not mentionable. markdown-it escapes ``<`` and ``>`` in text and
    attributes, so splitting on ``<…>`` is exact for its output."""
    pieces: list[tuple[str, bool]] = []
    depth = 0
    for piece in _TAG_RE.split(rendered):
        if not piece:
            continue
        if piece.startswith("<"):
            name = piece[1:].lstrip("/").split(None, 1)[0].rstrip(">").rstrip("/").lower()
            if name in _SKIP_TAGS:
                if piece.startswith("</"):
                    depth = max(0, depth - 1)
                elif not piece.endswith("/>"):
                    depth += 1
            pieces.append((piece, False))
        else:
            pieces.append((piece, depth == 0))
    return pieces


def _prefixes(handle: str) -> list[str]:
    """``a.b.c`` → ``["a.b.c", "a.b", "a"]`` (a sentence may run on after a handle)."""
    parts = handle.split(".")
    return [".".join(parts[:k]) for k in range(len(parts), 0, -1)]


def mention_candidates(markdown: str) -> set[str]:
    """The case-folded handles a body might mention (each ``@a.b`` also offers ``a``)."""
    found: set[str] = set()
    for piece, text in _text_segments(_md.render(markdown)):
        if text:
            for match in MENTION_RE.finditer(piece):
                found.update(p.casefold() for p in _prefixes(match.group(1)))
    return found


def _mark_mentions(rendered: str, mentions: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        parts = match.group(1).split(".")
        for k in range(len(parts), 0, -1):
            name = mentions.get(".".join(parts[:k]).casefold())
            if name is not None:
                rest = "." + ".".join(parts[k:]) if k < len(parts) else ""
                label = _html.escape("@" + name, quote=False)
                return f'<span class="{MENTION_CLASS}">{label}</span>{rest}'
        return match.group(0)

    return "".join(
        MENTION_RE.sub(replace, piece) if text else piece
        for piece, text in _text_segments(rendered)
    )


def _sanitise_with_mentions(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS) | {"span"},
        clean_content_tags={"script", "style"},
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        allowed_classes={"span": {MENTION_CLASS}},
        link_rel=LINK_REL,
        set_tag_attribute_values={"a": {"target": "_blank"}},
        url_schemes=set(URL_SCHEMES),
        strip_comments=True,
    )
