"""The built book in a real browser (Debian's Chromium driven by Playwright): every page loads without console
errors, renders its math and images, passes axe-core's WCAG 2.0/2.1 A and AA rules, fits its code, outputs and
display equations in their boxes at 1280 px, plays its animations, navigates and searches, and never asks for
anything outside 127.0.0.1. Screenshots of every page's first screen at 1280 and 390 px (JPEG) go to
test-artifacts/screenshots/: whole pages, 169,000 px tall together, cost 14 s of CPU to take, for a picture the built
book shows better."""

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
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# The boxes a reader must not have to scroll sideways at 1280 px: code, outputs and display equations.
TOO_WIDE = """() => {
  const wide = [];
  const boxes = 'main .cell_input pre, main .cell_output pre, main .cell_output .output, main div.math,'
      + ' main mjx-container[display="true"]';
  for (const box of document.querySelectorAll(boxes)) {
    if (box.scrollWidth > box.clientWidth + 1) {
      wide.push(`${box.tagName.toLowerCase()} ${box.scrollWidth} px in ${box.clientWidth} px: `
                + box.textContent.trim().slice(0, 70));
    }
  }
  return wide;
}"""
# Marks each text leaf (an element with text and no element inside it: a code token, a formula glyph, a link, a
# plain paragraph) whose contrast axe would compute exactly as for an earlier one: same colour, same background
# behind it (colour or image), same font size, weight and shadow, same opacity through its ancestors. Only leaves:
# a box's own text (a paragraph's words around a link) is always checked.
SAME_LOOK_AS_AN_EARLIER_LEAF = """() => {
  const seen = new Set();
  for (const element of document.body.querySelectorAll('*')) {
    if (element.children.length || !element.textContent.trim()) continue;
    const style = getComputedStyle(element);
    let background = null, opacity = 1;
    for (let e = element; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      opacity *= parseFloat(s.opacity);
      if (background === null && s.backgroundImage !== 'none') background = s.backgroundImage;
      if (background === null && s.backgroundColor !== 'rgba(0, 0, 0, 0)' && s.backgroundColor !== 'transparent') {
        background = s.backgroundColor;
      }
    }
    const look = [style.color, background, style.fontSize, style.fontWeight, style.textShadow, opacity].join('|');
    if (seen.has(look)) element.setAttribute('data-same-look', ''); else seen.add(look);
  }
}"""
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


def _watch(page):
    """What the page asks outside 127.0.0.1 and the errors it logs, as they come."""
    record = {"outside": [], "errors": []}

    def on_request(request):
        if urlparse(request.url).hostname not in ("127.0.0.1", None) and not request.url.startswith("data:"):
            record["outside"].append(request.url)

    page.on("request", on_request)
    page.on("console", lambda m: m.type == "error" and record["errors"].append(f"{m.text} ({m.location['url']})"))
    page.on("pageerror", lambda error: record["errors"].append(str(error)))
    return record


def _load(page, url):
    page.goto(url, wait_until="networkidle")
    page.wait_for_function("() => !window.MathJax || !MathJax.startup || MathJax.startup.promise !== undefined")
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")


def _open(browser, url, width=1280):
    page = browser.new_page(viewport={"width": width, "height": 900})
    record = _watch(page)
    _load(page, url)
    return page, record


def _axe_violations(page, marker=SAME_LOOK_AS_AN_EARLIER_LEAF):
    """axe-core's WCAG 2.0/2.1 A and AA rules in one run, its color-contrast rule on one text leaf per distinct
    look (thousands of code tokens, formula glyphs and paragraphs share a few dozen looks, and axe spends seconds
    per page on repeats); every element that is not such a leaf is checked as usual. The repeats leave the rule
    through its selector, not through an excluded context: that would keep them out of every rule, and axe
    matches each element against every excluded one (a minute of CPU over the book)."""
    from axe_playwright_python.base import AXE_SCRIPT

    page.evaluate(marker)
    page.evaluate(AXE_SCRIPT)
    page.evaluate("() => axe.configure({rules: [{id: 'color-contrast', selector: '*:not([data-same-look])'}]})")
    return page.evaluate("options => axe.run(options)", {"runOnly": {"type": "tag", "values": WCAG},
                                                         "resultTypes": ["violations"]})["violations"]


# The same marking applied to boxes too misses nothing: a marked box leaves the rule, the elements inside it stay.
SAME_LOOK_MARKING_BOXES_TOO = SAME_LOOK_AS_AN_EARLIER_LEAF.replace("element.children.length || ", "")
# A look without the text's colour: proof that the test below can fail (it misses the faint text that otherwise
# looks like the readable paragraphs).
SAME_LOOK_BUT_THE_COLOUR = SAME_LOOK_AS_AN_EARLIER_LEAF.replace("[style.color, background", "[background")


@pytest.mark.parametrize(("marker", "found"), [(SAME_LOOK_AS_AN_EARLIER_LEAF, 4), (SAME_LOOK_MARKING_BOXES_TOO, 4),
                                               (SAME_LOOK_BUT_THE_COLOUR, 2)],
                         ids=["leaves", "boxes-too", "colour-blind"])
