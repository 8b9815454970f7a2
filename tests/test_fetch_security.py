"""The PDF's URL fetcher serves only data: URLs and files inside the project.

A content module and a brand's stylesheet override reach for /etc/passwd, a
secret file outside the project (by ``../``, by absolute path and through a
symlink) and a real HTTP server on 127.0.0.1. The guide still builds, each
refused URL is reported as a warning, the server receives no request and no
byte of the secrets reaches the PDF.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import REPO_ROOT, copy_example, invoke_cli
from tests.guidekit import EPOCH, every_byte, page_texts, recording_server

SECRET = "TOPSECRET-7f3a9c-do-not-leak"

PROJECT_TOML = """\
[project]
title = "Leaky Clinic Guides"
base_url = "https://guides.leaky.example/"
default_brand = "clinic"
roster = "data/athletes.csv"
"""

BRAND_TOML = """\
name = "Leaky Clinic"
logo = "logo.svg"
timezone = "Europe/London"
open_days = ["mon", "tue", "wed", "thu", "fri", "sat"]
appointment_time = "17:30"
booking_url = "https://leaky.example/book"
address = "1 Test Street, Testtown"
legal_footer = "Leaky Clinic (fictional test company)."

[colors]
primary = "#0b5d6b"
accent = "#f2a541"
"""

LOGO_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
            '<rect width="40" height="40" fill="#0b5d6b"/></svg>\n')
TEXTURE_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">'
               '<rect width="4" height="4" fill="#eeeeee"/></svg>\n')

SESSIONS_MD = """\
---
title: Around race day
order: 10
sessions:
  - kind: pre-race
    pressure: light
    duration: 45
    days_before: [3, 5]
  - kind: post-race
    pressure: light
    duration: 45
    days_after: [1, 3]
---

Keep race week light.
"""

ROSTER = """\
id,name,race_name,race_date,training_start
ada-01,Ada Lovelace,Leaky Marathon,2027-04-18,2027-01-03
bo-02,Bo Chen,Leaky Marathon,2027-04-18,2027-01-03
"""
ATHLETES = {"ada-01": "Ada Lovelace", "bo-02": "Bo Chen"}


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[str]]]:
    with recording_server() as recorded:
        yield recorded


@pytest.fixture(scope="module")
def leaky(tmp_path_factory, server) -> dict:
    """A project whose content and brand CSS reach outside; its secret lives beside it."""
    url, _requests = server
    base = tmp_path_factory.mktemp("leaky")
    secret = base / "secret.txt"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    root = base / "project"
    assets = root / "brands" / "clinic" / "templates" / "assets"
    to_secret_from_root = f"../../{base.name}/secret.txt"  # resolves to base/secret.txt
    to_secret_from_css = os.path.relpath(secret, assets)
    leaky_md = f"""\
---
title: Pictures from everywhere
order: 20
---

