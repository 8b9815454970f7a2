"""Structural PDF/UA-1 checks of a tagged PDF: the part of what a validator (veraPDF, PAC)
checks that can be decided from the file alone, read with pikepdf (tests/pdfua_read.py).

``check(pdf)`` returns a list of :class:`Finding` (empty: every check passed), each naming
the page and the element, e.g. ``page 9: Document/Part/Sect[4]/Figure: Figure has neither
/Alt nor /ActualText``. The checks, with the Matterhorn Protocol checkpoint in brackets:

* document: /Lang, a title shown as the window title (dc:title, DisplayDocTitle),
  MarkInfo /Marked, ``pdfuaid:part`` 1 in the XMP (06, 07, 11);
* content: every painting operator of every page is inside marked content owned by a
  structure element (an MCID) or inside an Artifact; every MCID of a page belongs to an
  element reachable from the root, and the ParentTree says the same; every MCID the tree
  names is on its page (01);
* artifacts: an Artifact that draws text (running header or footer) says its /Type,
  Pagination for those (18);
* every Figure has /Alt or /ActualText (13);
* headings: the first is H1, no level skipped, no heading inside a heading (14);
* tables: Table > THead/TBody/TFoot/TR/Caption, rows > TR, TR > TH/TD, every TH has
  /Scope (15);
* lists: L > LI/L/Caption, LI > Lbl/LBody (16);
* links: every Link annotation has /Contents and /StructParent and is owned by a Link
  element through an OBJR; a page with annotations orders tabs by structure (28);
* languages: text in a script other than Latin is under an element with its own /Lang
  (the guides are English: the document's /Lang does not cover it); every /Lang is a
  well-formed language tag (11);
* fonts: every font is embedded and has a ToUnicode map (31).

Plain functions, no pytest, so that any test can run them on any PDF.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from pdfua_read import Node, TaggedPdf, structure_text

__all__ = ["Finding", "TaggedPdf", "check", "pagination_text", "structure_text"]

LANG_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
HEADING = re.compile(r"^H([1-6])$")
ALLOWED_KIDS = {  # role -> roles its child elements may have
    "Table": {"TR", "THead", "TBody", "TFoot", "Caption"},
    "THead": {"TR"}, "TBody": {"TR"}, "TFoot": {"TR"},
    "TR": {"TH", "TD"},
    "L": {"LI", "L", "Caption"},
    "LI": {"Lbl", "LBody"},
}
ALLOWED_PARENTS = {"TR": {"Table", "THead", "TBody", "TFoot"}, "TH": {"TR"}, "TD": {"TR"},
                   "LI": {"L"}, "Lbl": {"LI"}, "LBody": {"LI"}}


@dataclass(frozen=True)
class Finding:
    page: int | None  # 1-based; None for the whole document
    element: str  # structure path (Document/Part/Sect[2]/Figure), or what else is at fault
    message: str

    def __str__(self) -> str:
        where = "document" if self.page is None else f"page {self.page}"
        return f"{where}: {self.element}: {self.message}"


def check(source: Path | bytes | pikepdf.Pdf | TaggedPdf) -> list[Finding]:
    """Every finding of every check below, document first, then by page."""
    doc = source if isinstance(source, TaggedPdf) else TaggedPdf(source)
    findings: list[Finding] = []
    for rule in (check_document, check_content, check_artifacts, check_figures,
                 check_headings, check_nesting, check_tables, check_links, check_languages,
                 check_fonts):
        findings.extend(rule(doc))
    return list(dict.fromkeys(findings))  # the same finding twice on a page: once


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[:limit - 1] + "…")


def check_document(doc: TaggedPdf) -> list[Finding]:
    root, found = doc.pdf.Root, []
    lang = str(root.get("/Lang", "")).strip()
    if not lang:
        found.append(Finding(None, "Catalog", "no /Lang: the document's language is not set"))
    elif not LANG_TAG.match(lang):
        found.append(Finding(None, "Catalog", f"/Lang {lang!r} is not a language tag"))
    if "/StructTreeRoot" not in root:
        found.append(Finding(None, "Catalog", "no /StructTreeRoot: the PDF is not tagged"))
    if not bool(root.get("/MarkInfo", {}).get("/Marked", False)):
        found.append(Finding(None, "Catalog", "MarkInfo /Marked is not true"))
    if not bool(root.get("/ViewerPreferences", {}).get("/DisplayDocTitle", False)):
        found.append(Finding(None, "Catalog", "ViewerPreferences /DisplayDocTitle is not "
                                              "true: viewers show the file name as title"))
    meta = doc.pdf.open_metadata()
    title = meta.get("dc:title")
    if not title or not str(title).strip():
        found.append(Finding(None, "Metadata", "no dc:title in the XMP metadata"))
    if str(meta.get("pdfuaid:part", "")) != "1":
        found.append(Finding(None, "Metadata", "no pdfuaid:part 1 in the XMP metadata"))
    return found


def check_content(doc: TaggedPdf) -> list[Finding]:
    found: list[Finding] = []
    owner: dict[tuple[int, int], Node] = {}
    for node in doc.nodes:
        for key in node.mcids:
            owner.setdefault(key, node)
    for number, marked in enumerate(doc.marked, 1):
        for shown in dict.fromkeys(marked.untagged):
            found.append(Finding(number, "content", f"{shown} is drawn outside any tagged "
                                                    "content or Artifact"))
        for mcid in sorted(marked.mcids):
            if (number, mcid) not in owner:
                text = "".join(marked.text.get(mcid, []))
                found.append(Finding(number, f"MCID {mcid}", f"marked content {_short(text)} "
                                     "belongs to no element of the structure tree"))
    for (number, mcid), node in owner.items():
        if number <= len(doc.marked) and mcid not in doc.marked[number - 1].mcids:
            found.append(Finding(number, node.path, f"names MCID {mcid}, which the page's "
                                                    "content does not have"))
    parents = _parent_tree(doc)
    for number, page in enumerate(doc.pdf.pages, 1):
        index = page.obj.get("/StructParents")
        mcids = doc.marked[number - 1].mcids
        if mcids and index is None:
            found.append(Finding(number, "page", "has marked content but no /StructParents"))
            continue
        listed = parents.get(int(index)) if index is not None else None
        for mcid in sorted(mcids):
            node = owner.get((number, mcid))
            entry = listed[mcid] if listed is not None and mcid < len(listed) else None
            if node is not None and (entry is None or entry.objgen != node.obj.objgen):
                found.append(Finding(number, node.path, f"the ParentTree does not map "
                                                        f"MCID {mcid} to this element"))
    return found


def _parent_tree(doc: TaggedPdf) -> dict[int, pikepdf.Array]:
    root = doc.pdf.Root.get("/StructTreeRoot")
    tree = root.get("/ParentTree") if root is not None else None
    entries: dict[int, pikepdf.Array] = {}

    def visit(node) -> None:
        nums = node.get("/Nums")
        if nums is not None:
            for i in range(0, len(nums) - 1, 2):
                value = nums[i + 1]
                if isinstance(value, pikepdf.Array):
                    entries[int(nums[i])] = value
        for kid in node.get("/Kids", []):
            visit(kid)

    if tree is not None:
        visit(tree)
    return entries


def check_artifacts(doc: TaggedPdf) -> list[Finding]:
    found = []
    for number, marked in enumerate(doc.marked, 1):
        for props, text in marked.artifacts:
            if text.strip() and "/Type" not in props:
                found.append(Finding(number, "Artifact", f"draws text {_short(text)} but has "
                                     "no /Type (Pagination for running headers and footers)"))
    return found


def pagination_text(doc: TaggedPdf, page: int) -> str:
    """The text page ``page`` (1-based) draws as Pagination artifacts."""
    return "".join(text for props, text in doc.marked[page - 1].artifacts
                   if str(props.get("/Type", "")) == "/Pagination")


def check_figures(doc: TaggedPdf) -> list[Finding]:
    found = []
    for node in doc.nodes:
        if node.role != "Figure":
            continue
        alt = str(node.obj.get("/Alt", node.obj.get("/ActualText", ""))).strip()
        if not alt:
            found.append(Finding(node.page, node.path, "Figure has neither /Alt nor "
                                                       "/ActualText"))
    return found


def check_headings(doc: TaggedPdf) -> list[Finding]:
    found, previous = [], 0
    for node in doc.nodes:
        match = HEADING.match(node.role)
        if not match:
            continue
        level = int(match.group(1))
        ancestor = node.parent
        while ancestor is not None and not HEADING.match(ancestor.role):
            ancestor = ancestor.parent
        text = _short(doc.text_of(node))
        if ancestor is not None:
            found.append(Finding(node.page, node.path, f"heading {text} is inside heading "
                                                       f"{ancestor.path}"))
        elif previous == 0 and level != 1:
            found.append(Finding(node.page, node.path, f"the first heading, {text}, is "
                                                       f"H{level}, not H1"))
        elif level > previous + 1 and previous:
            found.append(Finding(node.page, node.path, f"heading {text} skips from "
                                                       f"H{previous} to H{level}"))
        if ancestor is None:
            previous = level
    return found


def check_nesting(doc: TaggedPdf) -> list[Finding]:
    found = []
    for node in doc.nodes:
        allowed = ALLOWED_KIDS.get(node.role)
        if allowed is not None:
            for kid in node.children:
                if kid.role not in allowed:
                    found.append(Finding(kid.page, kid.path, f"{kid.role} inside {node.role} "
                                         f"(allowed: {', '.join(sorted(allowed))})"))
            if node.role in ("TR", "LI") and node.mcids:
                found.append(Finding(node.page, node.path, f"{node.role} holds content "
                                     "directly, outside its cells or Lbl/LBody"))
        parents = ALLOWED_PARENTS.get(node.role)
        parent_role = node.parent.role if node.parent is not None else None
        if parents is not None and parent_role not in parents:
            found.append(Finding(node.page, node.path, f"{node.role} is not inside "
                                 f"{' or '.join(sorted(parents))}"))
    return found


def check_tables(doc: TaggedPdf) -> list[Finding]:
    found = []
    for node in doc.nodes:
        if node.role != "TH":
            continue
        attributes = node.obj.get("/A")
        dicts = (list(attributes) if isinstance(attributes, pikepdf.Array)
                 else [attributes] if attributes is not None else [])
        scope = next((str(d["/Scope"]) for d in dicts
                      if isinstance(d, pikepdf.Dictionary) and "/Scope" in d), None)
        if scope not in ("/Row", "/Column", "/Both"):
            found.append(Finding(node.page, node.path, f"header cell {_short(doc.text_of(node))}"
                                                       " has no /Scope (Row, Column or Both)"))
    return found


def check_links(doc: TaggedPdf) -> list[Finding]:
    found = []
    owners = {annot.objgen: node for node in doc.nodes for annot in node.annotations}
    for number, page in enumerate(doc.pdf.pages, 1):
        if page.obj.get("/Annots") and page.obj.get("/Tabs") != "/S":
            found.append(Finding(number, "page", "has annotations but no /Tabs /S (tab "
                                                 "order by structure)"))
        for annot in page.obj.get("/Annots", []):
            if annot.get("/Subtype") != "/Link":
                continue
            uri = annot.get("/A", {}).get("/URI")
            target = str(uri if uri is not None else annot.get("/Dest", "?"))
            what = f"Link annotation to {target}"
            if not str(annot.get("/Contents", "")).strip():
                found.append(Finding(number, what, "has no /Contents (its description)"))
            if "/StructParent" not in annot:
                found.append(Finding(number, what, "has no /StructParent"))
            node = owners.get(annot.objgen)
            if node is None:
                found.append(Finding(number, what, "belongs to no element of the structure "
                                                   "tree (no OBJR names it)"))
            elif node.role != "Link":
                found.append(Finding(number, what, f"belongs to {node.path}, not a Link"))
    return found


def foreign_letters(text: str) -> str:
    """The letters of ``text`` that are not Latin script."""
    return "".join(c for c in text if unicodedata.category(c).startswith("L")
                   and not unicodedata.name(c, "LATIN").startswith("LATIN"))


def check_languages(doc: TaggedPdf) -> list[Finding]:
    found = []
    for node in doc.nodes:
        if node.lang is not None and not LANG_TAG.match(node.lang):
            found.append(Finding(node.page, node.path, f"/Lang {node.lang!r} is not a "
                                                       "language tag"))
        own = " ".join("".join(doc.marked[p - 1].text.get(m, [])) for p, m in node.mcids)
        if foreign_letters(own) and node.inherited_lang() is None:
            found.append(Finding(node.page, node.path, f"text {_short(own)} is not in the "
                                 "document's script but carries no /Lang"))
    return found


def check_fonts(doc: TaggedPdf) -> list[Finding]:
    found, seen = [], set()
    for number, name, font in doc.fonts():
        if font.objgen in seen and font.objgen != (0, 0):
            continue
        seen.add(font.objgen)
        what = f"font {name} ({font.get('/BaseFont', font.get('/Subtype'))})"
        if "/ToUnicode" not in font:
            found.append(Finding(number, what, "has no ToUnicode map: its text cannot be "
                                               "read out or copied"))
        if not _embedded(font):
            found.append(Finding(number, what, "is not embedded"))
    return found


def _embedded(font: pikepdf.Dictionary) -> bool:
    if font.get("/Subtype") == "/Type3":
        return True  # drawn by content streams inside the file
    if font.get("/Subtype") == "/Type0":
        font = font.DescendantFonts[0]
    descriptor = font.get("/FontDescriptor")
    return descriptor is not None and any(
        key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
