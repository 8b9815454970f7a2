"""What loading a brand checks beyond brand.toml's schema: text colours readable on the
background (WCAG AA, a located warning that ``guidegen check`` prints), and an SVG logo
that is published without script, event handlers or references outside itself (what was
removed is a located warning; a logo that cannot be read safely is a located error)."""

from __future__ import annotations

import base64

import pytest
from lxml import etree

from generator.load.brands import clean_svg, contrast, load_brand, load_brands
from tests.conftest import REPO_ROOT, SCRATCH_BRAND_TOML, SCRATCH_LOGO_SVG

SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

HOSTILE_LOGO = """\
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     xmlns:h="http://www.w3.org/1999/xhtml" width="120" height="40" onload="alert(1)">
  <style>@import url("https://evil.example/x.css"); rect { fill: #0b5d6b }</style>
  <script>alert(2)</script>
  <foreignObject width="10" height="10"><h:iframe src="javascript:alert(3)"/></foreignObject>
  <a xlink:href="javascript:alert(4)"><rect width="120" height="40" onclick="alert(5)"/></a>
  <a href="#logo"><set attributeName="href" to="javascript:alert(6)"/></a>
  <image href="https://evil.example/track.png" width="1" height="1"/>
  <use xlink:href="file:///etc/passwd#x"/>
  <rect id="logo" width="4" height="4" fill="url(#grad)" style="fill: url(https://e.example/p)"/>
  <text x="10" y="26" fill="#ffffff">Clinic &amp; Co</text>
</svg>
"""


def scratch_brand(tmp_path, toml: str = SCRATCH_BRAND_TOML, logo: str | bytes = SCRATCH_LOGO_SVG):
    folder = tmp_path / "brands" / "clinic"
    folder.mkdir(parents=True)
    (folder / "brand.toml").write_text(toml, encoding="utf-8")
    if isinstance(logo, str):
        logo = logo.encode()
    (folder / "logo.svg").write_bytes(logo)
    return folder


def line_of(text: str, needle: str) -> int:
    return next(no for no, line in enumerate(text.splitlines(), 1) if needle in line)


# ------------------------------------------------------------------ colour contrast

def test_yellow_text_on_white_is_a_located_warning_and_the_brand_still_loads(tmp_path):
    toml = SCRATCH_BRAND_TOML + 'text = "#ffdd00"\n'
    brand, problems = load_brand(scratch_brand(tmp_path, toml), tmp_path)
    assert brand is not None and brand.colors.text == "#ffdd00"
    ratio = contrast("#ffdd00", "#ffffff")
    assert ratio < 4.5
    assert [str(p) for p in problems] == [
        f"brands/clinic/brand.toml:{line_of(toml, 'text = ')}: warning: colors.text: #ffdd00 "
        f"(body text) on the background #ffffff has a contrast of {ratio:.2f}:1; text needs "
        "at least 4.5:1 (WCAG AA) to be readable"]
    assert problems[0].severity == "warning" and problems[0].field == "colors.text"


def test_each_text_colour_is_checked_against_the_brand_background(tmp_path):
    toml = SCRATCH_BRAND_TOML.replace('primary = "#0b5d6b"', 'primary = "#8fb8c0"') + (
        'background = "#1d2428"\ntext = "#f4f4f4"\nmuted = "#444444"\n')
    _brand, problems = load_brand(scratch_brand(tmp_path, toml), tmp_path)
    # light text on a dark background is fine; dark muted text on it is not
    assert [(p.field, p.line) for p in problems] == [
        ("colors.muted", line_of(toml, "muted = "))]


def test_example_brands_pass_the_contrast_check():
    brands, problems = load_brands(REPO_ROOT / "brands", REPO_ROOT)
    assert sorted(brands) == ["harbour", "summit"] and problems == []


