"""Property tests of the post renderer and sanitiser (hypothesis, bounded: seconds, not minutes):
whatever a person types, rendering never raises, the HTML carries no script, event handler,
style or dangerous URL, and sanitising is a fixed point."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from plugin.social import markdown
from tests.social.test_social_markdown import XSS, _problems

# Pieces that make the renderer and the sanitiser work: markup, link syntax, schemes, entities,
# handles, and the tags and attributes an attacker would try.
TOKENS = [
    "<",
    ">",
    "</",
    "/>",
    "[",
    "]",
    "(",
    ")",
    "!",
    "*",
    "_",
    "~~",
    "`",
    "```",
    "#",
    ">",
    "|",
    "-",
    "---",
    "\n",
    "\n\n",
    "    ",
    "\t",
    " ",
    '"',
    "'",
    "=",
    ":",
    "&",
    "&#x09;",
    "&#106;",
    "&lt;",
    "&amp;",
    ";",
    "\\",
    "@",
    "@lea",
    "@lea.learner",
    ".",
    "script",
    "<script>",
    "</script>",
    "<img src=x onerror=alert(1)>",
    "<a href=",
    "<svg onload=",
    "<style>",
    "<iframe",
    "<span class=mention>",
    "onmouseover=",
    "style=",
    "javascript:",
    "JaVaScRiPt:",
    "java\tscript:",
    "vbscript:",
    "data:text/html,",
    "http://",
    "https://example.org/",
    "mailto:a@example.org",
    "alert(1)",
    "x",
    "1.",
    "\u0000",
    "\u202e",
    "é",
    "🙂",
]

markdownish = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=60).map("".join),
    st.text(max_size=300),
)
mentions = st.dictionaries(
    st.sampled_from(["lea", "lea.learner", "ines", "x"]),
    st.text(min_size=1, max_size=20),
    max_size=3,
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(markdownish)
@example("[click](java&#x09;script:alert(1))")
@example("<<script>script>alert(1)<</script>/script>")
def test_rendering_never_raises_and_never_lets_script_through(text: str) -> None:
    html = markdown.render(text)
    assert isinstance(html, str)
    assert _problems(html) == [], html
    lowered = html.lower()
    assert "<script" not in lowered and "<style" not in lowered and "<iframe" not in lowered


@FAST
@given(markdownish, mentions)
def test_mentions_add_only_their_span(text: str, names: dict[str, str]) -> None:
    html = markdown.render(text, names)
    problems = [p for p in _problems(html) if p != "tag span"]
    assert problems == [], html
    # The only span is the mention span, with its class and nothing else.
    assert "<span " not in html.replace('<span class="mention">', "")


@FAST
@given(markdownish)
def test_sanitising_alone_strips_raw_html(text: str) -> None:
    html = markdown.sanitise(text)
    assert _problems(html) == [], html


@FAST
@given(st.one_of(markdownish, st.sampled_from(XSS)))
def test_sanitising_is_a_fixed_point(text: str) -> None:
    once = markdown.sanitise(text)
    assert markdown.sanitise(once) == once
    rendered = markdown.render(text)
    assert markdown.sanitise(rendered) == rendered  # what we store is already clean
