"""Post bodies: Markdown (CommonMark, raw HTML off) rendered with markdown-it-py, then sanitised
with nh3 (ammonia) — the sanitiser is the safety boundary, the renderer settings are a second one."""

from __future__ import annotations

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


def render(markdown: str) -> str:
    """Safe HTML for a post body (the caller has checked its size with :func:`check_body`)."""
    return sanitise(_md.render(markdown))