def test_the_contrast_check_still_finds_faint_text(browser, marker, found):
    """Faint text is found whether its look repeats (the first of its look is checked), sits on another background,
    is a paragraph's own text around a readable link, or sits inside a plain box that looks like readable text
    (a box is never skipped for its look, and the text inside a skipped box would still be checked); the same run
    still applies the other rules, here to an image without an alt text."""
    page = browser.new_page()
    page.set_content(
        "<html lang='en'><head><title>contrast</title></head><body><main>"
        + "<p>readable text</p>" * 50 + "<p style='color:#bbb'>faint text, repeated</p>" * 20
        + "<div style='background:#777'><span style='color:#555'>faint on grey</span></div>"
        + "<p style='color:#ccc'>faint words around <a href='#x' style='color:#000'>a readable link</a></p>"
        + "<div><span style='color:#d0d0d0'>faint inside a plain box</span></div>"
        + "<img src='data:,' width='10' height='10'>"
        + "</main></body></html>")
    violations = {violation["id"]: {node["target"][0] for node in violation["nodes"]}
                  for violation in _axe_violations(page, marker)}
    page.close()
    assert len(violations.get("color-contrast", ())) == found, violations
    assert violations.get("image-alt") == {"img"}, violations


@pytest.fixture(scope="module")
def walk(book, site, browser):
    """One pass over every page: console, network, math, images, axe-core and widths, then screenshots (JPEG at
    quality 80: readable, and cheaper to take than PNG). One tab visits every page in turn: its renderer process,
    its compiled scripts and its cached files serve the next page, where a new tab per page spent 25 s of CPU more
    on the same loads (test_one_tab_still_hears_every_page). Returns the problems found and, for each page, its
    boxes wider than the page at 1280 px."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for stale in SCREENSHOTS.glob("*.png"):  # earlier runs took PNGs
        stale.unlink()
    problems, too_wide = [], {}
    page = browser.new_page()
    record = _watch(page)
    for relative in _pages(book):
        record["outside"].clear()
        record["errors"].clear()
        page.set_viewport_size({"width": 1280, "height": 900})
        _load(page, f"{site}/{relative}")
        prose = page.evaluate("() => { const m = document.querySelector('main').cloneNode(true);"
                              " m.querySelectorAll('pre, code, script, style, mjx-container').forEach(e => e.remove());"
                              " return m.textContent; }")
        if re.search(r"\$\$|\\\(|\\begin\{|\\frac|\\lfloor", prose):
            problems.append(f"{relative}: raw TeX is visible")
        has_math = 'class="math' in (book / relative).read_text(encoding="utf-8")
        if has_math and page.locator("mjx-container").count() == 0:
            problems.append(f"{relative}: math was not rendered")
        # A TeX command MathJax did not understand shows as text (e.g. `\_` inside \text{...}) or as an error.
        shown_tex = page.evaluate("() => [...document.querySelectorAll('mjx-container')].map(m => m.textContent)"
                                  ".filter(t => t.includes('\\\\')).slice(0, 2)")
        if shown_tex or page.locator("mjx-merror").count():
            problems.append(f"{relative}: math shows a backslash or an error {shown_tex}")
        broken = page.evaluate("() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
                               ".map(i => i.src)")
        if broken:
            problems.append(f"{relative}: images that do not load {broken[:2]}")
        unnamed = page.evaluate("() => [...document.querySelectorAll('main img')].filter(i => {"
                                " const alt = (i.getAttribute('alt') || '').trim();"
                                " return alt.length < 15 || /\\.(png|jpe?g|svg)$/i.test(alt); }).map(i => i.src.slice(0, 60))")
        if unnamed:
            problems.append(f"{relative}: images without a meaningful alt text {unnamed[:2]}")
        for violation in _axe_violations(page):
            targets = [node["target"] for node in violation["nodes"]][:3]
            problems.append(f"{relative}: axe {violation['id']} ({len(violation['nodes'])}x) {targets}")
        too_wide[relative] = page.evaluate(TOO_WIDE)
        name = relative.replace("/", "__").removesuffix(".html")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-1280.jpg"), quality=80)
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(100)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-390.jpg"), quality=80)
        # Requests and errors at either width or while axe-core reads the page (it fetches the stylesheets again).
        if record["outside"]:
            problems.append(f"{relative}: requests outside 127.0.0.1 {record['outside'][:2]}")
        if record["errors"]:
            problems.append(f"{relative}: console errors {record['errors'][:2]}")
    page.close()
    return problems, too_wide


def test_every_page_loads_cleanly_offline_accessible_and_fits_at_1280_px(walk):
    problems, too_wide = walk
    problems = problems + [f"{relative}: {len(wide)} boxes wider than the page at 1280 px, e.g. {wide[:3]}"
                           for relative, wide in too_wide.items() if wide and not relative.startswith("exercises/")]
    assert not problems, "\n".join(problems)


def test_one_tab_still_hears_every_page(site, browser):
    """The tab that visits page after page still hears what a later page logs and asks outside 127.0.0.1."""
    page = browser.new_page()
    record = _watch(page)
    page.route("http://example.invalid/**", lambda route: route.abort())
    page.route(f"{site}/defective.html", lambda route: route.fulfill(content_type="text/html", body=(
        "<html><body><img src='http://example.invalid/x.png' alt='a picture from elsewhere'>"
        "<script>console.error('a defect')</script></body></html>")))
    for relative in ("intro.html", "defective.html"):
        record["outside"].clear()
        record["errors"].clear()
        _load(page, f"{site}/{relative}")
    page.close()
    assert record["outside"] == ["http://example.invalid/x.png"], record
    assert any("a defect" in error for error in record["errors"]), record


def test_exercise_pages_fit_at_1280_px(walk):
    wide = {relative: boxes for relative, boxes in walk[1].items() if relative.startswith("exercises/")}
    assert wide and not any(wide.values()), {page: boxes[:3] for page, boxes in wide.items() if boxes}


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
