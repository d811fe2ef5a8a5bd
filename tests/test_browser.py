"""The built book in a real browser (Debian's Chromium driven by Playwright): every page loads without console
errors, renders its math and images, plays its animations, navigates and searches, and never asks for
anything outside 127.0.0.1. A screenshot of every page goes to test-artifacts/screenshots/."""

import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from corpus import REPO

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("CONVCOURSE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Console noise of the theme itself, not of the course: the stored theme preference is empty on a fresh
# profile, and the browser asks for a favicon the theme does not ship.
KNOWN_NOISE = (re.compile(r"Got invalid theme mode"), re.compile(r"Failed to load resource.*404"))
SCREENSHOTS = Path(os.environ.get("CONVCOURSE_ARTEFACTS", REPO / "test-artifacts")) / "screenshots"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(book):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(book)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium where apt-get can run as root or with sudo; "
                    "elsewhere install Chromium and set CONVCOURSE_CHROMIUM to its executable")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield launched
        launched.close()


def _pages(book):
    return sorted(str(p.relative_to(book)) for p in book.rglob("*.html")
                  if p.parts[-2] != "_static" and p.name not in ("genindex.html", "search.html"))


def _open(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    record = {"outside": [], "errors": []}

    def on_request(request):
        if urlparse(request.url).hostname not in ("127.0.0.1", None) and not request.url.startswith("data:"):
            record["outside"].append(request.url)

    page.on("request", on_request)
    page.on("console", lambda m: m.type == "error" and record["errors"].append(m.text))
    page.on("pageerror", lambda error: record["errors"].append(str(error)))
    page.goto(url, wait_until="networkidle")
    page.wait_for_function("() => !window.MathJax || !MathJax.startup || MathJax.startup.promise !== undefined")
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    return page, record


def test_every_page_loads_cleanly_offline_with_math_and_images(book, site, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for relative in _pages(book):
        page, record = _open(browser, f"{site}/{relative}")
        errors = [e for e in record["errors"] if not any(noise.search(e) for noise in KNOWN_NOISE)]
        if errors:
            problems.append(f"{relative}: console errors {errors[:2]}")
        if record["outside"]:
            problems.append(f"{relative}: requests outside 127.0.0.1 {record['outside'][:2]}")
        prose = page.evaluate("() => { const m = document.querySelector('main').cloneNode(true);"
                              " m.querySelectorAll('pre, code, script, style, mjx-container').forEach(e => e.remove());"
                              " return m.textContent; }")
        if re.search(r"\$\$|\\\(|\\begin\{|\\frac|\\lfloor", prose):
            problems.append(f"{relative}: raw TeX is visible")
        has_math = 'class="math' in (book / relative).read_text(encoding="utf-8")
        if has_math and page.locator("mjx-container").count() == 0:
            problems.append(f"{relative}: math was not rendered")
        broken = page.evaluate("() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
                               ".map(i => i.src)")
        if broken:
            problems.append(f"{relative}: images that do not load {broken[:2]}")
        page.screenshot(path=str(SCREENSHOTS / (relative.replace("/", "__").removesuffix(".html") + ".png")))
        page.close()
    assert not problems, "\n".join(problems)


def test_chapters_show_math_and_pictures(site, browser):
    page, _ = _open(browser, f"{site}/chapters/01_cross_correlation.html")
    assert page.locator("mjx-container").count() > 3
    assert page.locator("main img").count() > 3
    page.close()


def test_animations_are_present_and_play(book, site, browser):
    chapters = [p for p in sorted((book / "chapters").glob("*.html")) if "animation" in p.read_text(encoding="utf-8")]
    assert chapters, "no chapter embeds an animation"
    for chapter in chapters:
        page, record = _open(browser, f"{site}/chapters/{chapter.name}")
        animations = page.locator(".animation")
        assert animations.count() > 0, chapter.name
        first = animations.first
        first.scroll_into_view_if_needed()
        slider = first.locator("input[type=range]")
        before = slider.input_value()
        first.locator("button[title*='Play']").first.click()
        page.wait_for_timeout(1200)
        assert slider.input_value() != before, f"{chapter.name}: the animation does not play"
        page.close()


def test_navigation_and_search(site, browser):
    page, _ = _open(browser, f"{site}/index.html")
    page.locator("nav.bd-links a", has_text="Cross-correlation").first.click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("chapters/01_cross_correlation.html")
    page.locator("a.right-next").first.click()
    page.wait_for_load_state("networkidle")
    assert "01_cross_correlation" not in page.url
    page.goto(f"{site}/search.html?q=stride", wait_until="networkidle")
    page.wait_for_selector("#search-results li", timeout=10_000)
    assert page.locator("#search-results li").count() > 0
    page.close()


def test_exercise_pages_show_the_stub_and_no_solution(site, browser):
    page, _ = _open(browser, f"{site}/exercises/01_cross_correlation/01_cross_correlation.html")
    text = page.inner_text("main")
    assert "YOUR CODE HERE" in text and "BEGIN SOLUTION" not in text and "sliding_window_view(x, (kernel_height" not in text
    page.close()


@pytest.mark.parametrize("path", ["chapters/01_cross_correlation.html",
                                  "exercises/01_cross_correlation/01_cross_correlation.html"])
def test_no_launch_button_and_a_notebook_download(site, browser, path):
    # No deployment is configured in _config.yml: a launch button could only lead nowhere.
    page, _ = _open(browser, f"{site}/{path}")
    assert page.locator(".dropdown-launch-buttons").count() == 0
    download = page.locator(".dropdown-download-buttons a[href$='.ipynb']")
    assert download.count() == 1
    assert page.request.get(page.url.rsplit("/", 1)[0] + "/" + download.get_attribute("href")).ok
    page.close()