def test_check_prints_the_contrast_warning_and_strict_fails_on_it(scratch_project, run_cli):
    toml = SCRATCH_BRAND_TOML.replace('primary = "#0b5d6b"', 'primary = "#ffdd00"')
    root = scratch_project({"brands/clinic/brand.toml": toml})
    line = f"brands/clinic/brand.toml:{line_of(toml, 'primary = ')}: warning: colors.primary: "
    result = run_cli(["check", "data/athletes.csv"], cwd=root)
    assert result.exit_code == 0, result.stderr
    assert [x for x in result.stderr_lines if x.startswith(line)], result.stderr
    assert "#ffdd00 (headings and links) on the background #ffffff" in result.stderr
    assert result.stderr_lines[-1].endswith(": 0 errors, 1 warning")
    assert run_cli(["check", "data/athletes.csv", "--strict"], cwd=root).exit_code == 1


# ------------------------------------------------------------------ SVG logos

def test_a_clean_logo_is_published_byte_for_byte():
    for brand_id in ("harbour", "summit"):
        data = (REPO_ROOT / "brands" / brand_id / "logo.svg").read_bytes()
        assert clean_svg(data) == (data, [])
        brand, _ = load_brand(REPO_ROOT / "brands" / brand_id, REPO_ROOT)
        assert brand.logo_bytes == data


def assert_inert(svg: bytes) -> None:
    """No script, handler, HTML element or reference outside the file."""
    root = etree.fromstring(svg, etree.XMLParser(resolve_entities=False, no_network=True))
    assert root.tag == f"{SVG}svg"
    for el in root.iter():
        assert isinstance(el.tag, str) and el.tag.startswith(SVG), el.tag
        assert el.tag.removeprefix(SVG) not in ("script", "foreignObject", "set"), el.tag
        for name, value in el.attrib.items():
            assert not name.rsplit("}", 1)[-1].lower().startswith("on"), (el.tag, name)
            if name in ("href", XLINK_HREF):
                assert value.startswith("#"), (el.tag, value)
            assert "url(" not in value or "url(#" in value, (el.tag, name, value)
        if el.tag == f"{SVG}style":
            assert "@import" not in (el.text or "")


def test_a_hostile_logo_is_sanitised_with_a_located_warning_for_each_removal(tmp_path):
    brand, problems = load_brand(scratch_brand(tmp_path, logo=HOSTILE_LOGO), tmp_path)
    assert brand is not None
    assert all(p.severity == "warning" and p.field == "logo"
               and p.path == "brands/clinic/logo.svg" for p in problems)
    found = {(p.line, p.message.split(";")[0]) for p in problems}
    line = {needle: line_of(HOSTILE_LOGO, needle) for needle in (
        "<svg", "@import", "<script>", "<foreignObject", 'xlink:href="javascript',
        "<set ", "track.png", "file:///etc", "fill: url(https")}
    assert found >= {
        (line["<svg"], "event handler onload= removed from <svg>"),  # where its tag starts
        (line["<script>"], "<script> removed (a logo may not run script, animate links or "
                           "embed other documents)"),
        (line["<foreignObject"], "<foreignObject> removed (a logo may not run script, "
                                 "animate links or embed other documents)"),
        (line['xlink:href="javascript'], "reference outside the logo removed: "
                                         "<a href='javascript:alert(4)'>"),
        (line['xlink:href="javascript'], "event handler onclick= removed from <rect>"),
        (line["<set "], "<set> removed (a logo may not run script, animate links or embed "
                        "other documents)"),
        (line["track.png"], "reference outside the logo removed: "
                            "<image href='https://evil.example/track.png'>"),
        (line["file:///etc"], "reference outside the logo removed: "
                              "<use href='file:///etc/passwd#x'>"),
    }
    assert {ln for ln, _ in found} >= {line["@import"], line["fill: url(https"]}
    assert all(p.message.endswith("; the published logo leaves it out") for p in problems)
    published = brand.logo_bytes
    assert_inert(published)
    assert b"evil.example" not in published and b"alert" not in published
    # what stays is the picture: shapes, a local paint reference, the text
    root = etree.fromstring(published)
    assert root.find(f"{SVG}rect[@id='logo']").get("fill") == "url(#grad)"
    assert root.findtext(f"{SVG}text") == "Clinic & Co"
    # the guides and emails embed the same sanitised bytes
    assert base64.b64decode(brand.logo_uri.partition(",")[2]) == published


