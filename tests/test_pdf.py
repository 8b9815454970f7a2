"""Real PDFs of the example project, read back with pypdf (and poppler where installed).

Each PDF is rendered once per module (WeasyPrint takes a second or more per
guide); the tests then look at page size, text, fonts, outline, links, tags
and metadata.
"""

from __future__ import annotations

import re
import shutil
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.browser_util import missing_tool
from tests.guidekit import (
    A4,
    HARBOUR_ID,
    LETTER,
    REPO_ROOT,
    SUMMIT_ID,
    Built,
    build,
    date_long,
    font_is_embedded,
    fonts,
    internal_links,
    load,
    notdef_codes,
    page_texts,
    pdffonts_rows,
    plan_of,
    poppler_text,
)

POPPLER = "apt-get install -y --no-install-recommends poppler-utils"
CJK_FONT = "apt-get install -y --no-install-recommends fonts-wqy-microhei"

MIN_PAGES, MAX_PAGES = 8, 24  # cover + contents + glance + sessions + modules + closing


class Pdf:
    def __init__(self, built: Built, path: Path):
        self.built = built
        self.path = path
        self.data = built.files["pdf"]
        self.reader = PdfReader(BytesIO(self.data))
        self.pages = page_texts(self.reader)
        self.text = " ".join(self.pages)


def _render(tmp_path_factory, inputs, athlete_id: str) -> Pdf:
    built = build(inputs, athlete_id, ("pdf",))
    path = tmp_path_factory.mktemp("pdf") / f"{athlete_id}.pdf"
    path.write_bytes(built.files["pdf"])
    return Pdf(built, path)


@pytest.fixture(scope="module")
def example_inputs():
    return load()


@pytest.fixture(scope="module")
def harbour(example_inputs, tmp_path_factory) -> Pdf:
    return _render(tmp_path_factory, example_inputs, HARBOUR_ID)


@pytest.fixture(scope="module")
def summit(example_inputs, tmp_path_factory) -> Pdf:
    return _render(tmp_path_factory, example_inputs, SUMMIT_ID)


@pytest.fixture(params=["harbour", "summit"])
def pdf(request) -> Pdf:
    return request.getfixturevalue(request.param)


# ------------------------------------------------------------------ paper and pages

def test_harbour_guides_are_a4_and_summit_guides_are_us_letter(harbour, summit):
    for pdf, (width, height) in ((harbour, A4), (summit, LETTER)):
        for page in pdf.reader.pages:
            box = page.mediabox
            assert float(box.width) == pytest.approx(width, abs=0.5)
            assert float(box.height) == pytest.approx(height, abs=0.5)


def test_page_count_is_in_the_expected_range(pdf):
    assert MIN_PAGES <= len(pdf.reader.pages) <= MAX_PAGES


def test_every_page_after_the_cover_says_page_x_of_y(pdf):
    total = len(pdf.reader.pages)
    assert "Page 1 of" not in pdf.pages[0], "the cover has no running footer"
    for index, text in enumerate(pdf.pages[1:], start=2):
        assert f"Page {index} of {total}" in text, f"page {index}: {text[-200:]!r}"


def test_running_header_names_the_clinic_on_every_page_after_the_cover(pdf):
    brand = pdf.built.brand
    for text in pdf.pages[1:]:
        assert brand.name in text


# ------------------------------------------------------------------ the athlete's data

def test_name_race_and_race_date_are_in_the_text(pdf):
    athlete = pdf.built.athlete
    assert athlete.name in pdf.pages[0]
    assert athlete.race_name in pdf.pages[0]
    assert date_long(athlete.race_date) in pdf.text


def test_every_session_date_is_printed(pdf):
    missing = [d for d in pdf.built.session_dates if d not in pdf.text]
    assert not missing, f"dates not found in the PDF text: {missing}"


def test_session_table_lists_every_dated_entry_with_its_time(pdf):
    """The table rows (date, then time or 'All day') follow the timeline, in order."""
    table = pdf.text[pdf.text.index("dated entries, in date order"):]
    position = 0
    for session in pdf.built.timeline.sessions:
        date = date_long(session.date)
        found = table.find(date, position)
        assert found >= 0, f"{date} missing or out of order in the session table"
        after = table[found + len(date):found + len(date) + 40]
        assert (session.time or "All day") in after, (date, after)
        position = found + len(date)


def test_clinic_notes_booking_link_and_disclaimer_are_in_the_text(harbour):
    athlete, brand = harbour.built.athlete, harbour.built.brand
    assert athlete.notes in harbour.text
    assert brand.booking_url in harbour.text
    assert "not medical advice" in harbour.text


def test_text_extracts_identically_with_poppler(harbour):
    """A second extractor agrees: the text layer is not a pypdf artefact."""
    text = poppler_text(harbour.path)
    if text is None:
        missing_tool("pdftotext not found", POPPLER)
    built = harbour.built
    for expected in [built.athlete.name, *built.session_dates]:
        assert expected in text


