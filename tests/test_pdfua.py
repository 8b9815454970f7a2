"""The shipped example guides are accessible PDFs, checked structurally (tests/pdfua_checks.py):
alt text on every Figure, headings, tables, lists, links, artifacts, languages, fonts, and a
reading order that follows the contents. The PDFs are those of the session's one example
build (site_fixtures.example_build: both brands, and a runner whose name is written in
Japanese), plus one guide rendered here for the roster's runner whose name is in Arabic.
The last tests spoil a good PDF one way at a time and prove the checks notice.
"""

from __future__ import annotations

import hashlib
import io
import re

import pikepdf
import pytest
from pdfua_checks import Finding, TaggedPdf, check, pagination_text, structure_text
from sitekit import ATHLETES

from generator.render.renderer import DISCLAIMER
from generator.render.textlang import text_lang
from tests.guidekit import build, load

pytest_plugins = ["site_fixtures"]

HARBOUR, SUMMIT = ATHLETES  # hb-zoe-01 (A4, clinic notes), sm-hanako-03 (Letter, 田中 花子)
NOTICE = "<notice>"


@pytest.fixture(scope="module")
def pdfs(example_build) -> dict[str, bytes]:
    """Every PDF the example build wrote (guides and plan pages), by path, once per content."""
    found, seen = {}, set()
    for path in sorted(example_build.out.rglob("*.pdf")):
        data = path.read_bytes()
        if hashlib.sha256(data).digest() not in seen:
            seen.add(hashlib.sha256(data).digest())
            found[path.relative_to(example_build.out).as_posix()] = data
    return found


@pytest.fixture(scope="module")
def guides(example_build) -> dict[str, TaggedPdf]:
    out = example_build.out / "guides"
    return {athlete: TaggedPdf(next(out.glob(f"*/{athlete}.pdf"))) for athlete in ATHLETES}


def shown(findings: list[Finding]) -> str:
    return "\n".join(map(str, findings))


# ---------------------------------------------------------------------- the example guides

def test_the_example_build_has_both_brands_and_a_name_in_another_script(example_build, pdfs):
    assert {p.split("/")[1] for p in pdfs if p.startswith("guides/")} == {"harbour", "summit"}
    assert text_lang("田中 花子") is not None  # the summit runner: the /Lang check has work


def test_every_example_pdf_passes_every_structural_check(pdfs):
    problems = {path: shown(check(data)) for path, data in pdfs.items()}
    assert {path: text for path, text in problems.items() if text} == {}


@pytest.mark.parametrize("athlete", ATHLETES)
def test_qr_code_logo_and_timeline_are_figures_with_alt_text(guides, athlete):
    doc = guides[athlete]
    alts = [str(n.obj.get("/Alt", "")) for n in doc.nodes if n.role == "Figure"]
    assert len(alts) == 3, alts
    logo, timeline, qr = alts
    assert logo.endswith(" logo")
    assert qr.startswith("QR code linking to https://")
    # the drawing is one Figure that summarises the plan, not its labels one by one
    assert timeline.startswith("Timeline of your plan from ")
    for words in ("phases: base,", "maintenance massages", "pre-race massage on",
                  "Race day on", "post-race massage on"):
        assert words in timeline
    assert "Race day ·" not in structure_text(doc)  # the drawing's flag is not read out


@pytest.mark.parametrize("athlete", ATHLETES)
def test_running_headers_and_footers_are_pagination_artifacts(guides, athlete):
    doc = guides[athlete]
    total = len(doc.pdf.pages)
    assert pagination_text(doc, 1) == ""  # the cover has none
    for page in range(2, total + 1):
        text = pagination_text(doc, page)
        assert text.endswith(f"Page {page} of {total}") and "Race recovery guide" in text
    assert not re.search(r"Page \d+ of \d+", structure_text(doc))


def test_session_table_headers_say_their_scope(guides):
    doc = guides[HARBOUR]
    scopes = {}
    for node in doc.nodes:
        if node.role == "TH" and "/Table" in node.path:
            scopes.setdefault(node.parent.parent.role, set()).add(str(node.obj.A.Scope))
    assert scopes == {"THead": {"/Column"}, "TBody": {"/Row"}}


def test_a_runner_name_in_another_script_carries_its_language(guides):
    doc = guides[SUMMIT]
    drawn = [n for n in doc.nodes if n.mcids and doc.text_of(n) == "田中 花子"]
    assert drawn and all(n.inherited_lang() == "und-Hani" for n in drawn)
    assert str(doc.pdf.Root.Lang) == "en-US"  # her roster locale


@pytest.fixture(scope="module")
def arabic_guide() -> TaggedPdf:
    """The one guide rendered here: the example roster's runner whose name is in Arabic
    (right to left) is not in the example build."""
    return TaggedPdf(build(load(), "sm-layla-04", ("pdf",)).files["pdf"])


def test_a_right_to_left_name_carries_its_language_and_reads_in_order(arabic_guide):
    assert shown(check(arabic_guide)) == ""
    named = [n for n in arabic_guide.nodes if n.lang == "ar"]
    # the page draws the glyphs right to left; /ActualText says the name in reading order
    assert [arabic_guide.text_of(n) for n in named] == ["ليلى حداد"]
    assert "Prepared for ليلى حداد" in structure_text(arabic_guide).replace("PREPARED FOR",
                                                                            "Prepared for")