def test_the_site_publishes_the_sanitised_logo(scratch_project, run_cli):
    root = scratch_project({"brands/clinic/logo.svg": HOSTILE_LOGO}, copy=("templates",))
    result = run_cli(["site", "--out", root / "out"], cwd=root)
    assert result.exit_code == 0, result.stderr
    assert "brands/clinic/logo.svg:" in result.stderr and "warning: logo:" in result.stderr
    published = (root / "out" / "site" / "assets" / "logo.svg").read_bytes()
    assert_inert(published)
    assert b"alert" not in published and b"evil.example" not in published


def test_external_entities_are_removed_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    logo = ('<?xml version="1.0"?>\n'
            f'<!DOCTYPE svg [<!ENTITY secret SYSTEM "{secret.as_uri()}">]>\n'
            '<svg xmlns="http://www.w3.org/2000/svg"><text>&secret;</text></svg>\n')
    brand, problems = load_brand(scratch_brand(tmp_path, logo=logo), tmp_path)
    assert [(p.line, p.field, p.severity) for p in problems] == [(2, "logo", "warning")]
    assert "entity 'secret'" in problems[0].message
    assert b"TOPSECRET" not in brand.logo_bytes and b"ENTITY" not in brand.logo_bytes
    assert_inert(brand.logo_bytes)


def test_attribute_defaults_declared_in_the_doctype_are_checked_and_not_published():
    logo = (b'<!DOCTYPE svg [<!ATTLIST svg onload CDATA "alert(1)">]>\n'
            b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="4" height="4"/></svg>\n')
    published, removed = clean_svg(logo)
    assert removed == [(2, "event handler onload= removed from <svg>")]
    assert b"DOCTYPE" not in published and b"alert" not in published
    assert_inert(published)


@pytest.mark.parametrize("logo, line, message", [
    ('<svg xmlns="http://www.w3.org/2000/svg">\n<rect>\n</svg>\n', 3,
     "not a readable SVG image: mismatched tag"),
    ("<html><body>not a logo</body></html>\n", 1,
     "not an SVG image: the root element must be <svg> in the SVG namespace "
     "http://www.w3.org/2000/svg"),
    ("<svg><rect/></svg>\n", 1, "not an SVG image: the root element must be <svg> in the SVG "
                                "namespace http://www.w3.org/2000/svg"),
    ('<?xml version="1.0"?>\n<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
     + "".join(f'<!ENTITY {chr(ord(p) + 1)} "{("&" + p + ";") * 10}">' for p in "abcdefg")
     + ']>\n<svg xmlns="http://www.w3.org/2000/svg"><text>&h;</text></svg>\n', 3,
     "not a readable SVG image: limit on input amplification factor (from DTD and entities) "
     "breached"),
], ids=["not-well-formed", "html", "no-namespace", "billion-laughs"])
def test_a_logo_that_cannot_be_read_safely_is_a_located_error(tmp_path, logo, line, message):
    brand, problems = load_brand(scratch_brand(tmp_path, logo=logo), tmp_path)
    assert brand is None
    assert [str(p) for p in problems] == [f"brands/clinic/logo.svg:{line}: logo: {message}"]


def test_a_png_logo_is_published_as_it_is(tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
    folder = scratch_brand(tmp_path, SCRATCH_BRAND_TOML.replace("logo.svg", "logo.png"))
    (folder / "logo.png").write_bytes(png)
    brand, problems = load_brand(folder, tmp_path)
    assert problems == [] and brand.logo_bytes == png

