"""The website as readers see it: every page in Chromium, from file://, with the network cut.

Debian's chromium (`make system`) driven by Playwright; no browser is ever downloaded.
Every request that is not file:// or data: is blocked and counts as a failure. Each chapter
page leaves a screenshot in _build/screenshots/.
"""

import json
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml
from playwright.sync_api import Browser, Page, sync_playwright

from reglab.course import ROOT
from tests.support.common import CHROMIUM, CHROMIUM_ARGS, HTML, chapters

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("book")]

SCREENSHOTS = ROOT / "_build" / "screenshots"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
# Pages in reading order (_toc.yml), then the pages Sphinx adds.
TOC = ["intro"] + [f"chapters/{p.stem}" for p in chapters()] + ["docs/students",
                                                                 "docs/instructors"]
PAGES = [f"{name}.html" for name in TOC] + ["index.html", "genindex.html", "search.html"]
REDIRECTS = {"index.html": "intro.html"}  # the site's front door sends readers to its first page
CHAPTERS = [p.stem for p in chapters()]
SEARCHES = {"dropout": "03_dropout", "early stopping": "04_early_stopping",
            "batch normalization": "05_batch_normalization"}

# What a page shows, read in the page once it has loaded (and MathJax has typeset).
_INSPECT = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  await Promise.all([...document.images].map((img) => img.complete ? null
    : new Promise((done) => { img.onload = img.onerror = done; })));
  const link = (selector) => {
    const a = document.querySelector(selector);
    return a ? a.href : null;
  };
  return {
    images: [...document.images].map((img) => ({
      src: (img.getAttribute("src") || "").slice(0, 80), alt: img.getAttribute("alt"),
      loaded: img.complete && img.naturalWidth > 0})),
    headings: [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")].map(
      (h) => [Number(h.tagName[1]), h.textContent.trim().slice(0, 60)]),
    prev: link("a.left-prev"),
    next: link("a.right-next"),
    links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
  };
}"""


def _file(url: str) -> Path:
    """The file a file:// URL points at (query and fragment dropped)."""
    parsed = urlparse(url)
    assert parsed.scheme == "file", f"not a file:// link: {url}"
    return Path(unquote(parsed.path))


def _url(page: str) -> str:
    return (HTML / page).as_uri()


class Site:
    """A Chromium that blocks the network; opens pages and records what went wrong."""

    def __init__(self, browser: Browser):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.reports: dict[str, dict] = {}

    def open(self, url: str, lands_on: str | None = None) -> tuple[Page, dict]:
        """Load ``url`` (which redirects to ``lands_on``, if given); return the page and its
        problems (console errors, failed requests, blocked network requests)."""
        page = self.context.new_page()
        problems = {"console errors": [], "failed requests": [], "network requests": []}

        def route(r):
            if r.request.url.startswith(("file:", "data:")):
                r.continue_()
            else:
                problems["network requests"].append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("console", lambda m: m.type == "error" and problems["console errors"].append(
            f"{m.text} ({m.location.get('url', '')})"))
        page.on("pageerror", lambda e: problems["console errors"].append(str(e)))
        page.on("requestfailed", lambda r: problems["failed requests"].append(
            f"{r.url[:120]}: {r.failure}"))
        page.goto(url, wait_until="load")
        if lands_on:
            page.wait_for_url(lands_on)
        page.wait_for_load_state("networkidle")
        return page, problems

    def visit(self, name: str) -> dict:
        """Open page ``name`` (once per module): what it shows and what went wrong."""
        if name not in self.reports:
            redirect = REDIRECTS.get(name)
            page, problems = self.open(_url(name), redirect and _url(redirect))
            report = page.evaluate(_INSPECT)
            report.update(problems, url=page.url)
            page.close()
            self.reports[name] = report
        return self.reports[name]