@pytest.mark.parametrize(("text", "tag"), [
    ("田中 花子", "und-Hani"),  # Han alone: Chinese or Japanese, the name does not say
    ("たなか はなこ", "ja"), ("タナカ・ハナコ", "ja"), ("김지호", "ko"), ("ليلى حداد", "ar"),
    ("Олександр Коваль", "und-Cyrl"), ("Νίκος", "el"),
    ("Zoë Ó Briain", None), ("Maya Patel 🏃‍♀️", None), ("", None), (None, None),
])
def test_text_in_another_script_gets_a_language_tag(text, tag):
    assert text_lang(text) == tag


def landmarks(doc: TaggedPdf) -> list[str]:
    """Headings (H1, H2) and the not-medical-advice notice, in structure order."""
    found = []
    for node in doc.nodes:
        text = " ".join(doc.text_of(node).split())
        if node.role in ("H1", "H2"):
            found.append(text)
        elif node.role == "P" and text.startswith("Important:"):
            assert DISCLAIMER in text
            found.append(NOTICE)
    return found


def contents(doc: TaggedPdf) -> list[str]:
    """The titles the contents page lists, in its order ("01 Title 3" -> "Title")."""
    links = [" ".join(doc.text_of(n).split()) for n in doc.nodes
             if n.role == "Link" and n.page == 2]
    return [re.fullmatch(r"\d+ (.+) \d+", text).group(1) for text in links]


@pytest.mark.parametrize("athlete", ATHLETES)
def test_structure_reads_cover_contents_plan_sessions_notes_modules_booking_notice(guides,
                                                                                   athlete):
    doc = guides[athlete]
    entries = contents(doc)
    has_notes = athlete == HARBOUR
    assert entries[:2] == ["Your plan at a glance", "Your dated sessions"]
    assert ("Notes from your clinic" in entries) == has_notes
    if has_notes:
        assert entries[2] == "Notes from your clinic"
    book = entries.index("Book your sessions")
    assert book > 2 + has_notes  # the modules with the runner's dates come before booking
    expected = ["Your race recovery guide", NOTICE, "Contents", *entries[:book + 1], NOTICE,
                *entries[book + 1:]]
    assert landmarks(doc) == expected
    text = structure_text(doc)
    assert text.startswith(doc.text_of(doc.nodes[0]).split(" ")[0])  # nothing before cover


# ------------------------------------------------------------- the checks notice problems

def spoil(data: bytes, how) -> list[Finding]:
    """``check`` of ``data`` after ``how(doc)`` changed it."""
    doc = TaggedPdf(data)
    how(doc)
    buffer = io.BytesIO()
    doc.pdf.save(buffer)
    return check(buffer.getvalue())


def first(doc: TaggedPdf, role: str):
    return next(n for n in doc.nodes if n.role == role)


def drop_alt(doc):
    del first(doc, "Figure").obj["/Alt"]


def drop_scope(doc):
    del first(doc, "TH").obj.A["/Scope"]


def skip_heading_level(doc):
    first(doc, "H2").obj.S = pikepdf.Name("/H4")


def drop_link_contents(doc):
    link = next(a for a in doc.pdf.pages[1].obj.Annots if a.Subtype == "/Link")
    del link["/Contents"]


def drop_lang(doc):
    for node in doc.nodes:
        if "/Lang" in node.obj:
            del node.obj["/Lang"]


def drop_to_unicode(doc):
    font = next(iter(doc.pdf.pages[1].obj.Resources.Font.values()))
    del font["/ToUnicode"]


def draw_untagged(doc):
    doc.pdf.pages[1].contents_add(pikepdf.Stream(doc.pdf, b"q 0 0 10 10 re f Q"))


def orphan_content(doc):
    heading = first(doc, "H1")
    parent = heading.parent.obj
    parent.K = pikepdf.Array([k for k in parent.K if k.objgen != heading.obj.objgen])


def break_list(doc):
    first(doc, "LI").obj.S = pikepdf.Name("/Div")


@pytest.mark.parametrize(("athlete", "how", "expected"), [
    (HARBOUR, drop_alt, r"page 1: Document/Sect\[1\]/Div\[1\]/Figure: Figure has neither "
                        r"/Alt nor /ActualText"),
    (HARBOUR, drop_scope, r"page \d+: \S+/THead/TR/TH\[1\]: header cell 'DATE' has no /Scope"),
    (HARBOUR, skip_heading_level, r"page 2: \S+/H4: heading 'Contents' skips from H1 to H4"),
    (HARBOUR, drop_link_contents, r"page 2: Link annotation to timeline: has no /Contents"),
    (SUMMIT, drop_lang, r"page 1: \S+/Span: text '田中 花子' is not in the document's script "
                        r"but carries no /Lang"),
    (HARBOUR, drop_to_unicode, r"page \d+: font /\w+ \(/\S+\): has no ToUnicode map"),
    (HARBOUR, draw_untagged, r"page 2: content: f is drawn outside any tagged content"),
    (HARBOUR, orphan_content, r"page 1: MCID \d+: marked content 'Your race recovery guide' "
                              r"belongs to no element"),
    (HARBOUR, break_list, r"page 1: \S+/L/Div\[?1?\]?: Div inside L"),
])
def test_the_checks_catch_a_spoiled_pdf_and_name_page_and_element(pdfs, athlete, how,
                                                                  expected):
    """Each PDF passes every check (test above); spoiled one way, the right check fails."""
    data = next(d for p, d in pdfs.items() if p.endswith(f"/{athlete}.pdf"))
    findings = spoil(data, how)
    assert any(re.match(expected, str(f)) for f in findings), shown(findings)
