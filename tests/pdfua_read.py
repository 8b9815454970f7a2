"""Reading a tagged PDF for the PDF/UA checks (tests/pdfua_checks.py), with pikepdf:
its structure tree (every element with its path, page, marked-content ids, annotations
and /Lang) and, per page, what the content stream draws and who owns it (an MCID, an
Artifact, or nothing), with the text decoded through each font's ToUnicode map.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf

PAINT = {"f", "F", "f*", "S", "s", "B", "B*", "b", "b*", "sh", "Do", "INLINE IMAGE",
         "Tj", "TJ", "'", '"'}
TEXT = {"Tj", "TJ", "'", '"'}


@dataclass(eq=False)
class Node:
    """One structure element, with what it owns directly."""

    obj: pikepdf.Dictionary
    role: str
    path: str
    page: int | None
    parent: Node | None
    children: list[Node] = field(default_factory=list)
    mcids: list[tuple[int, int]] = field(default_factory=list)  # (page, mcid), in K order
    kids: list = field(default_factory=list)  # Node | (page, mcid) | annotation, in K order
    annotations: list[pikepdf.Dictionary] = field(default_factory=list)

    @property
    def lang(self) -> str | None:
        value = self.obj.get("/Lang")
        return None if value is None else str(value)

    def inherited_lang(self) -> str | None:
        node: Node | None = self
        while node is not None:
            if node.lang:
                return node.lang
            node = node.parent
        return None


@dataclass
class Marked:
    """What one page's content stream draws, by owner."""

    mcids: set[int] = field(default_factory=set)  # every MCID a BDC opens
    text: dict[int, list[str]] = field(default_factory=dict)  # mcid -> text shown
    artifacts: list[tuple[dict, str]] = field(default_factory=list)  # (properties, text)
    untagged: list[str] = field(default_factory=list)  # operators drawn outside any mark


