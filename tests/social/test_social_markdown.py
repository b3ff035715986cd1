"""Post bodies: Markdown rendered and sanitised; XSS payloads never survive."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from plugin.access import Refusal
from plugin.social import markdown
from plugin.social.boards import check_body

XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)><circle r=1 /></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1) )",
    "[click](java&#x09;script:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "[click]: javascript:alert(1)\n\n[click]",
    '<a href="javascript:alert(1)">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "![x](https://evil.example/pixel.png)",
    '[x](https://example.org "title\\" onmouseover=\\"alert(1)")',
    "<<script>script>alert(1)<</script>/script>",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]


class _Markup(HTMLParser):
    """Collects the elements and attributes a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in markdown.ALLOWED_TAGS:
            self.problems.append(f"tag {tag}")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "src", "srcdoc", "xlink:href"):
                self.problems.append(f"attribute {name}")
            if name == "href" and value is not None:
                scheme = re.match(r"\s*([a-zA-Z][a-zA-Z0-9+.-]*):", value)
                if scheme and scheme.group(1).lower() not in markdown.URL_SCHEMES:
                    self.problems.append(f"href {value}")


def _problems(html: str) -> list[str]:
    parser = _Markup()
    parser.feed(html)
    parser.close()
    return parser.problems


@pytest.mark.parametrize("payload", XSS)
def test_xss_payloads_are_neutralised(payload: str) -> None:
    html = markdown.render(payload)
    assert _problems(html) == [], html
    assert "<script" not in html.lower()
    # and the sanitiser alone (without the renderer's escaping) also strips raw HTML
    raw = markdown.sanitise(payload)
    assert _problems(raw) == [], raw
    assert "<script" not in raw.lower() and "alert(1)</script" not in raw


def test_links_open_safely() -> None:
    html = markdown.render("[docs](https://example.org/a?b=1) and [mail](mailto:a@example.org)")
    assert html.count('target="_blank"') == 2
    assert html.count('rel="nofollow noopener noreferrer"') == 2
    assert 'href="https://example.org/a?b=1"' in html


def test_raw_html_links_with_other_schemes_lose_their_href() -> None:
    html = markdown.sanitise('<a href="ftp://example.org/x">x</a><a href="javascript:x">y</a>')
    assert "href" not in html and "javascript" not in html


def test_code_blocks_and_formatting_survive() -> None:
    html = markdown.render(
        "# Title\n\n**bold** _it_ ~~gone~~\n\n```python\nif a < b:\n    print('<hi>')\n```\n\n"
        "- one\n- two\n\n> quote\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html
    assert "<pre><code>if a &lt; b:\n    print('&lt;hi&gt;')\n</code></pre>" in html
    assert "<ul>" in html and "<blockquote>" in html and "<table>" in html and "<s>gone</s>" in html


def test_malformed_markdown_renders_safely() -> None:
    for text in ["[unclosed](", "**", "```", "<", "[x][missing]", "*" * 5000, "[" * 3000]:
        html = markdown.render(text)
        assert "<script" not in html


@pytest.mark.parametrize("body", ["", "   ", "\n\t \n", None, 42])
def test_empty_bodies_are_refused(body) -> None:
    with pytest.raises(Refusal) as err:
        check_body(body)
    assert err.value.status == 400 and err.value.title == "Please check what you wrote"


def test_size_limit() -> None:
    assert check_body("x" * markdown.MAX_BODY_CHARS)
    with pytest.raises(Refusal) as err:
        check_body("x" * (markdown.MAX_BODY_CHARS + 1))
    assert err.value.status == 400
    with pytest.raises(Refusal) as err:
        check_body("x" * 1_000_000)
    assert err.value.status == 413


def test_the_checker_itself_finds_markup() -> None:
    assert _problems('<img src=x onerror="a()"><a href="javascript:x">y</a>')