@pytest.fixture(scope="module")
def site(book):
    """Debian's chromium, headless; needs the built book."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system` (as root) to install Debian's "
                    "chromium, which the browser tests drive")
    if not (HTML / "intro.html").exists():
        pytest.fail("the book was not built:\n" + (book.stdout + book.stderr)[-3000:])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=CHROMIUM_ARGS, headless=True)
        yield Site(browser)
        browser.close()


def test_every_page_of_the_site_is_checked(site):
    built = {p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
             if p.relative_to(HTML).parts[0] not in {"_static", "_sources", "_images"}}
    assert built == set(PAGES), f"pages not covered here (left by an earlier build? `make " \
        f"clean`): {sorted(built - set(PAGES))}; missing: {sorted(set(PAGES) - built)}"


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_offline_without_errors(site, name):
    report = site.visit(name)
    for problem in ("network requests", "failed requests", "console errors"):
        assert not report[problem], f"{name}: {problem}: {report[problem]}"


def test_index_leads_to_the_first_page(site):
    assert site.visit("index.html")["url"] == _url("intro.html")


@pytest.mark.parametrize("name", PAGES)
def test_images_load_and_have_alt_text(site, name):
    images = site.visit(name)["images"]
    broken = [img["src"] for img in images if not img["loaded"]]
    assert not broken, f"{name}: images that did not load: {broken}"
    # Without alt text, Sphinx writes the image's file name as its alt: that is no description.
    missing = [img["src"] for img in images
               if not (img["alt"] or "").strip() or img["alt"] == img["src"]
               or img["alt"].lower().endswith((".png", ".jpg", ".jpeg", ".svg", ".gif"))]
    assert not missing, f"{name}: {len(missing)} image(s) without alt text: {missing}"


@pytest.mark.parametrize("name", PAGES)
def test_headings_are_in_order(site, name):
    headings = site.visit(name)["headings"]
    assert headings and headings[0][0] == 1, f"{name}: the first heading is not h1: {headings}"
    for (above, _), (level, text) in zip(headings, headings[1:], strict=False):
        assert level <= above + 1, f"{name}: h{above} followed by h{level} ({text!r})"


@pytest.mark.parametrize("position", range(len(TOC)), ids=TOC)
def test_previous_and_next_follow_the_table_of_contents(site, position):
    report = site.visit(f"{TOC[position]}.html")
    expected = {"prev": TOC[position - 1] if position else None,
                "next": TOC[position + 1] if position + 1 < len(TOC) else None}
    for key, target in expected.items():
        if target is None:
            assert report[key] is None, f"{TOC[position]}: unexpected {key} link {report[key]}"
            continue
        assert report[key], f"{TOC[position]}: no {key} link"
        assert _file(report[key]) == HTML / f"{target}.html", f"{key}: {report[key]}"
        assert _file(report[key]).exists()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_slider_changes_what_is_shown(site, chapter):
    page, problems = site.open(_url(f"chapters/{chapter}.html"))
    try:
        page.screenshot(path=SCREENSHOTS / f"{chapter}.png", full_page=True)
        explorer = page.locator(".reglab-explorer").first
        assert explorer.count(), f"{chapter}: no slider control on the page"
        slider = explorer.locator("input[type=range]")
        shown = explorer.locator("figure[data-frame]:not([hidden]) img")

        def state():
            assert shown.count() == 1, "exactly one frame is shown"
            box = shown.bounding_box()
            assert box and box["height"] > 0, "the shown frame is not visible"
            return (slider.input_value(), explorer.locator("output").inner_text(),
                    shown.get_attribute("src"))

        before = state()
        slider.scroll_into_view_if_needed()
        slider.focus()
        page.keyboard.press("End" if before[0] == "0" else "Home")
        after = state()
        page.screenshot(path=SCREENSHOTS / f"{chapter}-slider.png")
    finally:
        page.close()
    assert after[0] != before[0], f"{chapter}: the slider did not move"
    assert after[1] != before[1], f"{chapter}: the value shown did not change"
    assert after[2] != before[2], f"{chapter}: the figure did not change"
    assert not any(problems.values()), f"{chapter}: {problems}"


@pytest.mark.parametrize("query", SEARCHES)
def test_search_finds_the_chapter(site, query):
    page, problems = site.open(_url("search.html") + f"?q={query.replace(' ', '+')}")
    try:
        results = page.locator("#search-results ul.search li a")
        results.first.wait_for(timeout=15000)
        found = [_file(a).relative_to(HTML).as_posix()
                 for a in results.evaluate_all("(links) => links.map((a) => a.href)")]
    finally:
        page.close()
    assert found[0] == f"chapters/{SEARCHES[query]}.html", f"{query!r} found {found}"
    assert not any(problems.values()), f"search for {query!r}: {problems}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_offers_its_notebook_and_launch_buttons(site, chapter):
    links = site.visit(f"chapters/{chapter}.html")["links"]
    notebook = [u for u in links if u.startswith("file:") and u.endswith(f"{chapter}.ipynb")]
    assert notebook, f"{chapter}: no .ipynb download link"
    downloaded = json.loads(_file(notebook[0]).read_text())
    assert downloaded["cells"], f"{chapter}: the downloaded notebook is empty"

    repo = CONFIG["repository"]
    slug = urlparse(repo["url"]).path.strip("/")  # owner/name
    path = f"{repo.get('path_to_book') or ''}chapters/{chapter}.ipynb"
    launch = CONFIG["launch_buttons"]
    binder = f"{launch['binderhub_url']}/v2/gh/{slug}/{repo['branch']}?"
    colab = f"{launch['colab_url']}/github/{slug}/blob/{repo['branch']}/{path}"
    assert any(u.startswith(binder) and u.endswith(path) for u in links), \
        f"{chapter}: no Binder link to {binder}…{path}"
    assert colab in links, f"{chapter}: no Colab link to {colab}"
    assert repo["url"] in links, f"{chapter}: no link to the repository {repo['url']}"
