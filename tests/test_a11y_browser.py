"""The runner's other two documents meet the site's accessibility bar in a real Chromium:
the private plan page and the guide email pass axe-core at every impact level (language,
alt text, headings, contrast, ARIA), at desktop and phone widths, and mark a name written
in another script with its language.

The plan pages are those of the session's example build (site_fixtures); the emails are
composed from the same project as ``guidegen email`` composes them, with stand-in
attachments (only the HTML body is looked at), and their inline logo (``cid:``) shown as
a mail client shows it.
"""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from browser_util import axe_source, static_server
from sitekit import ATHLETES

from generator.deliver.message import Mailer, compose
from tests.guidekit import load, plan_of

pytestmark = pytest.mark.browser
pytest_plugins = ["site_fixtures"]

IMPACTS = ("minor", "moderate", "serious", "critical")
WIDTHS = (1280, 375)
# An email body is shown inside the mail client's page, which has the landmarks (its own
# main); the message is an article there. These two rules are about whole pages.
EMAIL_RULES_OFF = ("region", "landmark-one-main")
FAKE_FILES = {"pdf": b"%PDF-1.7 stand-in", "ics": b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"}
HEADINGS_JS = "() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1])"
LANG_OF_JS = """(text) => [...document.querySelectorAll('[lang]')]
  .filter(e => e !== document.documentElement && e.textContent.trim() === text)
  .map(e => e.lang)"""


def axe(page, source: str, rules_off: tuple[str, ...] = ()) -> list[dict]:
    """Every axe-core violation on the loaded page, whatever its impact."""
    page.add_script_tag(content=source)
    rules = {rule: {"enabled": False} for rule in rules_off}
    result = page.evaluate("async (rules) => await axe.run(document, "
                           "{resultTypes: ['violations'], rules})", rules)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in IMPACTS]


def email_html(message) -> str:
    """The HTML body, with each inline part (``cid:``) as the data: URI a client shows."""
    html = message.get_body(preferencelist=("html",)).get_content()
    for part in message.walk():
        cid = part.get("Content-ID")
        if cid:
            data = base64.b64encode(part.get_payload(decode=True)).decode()
            html = html.replace(f"cid:{cid.strip('<>')}",
                                f"data:{part.get_content_type()};base64,{data}")
    return html


@pytest.fixture(scope="module")
def emails(example_build) -> dict[str, str]:
    root = example_build.root
    inputs = load(root, root / "data" / "athletes.csv")
    mailer = Mailer(inputs, example_build.out)
    links = {"plan_url": "https://guides.example/plans/token/",
             "webcal_url": "webcal://guides.example/plans/token/plan.ics"}
    return {athlete: email_html(compose(plan_of(inputs, athlete), FAKE_FILES, "inputs",
                                        mailer.renderer, dt.datetime(2027, 1, 4, tzinfo=dt.UTC),
                                        links).message)
            for athlete in ATHLETES}


@pytest.fixture(scope="module")
def plan_pages(example_build):
    with static_server(example_build.site) as base:
        yield {athlete: f"{base}plans/{token}/" for athlete, token in example_build.tokens.items()}


@pytest.mark.parametrize("athlete", ATHLETES)
@pytest.mark.parametrize("width", WIDTHS)
def test_plan_page_passes_axe_at_every_impact(browser, plan_pages, athlete, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(plan_pages[athlete])
    violations = axe(page, axe_source())
    context.close()
    assert violations == [], f"{plan_pages[athlete]} at {width}px: {violations}"


@pytest.mark.parametrize("athlete", ATHLETES)
@pytest.mark.parametrize("width", WIDTHS)
def test_guide_email_passes_axe_at_every_impact(browser, emails, athlete, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_content(emails[athlete])
    violations = axe(page, axe_source(), EMAIL_RULES_OFF)
    context.close()
    assert violations == [], f"email to {athlete} at {width}px: {violations}"


def test_plan_page_and_email_have_a_language_an_h1_first_and_no_skipped_heading(
        browser, plan_pages, emails):
    page = browser.new_page()
    for athlete in ATHLETES:
        for where, load_page in (("plan page", lambda a: page.goto(plan_pages[a])),
                                 ("email", lambda a: page.set_content(emails[a]))):
            load_page(athlete)
            # the project's en-GB, and Hanako's own en-US (data/athletes.csv)
            expected = {"hb-zoe-01": "en-GB", "sm-hanako-03": "en-US"}[athlete]
            assert page.evaluate("document.documentElement.lang") == expected, (where, athlete)
            levels = page.evaluate(HEADINGS_JS)
            assert levels[0] == 1 and levels.count(1) == 1, (where, athlete, levels)
            steps = [b - a for a, b in zip(levels, levels[1:], strict=False)]
            assert max(steps, default=0) <= 1, (where, athlete, levels)
            images = page.evaluate("() => [...document.images].map(i => i.alt)")
            assert images and all(alt.strip() for alt in images), (where, athlete, images)
    page.close()


def test_a_runner_name_in_another_script_is_marked_with_its_language(browser, plan_pages,
                                                                      emails):
    page = browser.new_page()
    page.goto(plan_pages["sm-hanako-03"])
    assert page.evaluate(LANG_OF_JS, "田中 花子") == ["und-Hani"]
    page.set_content(emails["sm-hanako-03"])
    assert page.evaluate(LANG_OF_JS, "田中 花子") == ["und-Hani"]
    page.goto(plan_pages["hb-zoe-01"])  # Latin script, accents and all: the page's language
    assert page.evaluate(LANG_OF_JS, "Zoë Ó Briain") == []
    page.close()