# ------------------------------------------------------------------ fonts

def test_every_font_is_embedded(pdf):
    found = fonts(pdf.reader)
    assert found, "no fonts found"
    not_embedded = [name for name, font in found.items() if not font_is_embedded(font)]
    assert not not_embedded


def test_pdffonts_agrees_fonts_are_embedded_and_subset(pdf):
    rows = pdffonts_rows(pdf.path)
    if rows is None:
        missing_tool("pdffonts not found", POPPLER)
    assert rows
    for row in rows:
        emb, sub, uni = row[-5], row[-4], row[-3]
        assert (emb, sub, uni) == ("yes", "yes", "yes"), row


def test_brand_font_is_used(harbour, summit):
    assert any("DejaVu-Sans" in name for name in fonts(harbour.reader))
    assert any("DejaVu-Serif" in name for name in fonts(summit.reader))


def test_latin_names_draw_no_missing_glyph_boxes(pdf):
    boxes = {name: notdef_codes(font) for name, font in fonts(pdf.reader).items()}
    assert not any(boxes.values()), f"characters drawn as .notdef boxes: {boxes}"


def test_a_cjk_name_draws_real_glyphs(example_inputs, tmp_path_factory):
    """田中 花子 must not come out as boxes (needs a CJK font, e.g. fonts-noto-cjk)."""
    if shutil.which("fc-list") is None:
        missing_tool("fc-list not found", "apt-get install -y --no-install-recommends fontconfig")
    import subprocess

    have = subprocess.run(["fc-list", ":lang=ja", "family"], capture_output=True, text=True)
    if not have.stdout.strip():
        missing_tool("no Japanese font installed (CJK names would print as boxes)", CJK_FONT)
    pdf = _render(tmp_path_factory, example_inputs, "sm-hanako-03")
    boxes = {name: notdef_codes(font) for name, font in fonts(pdf.reader).items()}
    assert not any(boxes.values()), boxes


# ------------------------------------------------------------------ navigation

def test_outline_has_a_bookmark_per_section_pointing_at_its_page(pdf):
    reader = pdf.reader
    outline = [item for item in reader.outline if not isinstance(item, list)]
    titles = [item.title for item in outline]
    expected = ["Your race recovery guide", "Contents", "Your plan at a glance",
                "Your dated sessions", "Book your sessions"]
    for title in expected:
        assert title in titles
    module_titles = list(pdf.built.module_titles().values())
    assert all(t in titles for t in module_titles)
    for item in outline:
        page = reader.get_destination_page_number(item)
        assert item.title in pdf.pages[page], f"bookmark {item.title!r} -> page {page + 1}"


def test_contents_links_jump_to_their_sections(pdf):
    links = internal_links(pdf.reader)
    toc = [link for link in links if link.page == 1]
    names = {link.name for link in toc}
    assert {"timeline", "plan", "book"} <= names
    headings = {"timeline": "Your plan at a glance", "plan": "Your dated sessions",
                "notes": "Notes from your clinic", "book": "Book your sessions"}
    for slug, title in pdf.built.module_titles().items():
        headings[f"module-{slug}"] = title
    for link in toc:
        assert link.name in headings, link
        assert headings[link.name] in pdf.pages[link.target], link
    for link in links:
        assert 0 <= link.target < len(pdf.reader.pages)


def test_contents_page_numbers_match_where_sections_start(pdf):
    built = pdf.built
    titles = ["Your plan at a glance", "Your dated sessions", "Book your sessions"]
    titles += list(built.module_titles().values())
    if built.athlete.notes:
        titles.append("Notes from your clinic")
    contents = pdf.pages[1]
    contents = contents[contents.index("Contents"):]
    for title in titles:
        match = re.search(re.escape(title) + r"[\s.]*?(\d+)\b", contents)
        assert match, f"{title!r} not in the contents page"
        page = int(match.group(1))
        assert 1 <= page <= len(pdf.pages), (title, page)
        assert title in pdf.pages[page - 1], f"contents say {title!r} is on page {page}"


# ------------------------------------------------------------------ tags and metadata

def test_pdf_is_tagged_with_a_structure_tree(pdf):
    root = pdf.reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"].value is True
    tree = root["/StructTreeRoot"].get_object()
    roles = set()

    def walk(node):
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, dict):
            if "/S" in node:
                roles.add(str(node["/S"]))
            if "/K" in node:
                walk(node["/K"])
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(tree)
    assert {"/Document", "/H1", "/H2", "/Table", "/TR", "/TH", "/TD", "/L", "/LI",
            "/Link", "/Figure"} <= roles, roles


