"""The built site in a real headless Chromium: loads cleanly, no broken links or images,
no horizontal scrolling on a phone, and no serious axe-core accessibility violations."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from browser_util import axe_source, axe_violations, console_errors, static_server

pytestmark = pytest.mark.browser
pytest_plugins = ["site_fixtures"]

LINKS_JS = """() => [
  ...[...document.querySelectorAll('a[href]')].map(a => a.href),
  ...[...document.querySelectorAll('link[href]')].map(l => l.href),
  ...[...document.querySelectorAll('img[src]')].map(i => i.src),
]"""
BROKEN_IMAGES_JS = """() => [...document.images]
  .filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"""
OVERFLOW_JS = """() => [document.documentElement.scrollWidth,
                        document.documentElement.clientWidth]"""


@pytest.fixture(scope="module")
def served(example_build):
    with static_server(example_build.site) as base:
        yield base


@pytest.fixture(scope="module")
def plan_urls(example_build, served):
    return [f"{served}plans/{token}/" for token in example_build.tokens.values()]


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def crawl(browser, start: list[str], base: str) -> tuple[dict[str, list[str]], set[str]]:
    """Visit every internal page reachable from ``start``: {page: console errors}, and
    every internal non-page URL seen (assets, feeds, downloads)."""
    page = browser.new_page()
    errors = console_errors(page)
    seen_pages: dict[str, list[str]] = {}
    assets: set[str] = set()
    queue = list(start)
    while queue:
        url = queue.pop(0)
        if url in seen_pages:
            continue
        errors.clear()
        response = page.goto(url, wait_until="load")
        assert response is not None and response.status == 200, (url, response and
                                                                 response.status)
        assert page.evaluate(BROKEN_IMAGES_JS) == [], url
        seen_pages[url] = list(errors)
        for link in page.evaluate(LINKS_JS):
            link = urldefrag(urljoin(url, link)).url
            if not link.startswith(base):
                continue
            path = urlsplit(link).path
            if path.endswith("/") or path.endswith(".html"):
                if link not in seen_pages and link not in queue and "/plans/" not in url:
                    queue.append(link)
            else:
                assets.add(link)
    page.close()
    return seen_pages, assets


def test_every_page_loads_without_console_errors_or_broken_links(browser, served, plan_urls,
                                                                 example_build):
    pages, assets = crawl(browser, [served, f"{served}404.html", *plan_urls], served)
    expected = {f"{served}{p.relative_to(example_build.site).as_posix()}".removesuffix(
        "index.html") for p in example_build.html_pages()}
    assert expected <= set(pages), f"not reachable: {sorted(expected - set(pages))}"
    assert {url: errs for url, errs in pages.items() if errs} == {}
    broken = {url: status_of(url) for url in sorted(assets) if status_of(url) != 200}
    assert broken == {}
    assert any(a.endswith("site.css") for a in assets)
    assert any(a.endswith("guide.pdf") for a in assets) and any(a.endswith("plan.ics")
                                                                for a in assets)


def test_no_page_scrolls_horizontally_on_a_375px_phone(browser, served, plan_urls,
                                                      example_build):
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    urls = [served + p.relative_to(example_build.site).as_posix()
            for p in example_build.html_pages()] + plan_urls
    wide = {}
    for url in urls:
        page.goto(url)
        scroll, client = page.evaluate(OVERFLOW_JS)
        if scroll > client:
            wide[url] = (scroll, client)
    context.close()
    assert wide == {}


HEADER_JS = """() => {
  const logo = document.querySelector('.masthead__logo').getBoundingClientRect();
  const book = document.querySelector('.masthead__book').getBoundingClientRect();
  return [logo.top, logo.bottom, book.top, book.bottom];
}"""


@pytest.mark.parametrize("prefix", ["", "es/", "de/"])
def test_the_booking_button_stays_beside_the_logo_on_a_375px_phone(browser, served, prefix):
    """In every language the header's first row is the logo and the booking button: a
    longer label ("Reserva una sesión") does not push the button onto a row of its own."""
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    page.goto(f"{served}{prefix}")
    logo_top, logo_bottom, book_top, book_bottom = page.evaluate(HEADER_JS)
    context.close()
    assert book_top < logo_bottom and book_bottom > logo_top, (prefix, logo_bottom, book_top)


@pytest.mark.parametrize("which", ["landing", "module", "about", "plan", "es/landing",
                                   "es/module", "es/about", "de/landing", "de/module",
                                   "de/about"])
def test_axe_finds_no_serious_or_critical_violations(browser, served, plan_urls, which):
    source = axe_source()
    lang, _, which = which.rpartition("/")  # the Spanish and German sites too
    prefix = f"{lang}/" if lang else ""
    url = {"landing": f"{served}{prefix}", "module": f"{served}{prefix}pre-race-massage/",
           "about": f"{served}{prefix}about/", "plan": plan_urls[0]}[which]
    for width in (1280, 375):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(url)
        violations = axe_violations(page, source)
        context.close()
        assert violations == [], f"{url} at {width}px: {violations}"


def test_skip_link_is_first_focus_and_targets_main(browser, served):
    page = browser.new_page()
    page.goto(f"{served}how-often/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.evaluate("getComputedStyle(document.activeElement).top") != "-80px"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    page.close()


def test_site_works_with_javascript_disabled(browser, served):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(served)
    assert page.locator("h1").inner_text() == "Race Recovery Guides"
    page.locator("a.card__title, .card__title a").first.click()
    assert page.locator("h1").inner_text() == "Why massage helps during training"
    context.close()
