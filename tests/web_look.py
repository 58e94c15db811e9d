"""What every browser test of the page checks on each page it looks at: a screenshot, no
element overflowing its box, no command-line word (``--`` and a letter) in the text."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"  # Debian's package: apt-get install chromium
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
FLAG = re.compile(r"--[A-Za-z]")

#: The elements whose content is wider than their box (and that don't scroll it), and the
#: dropdowns too narrow for the option they show.
OVERFLOWS = """() => {
  const bad = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (typeof el.className === "string" && el.className ? "." + el.className.split(" ").join(".")
      : "");
  const canvas = document.createElement("canvas").getContext("2d");
  for (const el of document.querySelectorAll("body *")) {
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden" || !el.offsetParent) continue;
    const scrolls = ["auto", "scroll"].includes(style.overflowX);
    if (!scrolls && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 &&
        !["INPUT", "SELECT", "TEXTAREA", "PROGRESS"].includes(el.tagName)) {
      bad.push(name(el) + " " + el.scrollWidth + " > " + el.clientWidth);
    }
    if (el.tagName === "SELECT" && el.selectedIndex >= 0) {
      canvas.font = style.font;
      const wanted = canvas.measureText(el.options[el.selectedIndex].text).width +
        parseFloat(style.paddingLeft) + parseFloat(style.paddingRight) + 18;
      if (wanted > el.offsetWidth + 1) bad.push(name(el) + " shows its option cut");
    }
    if (scrolls && el.scrollWidth > el.clientWidth + 1 && style.overflowX === "hidden") {
      bad.push(name(el) + " hides its overflow");
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth) {
    bad.push("the page is wider than the window");
  }
  return bad;
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install -y chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, accept_downloads=True, bypass_csp=True
    )
    opened = context.new_page()
    opened.set_default_timeout(60_000)
    yield opened
    context.close()


def look(page: Page, folder: Path, name: str) -> str:
    """Screenshot the page; fail on an overflowing element or a command-line word. The
    page's text, for the test's own checks."""
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    shown = page.inner_text("body")
    flags = FLAG.findall(shown)
    assert not flags, f"{name}: command-line words on the page: {flags}"
    overflowing = page.evaluate(OVERFLOWS)
    assert not overflowing, f"{name}: {overflowing}"
    return shown


def upload(page: Page, url: str, path: Path) -> None:
    page.goto(url)
    page.set_input_files("#file", str(path))
    page.wait_for_url("**/file/**")