def test_metadata_title_author_language(pdf):
    meta = pdf.reader.metadata
    built = pdf.built
    assert built.athlete.name in meta.title
    assert meta.author == built.brand.name
    root = pdf.reader.trailer["/Root"]
    assert root["/Lang"] == built.plan.language.tag
    assert root["/ViewerPreferences"]["/DisplayDocTitle"].value is True


def test_default_variant_is_pdf_ua_1(harbour):
    xmp = harbour.reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfuaid:part(="|>)1', xmp), xmp[:500]


def test_no_wall_clock_dates_in_the_pdf(harbour):
    meta = harbour.reader.metadata
    assert "/CreationDate" not in meta and "/ModDate" not in meta
    assert b"CreationDate" not in harbour.data and b"ModDate" not in harbour.data


def test_pdf_a_3b_variant_when_configured(scratch_project, tmp_path):
    """guidegen.toml [pdf] variant = "pdf/a-3b" gives a PDF/A-3b file (still tagged)."""
    root = scratch_project(defaults=False, copy=("content", "brands", "templates", "data"))
    config = (REPO_ROOT / "guidegen.toml").read_text(encoding="utf-8")
    (root / "guidegen.toml").write_text(config + '\n[pdf]\nvariant = "pdf/a-3b"\n',
                                        encoding="utf-8")
    built = build(load(root, root / "data" / "athletes.csv"), HARBOUR_ID, ("pdf",))
    reader = PdfReader(BytesIO(built.files["pdf"]))
    catalog = reader.trailer["/Root"]
    xmp = catalog["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfaid:part(="|>)3', xmp)
    assert re.search(r'pdfaid:conformance(="|>)B', xmp)
    intents = catalog["/OutputIntents"]
    assert intents and intents[0].get_object()["/S"] == "/GTS_PDFA1"
    assert "/StructTreeRoot" in catalog
    assert built.athlete.name in " ".join(page_texts(reader))
    assert not built.result.problems


# ------------------------------------------------------------------ writing speed-ups
def test_serialising_each_object_once_writes_the_same_bytes(example_inputs, monkeypatch):
    """generator.pdf.maker makes pydyf compress each stream, and format each dictionary
    and array, once per file (it did it twice to hash the file identifier): the file
    must not change by a single byte."""
    import zlib

    import pydyf

    from generator.publish.guides import GuideMaker

    maker = GuideMaker(example_inputs)
    plan = plan_of(example_inputs, HARBOUR_ID)
    brand = plan.brand
    html = maker.renderer.guide_html(plan, "pdf")
    pdf = maker.pdf_maker  # installs the speed-up
    doc = pdf.document(html, maker.base_url, maker.stylesheets(brand))

    real = zlib.compressobj

    def counting(counter):
        def compressobj(*args, **kwargs):
            counter.append(1)
            return real(*args, **kwargs)
        return compressobj

    real_to_bytes = pydyf._to_bytes

    def formatting(counter):  # what a dictionary's or an array's data formats, item by item
        def to_bytes(item):
            counter.append(1)
            return real_to_bytes(item)
        return to_bytes

    pdf.write(doc, "same-id")  # a first write also prepares fonts: count the next ones
    once: list = []
    formatted_once: list = []
    monkeypatch.setattr(pydyf.zlib, "compressobj", counting(once))
    monkeypatch.setattr(pydyf, "_to_bytes", formatting(formatted_once))
    fast = pdf.write(doc, "same-id")
    for kind, plain_method in pydyf.PDF.write.plain.items():
        monkeypatch.setattr(kind, "write" if kind is pydyf.PDF else "data", plain_method)
    twice: list = []
    formatted_twice: list = []
    monkeypatch.setattr(pydyf.zlib, "compressobj", counting(twice))
    monkeypatch.setattr(pydyf, "_to_bytes", formatting(formatted_twice))
    plain = pdf.write(doc, "same-id")
    assert fast == plain
    assert len(plain) > 10_000
    assert len(once) < len(twice) * 0.6  # each stream compressed once, not twice
    # each dictionary and array (thousands: the structure tree) formatted once, not twice
    assert len(formatted_once) < len(formatted_twice) * 0.7


def test_streams_are_compressed_at_zlib_s_default_level(harbour):
    """maker.FLATE_LEVEL: each stream (pages, fonts, the ToUnicode maps) is what zlib
    makes at level 6, not pydyf's 9 (a third of the time for 2.7% more bytes)."""
    import zlib

    import pikepdf

    from generator.pdf.maker import FLATE_LEVEL

    assert FLATE_LEVEL == 6
    compressed = 0
    with pikepdf.open(harbour.path) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream) and obj.get("/Filter") == "/FlateDecode" \
                    and obj.get("/Type") not in ("/XRef", "/ObjStm"):
                raw, stored = obj.read_bytes(), obj.read_raw_bytes()
                assert stored == zlib.compress(raw, FLATE_LEVEL)
                compressed += 1
    assert compressed > 20
