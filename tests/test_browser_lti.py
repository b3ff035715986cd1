"""The sandbox course page in headless Chromium: launch in the iframe, deep link, frame resizing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium():
    if not shutil.which(CHROMIUM):
        pytest.fail("Debian chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


def _tool_frame(page):
    return page.frame(name="tool-frame")


def test_learner_launch_in_iframe_resizes_frame(app, lms, chromium, artifacts: Path) -> None:
    page = chromium.new_page(viewport={"width": 1100, "height": 900})
    page.goto(lms.issuer + "/")
    page.get_by_role("button", name="Launch as Lea Learner").first.click()
    frame = _tool_frame(page)
    frame.wait_for_selector("text=Lea Learner", timeout=15000)
    # the tool posted lti.frameResize and the course page applied it to the iframe
    page.wait_for_function(
        "document.getElementById('tool-frame').style.height !== ''", timeout=10000
    )
    height = page.evaluate("parseFloat(document.getElementById('tool-frame').style.height)")
    content = frame.evaluate("document.documentElement.scrollHeight")
    assert abs(height - max(content, 150)) <= 2
    page.screenshot(path=str(artifacts / "sandbox-learner-launch.png"), full_page=True)
    page.close()


def test_instructor_deep_links_a_board_then_learner_opens_it(
    app, lms, chromium, artifacts: Path
) -> None:
    page = chromium.new_page(viewport={"width": 1100, "height": 900})
    page.goto(lms.issuer + "/")
    page.get_by_role(
        "button", name="Add content from Learning Commons (Deep Linking) as Ines Instructor"
    ).click()
    frame = _tool_frame(page)
    frame.wait_for_selector("text=Add Learning Commons to", timeout=15000)
    frame.get_by_label("Title in the course").first.fill("Leadership circle")
    page.screenshot(path=str(artifacts / "sandbox-deep-link-picker.png"), full_page=True)
    frame.get_by_role("button", name="Add to course").click()
    page.wait_for_timeout(500)
    page.goto(lms.issuer + "/")
    page.get_by_text("Leadership circle").first.wait_for(timeout=15000)
    article = page.locator("article", has_text="Leadership circle")
    article.get_by_role("button", name="Launch as Lea Learner").click()
    frame = _tool_frame(page)
    frame.wait_for_selector("text=Discussion board", timeout=15000)
    assert "Leadership circle" in frame.content()
    page.screenshot(path=str(artifacts / "sandbox-board-placement.png"), full_page=True)
    page.close()


def test_pages_fit_a_narrow_iframe(app, lms, chromium, artifacts: Path) -> None:
    page = chromium.new_page(viewport={"width": 320, "height": 700})
    page.goto(lms.issuer + "/")
    page.get_by_role("button", name="Launch as Ines Instructor").first.click()
    frame = _tool_frame(page)
    frame.wait_for_selector("text=Choose what this link opens", timeout=15000)
    overflow = frame.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    frame.frame_element().screenshot(path=str(artifacts / "sandbox-narrow.png"))
    page.close()