class TaggedPdf:
    """A PDF read once: its structure tree and what each page draws."""

    def __init__(self, source: Path | bytes | pikepdf.Pdf):
        if isinstance(source, pikepdf.Pdf):
            self.pdf = source
        elif isinstance(source, bytes | bytearray):
            import io
            self.pdf = pikepdf.open(io.BytesIO(bytes(source)))
        else:
            self.pdf = pikepdf.open(source)
        self.page_of = {page.obj.objgen: i + 1 for i, page in enumerate(self.pdf.pages)}
        self._cmaps: dict = {}
        self.marked = [self._scan(i + 1, page) for i, page in enumerate(self.pdf.pages)]
        root = self.pdf.Root.get("/StructTreeRoot")
        self.role_map = dict(root.get("/RoleMap", {})) if root is not None else {}
        self.nodes: list[Node] = []  # every element, depth first (structure order)
        if root is not None:
            self._walk(root.get("/K"), None, "", None)

    # -- the structure tree ------------------------------------------------------------
    def _role(self, obj) -> str:
        role = str(obj.get("/S", "/?"))
        seen = set()
        while role in self.role_map and role not in seen:
            seen.add(role)
            role = str(self.role_map[role])
        return role.lstrip("/")

    def _walk(self, kids, parent: Node | None, path: str, page: int | None) -> None:
        if kids is None:
            return
        items = list(kids) if isinstance(kids, pikepdf.Array) else [kids]
        counts: dict[str, int] = {}
        for kid in items:
            if isinstance(kid, int):
                if parent is not None and page is not None:
                    parent.mcids.append((page, int(kid)))
                    parent.kids.append((page, int(kid)))
                continue
            if not isinstance(kid, pikepdf.Dictionary):
                continue
            kid_type = kid.get("/Type")
            kid_page = self.page_of.get(kid.Pg.objgen) if "/Pg" in kid else page
            if kid_type == "/MCR":
                if parent is not None and kid_page is not None:
                    parent.mcids.append((kid_page, int(kid.MCID)))
                    parent.kids.append((kid_page, int(kid.MCID)))
                continue
            if kid_type == "/OBJR":
                if parent is not None:
                    parent.annotations.append(kid.Obj)
                    parent.kids.append(kid.Obj)
                continue
            role = self._role(kid)
            counts[role] = counts.get(role, 0) + 1
            same = sum(1 for k in items if isinstance(k, pikepdf.Dictionary)
                       and k.get("/Type") not in ("/MCR", "/OBJR") and self._role(k) == role)
            name = role if same == 1 else f"{role}[{counts[role]}]"
            node = Node(kid, role, f"{path}/{name}" if path else name, kid_page, parent)
            self.nodes.append(node)
            if parent is not None:
                parent.children.append(node)
                parent.kids.append(node)
            self._walk(kid.get("/K"), node, node.path, kid_page)

    def text_of(self, node: Node) -> str:
        """The text ``node`` and its descendants draw, in structure order; for an element
        with /Alt (a Figure) or /ActualText, that: what a screen reader reads instead."""
        for key in ("/Alt", "/ActualText"):
            if key in node.obj:
                return str(node.obj[key])
        parts = []
        for kid in node.kids:
            if isinstance(kid, Node):
                parts.append(self.text_of(kid))
            elif isinstance(kid, tuple):
                page, mcid = kid
                parts.append("".join(self.marked[page - 1].text.get(mcid, [])))
        return " ".join(p for p in parts if p.strip())

    # -- page content ------------------------------------------------------------------
    def _scan(self, number: int, page) -> Marked:
        marked = Marked()
        fonts = page.obj.get("/Resources", {}).get("/Font", {})
        stack: list[tuple[str, dict | None]] = []
        font_stack: list = []
        font = None
        for operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            if op in ("BDC", "BMC"):
                props = operands[1] if op == "BDC" and len(operands) > 1 else None
                if isinstance(props, pikepdf.Name):  # a named property list
                    props = page.obj.Resources.get("/Properties", {}).get(props)
                props = dict(props) if isinstance(props, pikepdf.Dictionary) else None
                if props is not None and "/MCID" in props:
                    marked.mcids.add(int(props["/MCID"]))
                stack.append((str(operands[0]).lstrip("/"), props))
            elif op == "EMC" and stack:
                stack.pop()
            elif op == "q":
                font_stack.append(font)
            elif op == "Q" and font_stack:
                font = font_stack.pop()
            elif op == "Tf":
                font = fonts.get(operands[0])
            if op not in PAINT:
                continue
            text = self._decode(font, operands, op) if op in TEXT else ""
            mcid = next((int(p["/MCID"]) for _, p in reversed(stack)
                         if p is not None and "/MCID" in p), None)
            artifact = next((p or {} for tag, p in stack if tag == "Artifact"), None)
            if artifact is not None:
                marked.artifacts.append((artifact, text))
            elif mcid is not None:
                marked.text.setdefault(mcid, []).append(text)
            else:
                shown = f"{op} {text!r}" if text else op
                marked.untagged.append(shown)
        return marked

    def _decode(self, font, operands, op: str) -> str:
        if font is None:
            return ""
        cmap, width = self._cmap(font)
        chunks = []
        strings = operands[0] if op == "TJ" else [operands[-1]]
        for item in strings:
            if isinstance(item, pikepdf.String):
                raw = bytes(item)
                for i in range(0, len(raw) - width + 1, width):
                    code = int.from_bytes(raw[i:i + width], "big")
                    chunks.append(cmap.get(code, "\ufffd"))
        return "".join(chunks)

    def _cmap(self, font) -> tuple[dict[int, str], int]:
        key = font.objgen
        if key not in self._cmaps:
            width = 2 if font.get("/Subtype") == "/Type0" else 1
            self._cmaps[key] = (parse_to_unicode(font.get("/ToUnicode")), width)
        return self._cmaps[key]

    # -- fonts -------------------------------------------------------------------------
    def fonts(self) -> list[tuple[int, str, pikepdf.Dictionary]]:
        """(page, resource name, font) of every font a page uses, forms included."""
        found = []
        seen: set = set()

        def visit(number: int, resources) -> None:
            if resources is None or resources.objgen in seen and resources.objgen != (0, 0):
                return
            seen.add(resources.objgen)
            for name, font in resources.get("/Font", {}).items():
                found.append((number, name, font))
            for xobject in resources.get("/XObject", {}).values():
                visit(number, xobject.get("/Resources"))
            for pattern in resources.get("/Pattern", {}).values():
                visit(number, pattern.get("/Resources"))

        for i, page in enumerate(self.pdf.pages):
            visit(i + 1, page.obj.get("/Resources"))
        return found


def parse_to_unicode(stream) -> dict[int, str]:
    """code -> text of a ToUnicode CMap (bfchar and bfrange entries)."""
    if stream is None:
        return {}
    text = stream.read_bytes().decode("latin-1")
    cmap: dict[int, str] = {}

    def utf16(hexa: str) -> str:
        return bytes.fromhex(hexa).decode("utf-16-be", errors="replace")

    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>", block):
            cmap[int(src, 16)] = utf16(dst)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(
                r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(<[0-9a-fA-F]+>|\[[^\]]*\])", block):
            lo_i, hi_i = int(lo, 16), int(hi, 16)
            if dst.startswith("["):
                for i, item in enumerate(re.findall(r"<([0-9a-fA-F]*)>", dst)):
                    cmap[lo_i + i] = utf16(item)
            else:
                start = int(dst[1:-1], 16)
                digits = len(dst) - 2
                for i in range(hi_i - lo_i + 1):
                    cmap[lo_i + i] = utf16(f"{start + i:0{digits}x}")
    return cmap


def structure_text(doc: TaggedPdf) -> str:
    """The document's text in structure order, one space between elements' texts."""
    roots = [n for n in doc.nodes if n.parent is None]
    return re.sub(r"\s+", " ", " ".join(doc.text_of(n) for n in roots)).strip()