![passwd by URL](file:///etc/passwd)
![secret by dot-dot]({to_secret_from_root})
![secret by absolute path]({secret})
![passwd by absolute path](/etc/passwd)
![local server]({url}/x.png)
![protocol-relative](//{url.removeprefix("http://")}/y.png)
![through a symlink](content/img/link.png)

<img src="{url}/raw.png" alt="raw HTML image">
"""
    print_css = f"""\
@import url("{url}/evil.css");
@import url("{to_secret_from_css}");
@font-face {{ font-family: "Evil Font"; src: url("{url}/font.woff2"); }}
.cover {{ background-image: url("file:///etc/passwd"); }}
.toc {{ background-image: url("{url}/bg.png"); }}
.book__card {{ background-image: url("texture.svg"); }}
.cover__title {{ font-family: "Evil Font", sans-serif; }}
""" + (REPO_ROOT / "templates" / "assets" / "print.css").read_text(encoding="utf-8")
    copy_example(root, ("templates",), files={
        "guidegen.toml": PROJECT_TOML,
        "brands/clinic/brand.toml": BRAND_TOML,
        "brands/clinic/logo.svg": LOGO_SVG,
        "brands/clinic/templates/assets/print.css": print_css,
        "brands/clinic/templates/assets/texture.svg": TEXTURE_SVG,
        "content/race-days.md": SESSIONS_MD,
        "content/leaky.md": leaky_md,
        "data/athletes.csv": ROSTER,
    })
    (root / "content" / "img").mkdir()
    (root / "content" / "img" / "link.png").symlink_to(secret)
    # one batch, one worker: the second guide reuses the first one's stylesheets and
    # shared layouts, so it proves warnings survive caching
    out = base / "out"
    result = invoke_cli(["batch", "data/athletes.csv", "--out", out, "--formats", "pdf,html",
                         "-j", "1"], cwd=root, env={"SOURCE_DATE_EPOCH": EPOCH},
                        catch_exceptions=False)
    folder = out / "guides" / "clinic"
    guides = {a: {fmt: (folder / f"{a}.{fmt}").read_bytes() for fmt in ("pdf", "html")}
              for a in ATHLETES if (folder / f"{a}.pdf").is_file()}
    return {"root": root, "secret": secret, "url": url, "result": result, "guides": guides}


def _warnings(leaky, athlete_id: str) -> list[str]:
    return [line for line in leaky["result"].stderr.splitlines()
            if f": {athlete_id}: refused to fetch " in line]


def _expected_refusals(leaky) -> list[str]:
    url, secret = leaky["url"], leaky["secret"]
    host = url.removeprefix("http://")
    return [
        "file:///etc/passwd",
        secret.as_uri(),
        f"{url}/x.png",
        f"file://{host}/y.png",
        (leaky["root"] / "content" / "img" / "link.png").as_uri(),
        f"{url}/raw.png",
        f"{url}/evil.css",
        f"{url}/bg.png",
    ]


def test_the_batch_builds_every_guide_and_exits_0(leaky):
    result = leaky["result"]
    assert result.exit_code == 0, result.stderr
    assert "2 built" in result.stderr and "0 failed" in result.stderr
    assert set(leaky["guides"]) == set(ATHLETES)
    for athlete_id, files in leaky["guides"].items():
        reader = PdfReader(BytesIO(files["pdf"]))
        assert len(reader.pages) >= 3
        assert ATHLETES[athlete_id] in " ".join(page_texts(reader))


def test_every_refused_url_is_a_warning_for_every_guide(leaky):
    """Not only the first guide of a batch: cached stylesheets and layouts count too."""
    for athlete_id in ATHLETES:
        lines = _warnings(leaky, athlete_id)
        missing = [u for u in _expected_refusals(leaky) if not any(u in x for x in lines)]
        assert not missing, f"{athlete_id}: no warning for {missing}\n" + "\n".join(lines)
        assert all(": warning: " in line for line in lines)


def test_each_refused_url_is_reported_once_per_guide(leaky):
    for athlete_id in ATHLETES:
        lines = _warnings(leaky, athlete_id)
        assert lines and len(lines) == len(set(lines)), lines


def test_the_local_server_received_no_request(leaky, server):
    _url, requests = server
    assert leaky["guides"]
    assert requests == []


def test_no_secret_reaches_the_pdf(leaky):
    first_line = Path("/etc/passwd").read_bytes().splitlines()[0]
    for files in leaky["guides"].values():
        data = files["pdf"]
        reader = PdfReader(BytesIO(data))
        everything = every_byte(reader, data)
        text = " ".join(page_texts(reader))
        assert SECRET.encode() not in everything
        assert SECRET not in text
        assert first_line not in everything
        assert b"root:x:0:0" not in everything
        assert "root:x:0:0" not in text


def test_nh3_drops_file_urls_before_weasyprint_sees_them(leaky):
    page = leaky["guides"]["ada-01"]["html"].decode()
    assert "file:///etc/passwd" not in page
    assert "passwd by URL" in page  # the image stays, without its src


def test_a_brand_stylesheet_reads_files_next_to_itself(leaky):
    """Relative url() in brands/<id>/templates/assets/print.css resolves beside that file
    (resolved against another folder, texture.svg would be missing, hence refused)."""
    assert not any("texture.svg" in line for line in leaky["result"].stderr.splitlines())
