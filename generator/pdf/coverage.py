"""Which characters the installed fonts can draw: no guide with empty boxes.

Pango draws each character with the first font fontconfig offers that has it, so a
character can be drawn exactly when some installed font covers it. ``installed()`` reads
the union of every font's character set once per process (one ``fc-list`` run, only when
some text is not ASCII) and answers membership with a binary search over merged ranges.

Before rendering, ``check_plans`` tests the text of each runner that a guide draws (name,
race name, notes) and of each brand used (name, address, legal footer...) against it: a
character no font covers is a located error and that runner gets no guide and no email.
While rendering, ``missing_glyphs()`` turns WeasyPrint's ``.notdef`` warnings (a box drawn
for a character, whatever text it came from) into the same error.

Characters that are never drawn (spaces, controls, format characters such as ZWJ,
variation selectors) are not checked; text is checked in NFC, and a character missing in
every font passes when all of its canonical decomposition is covered (HarfBuzz composes
and decomposes to find a glyph).
"""

from __future__ import annotations

import bisect
import functools
import logging
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from generator.core.errors import Problem, display_path
from generator.load.tomlsource import toml_key_line

if TYPE_CHECKING:
    from generator.load.brands import Brand
    from generator.load.inputs import Inputs
    from generator.load.roster import Athlete
    from generator.plan.guideplan import GuidePlan

FONT_PACKAGES = ("fonts-noto-core", "fonts-noto-cjk")
EMOJI_PACKAGE = "fonts-noto-color-emoji"
ATHLETE_FIELDS = ("name", "race_name", "notes")  # what a guide draws of a runner's row
BRAND_FIELDS = (("name",), ("tagline",), ("address",), ("legal_footer",), ("booking_url",),
                ("unsubscribe",), ("contact", "phone"), ("contact", "email"),
                ("contact", "website"))
SHOWN = 3  # characters named in one problem; the rest are counted

# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): shaped to nothing
_IGNORABLE = ((0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
              (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
              (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
              (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
              (0xE0000, 0xE0FFF))
_NOT_DRAWN = {"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"}  # controls, format, surrogates, spaces
_EMOJI = ((0x2600, 0x27BF), (0x1F000, 0x1FAFF))


def drawn(char: str) -> bool:
    """Whether ``char`` needs a glyph (not a space, control or default-ignorable)."""
    cp = ord(char)
    if unicodedata.category(char) in _NOT_DRAWN:
        return False
    return not any(lo <= cp <= hi for lo, hi in _IGNORABLE)


class Coverage:
    """A set of code points, kept as sorted, merged, inclusive ranges."""

    def __init__(self, ranges: Iterable[tuple[int, int]]):
        starts: list[int] = []
        ends: list[int] = []
        for lo, hi in sorted(ranges):
            if starts and lo <= ends[-1] + 1:
                ends[-1] = max(ends[-1], hi)
            else:
                starts.append(lo)
                ends.append(hi)
        self._starts, self._ends = starts, ends
        # printable ASCII covered (any text font): ASCII-only text needs no look-up at all
        self._ascii = all(cp in self for cp in range(0x21, 0x7F))

    @classmethod
    def from_charsets(cls, text: str) -> Coverage:
        """From ``fc-list --format '%{charset}\\n'``: lines of hex ranges ``20-7e a0``."""
        ranges = []
        for token in text.split():
            lo, _, hi = token.partition("-")
            try:
                ranges.append((int(lo, 16), int(hi or lo, 16)))
            except ValueError:
                continue
        return cls(ranges)

    def __contains__(self, cp: int) -> bool:
        i = bisect.bisect_right(self._starts, cp) - 1
        return i >= 0 and cp <= self._ends[i]

    def __len__(self) -> int:
        return sum(hi - lo + 1 for lo, hi in zip(self._starts, self._ends, strict=True))

    def drawable(self, char: str) -> bool:
        if ord(char) in self or not drawn(char):
            return True
        parts = unicodedata.normalize("NFD", char)
        return parts != char and all(ord(c) in self or not drawn(c) for c in parts)

    def missing(self, text: str) -> list[str]:
        """The characters of ``text`` no installed font draws, once each, in order."""
        if self._ascii and text.isascii():
            return []
        text = unicodedata.normalize("NFC", text)
        return [c for c in dict.fromkeys(text) if not self.drawable(c)]


@functools.cache
def installed() -> Coverage | None:
    """What the installed fonts cover (once per process); None when fontconfig's
    ``fc-list`` is missing or lists no font (then nothing is checked before rendering,
    and ``missing_glyphs`` still catches every box WeasyPrint draws)."""
    if shutil.which("fc-list") is None:
        return None
    try:
        done = subprocess.run(["fc-list", "--format", "%{charset}\n"], capture_output=True,
                              text=True, check=False, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    coverage = Coverage.from_charsets(done.stdout)
    return coverage if coverage._starts else None


def describe(char: str) -> str:
    """``U+13000 (EGYPTIAN HIEROGLYPH A001)``."""
    name = unicodedata.name(char, "")
    if not name:
        category = unicodedata.category(char)
        name = {"Co": "private use character", "Cn": "unassigned code point"}.get(
            category, f"a character of category {category}")
    return f"U+{ord(char):04X} ({name})"


def message(chars: list[str], where: str = "") -> str:
    """``no installed font can draw U+13000 (EGYPTIAN HIEROGLYPH A001); install a font
    that covers it (fonts-noto-core, fonts-noto-cjk)``; ``where`` follows the characters."""
    named = ", ".join(describe(c) for c in chars[:SHOWN])
    if len(chars) > SHOWN:
        named += f" and {len(chars) - SHOWN} more"
    them = "it" if len(chars) == 1 else "them"
    return (f"no installed font can draw {named}{where}; install a font that covers {them} "
            f"({', '.join(font_packages(chars))})")


def font_packages(chars: Iterable[str]) -> tuple[str, ...]:
    """The Debian/Ubuntu font packages to suggest for ``chars`` (Noto: "no tofu")."""
    chars = list(chars)
    emoji = [c for c in chars if any(lo <= ord(c) <= hi for lo, hi in _EMOJI)]
    return (((EMOJI_PACKAGE,) if emoji else ())
            + (FONT_PACKAGES if len(emoji) < len(chars) else ()))


def athlete_texts(athlete: Athlete) -> Iterator[tuple[str, str]]:
    """(field, text) of every runner string a guide draws."""
    for name in ATHLETE_FIELDS:
        value = getattr(athlete, name, None)
        if isinstance(value, str) and value:
            yield name, value


def brand_texts(brand: Brand) -> Iterator[tuple[tuple[str, ...], str]]:
    """(key path in brand.toml, text) of every brand string a guide draws."""
    for path in BRAND_FIELDS:
        value = brand.config
        for key in path:
            value = getattr(value, key, None)
        if isinstance(value, str) and value:
            yield path, value


@dataclass
class Undrawable:
    """What ``check_plans`` found."""

    problems: list[Problem] = field(default_factory=list)  # brand texts, once per brand
    runners: dict[str, list[Problem]] = field(default_factory=dict)  # id -> why no guide

    def all_problems(self) -> list[Problem]:
        return [*self.problems, *(p for found in self.runners.values() for p in found)]


class _Lazy:
    """``installed()`` asked only when some text is not ASCII (every font covers ASCII)."""

    def __init__(self, coverage: Coverage | None):
        self.coverage, self.asked = coverage, coverage is not None

    def missing(self, text: str) -> list[str]:
        if text.isascii():
            return []
        if not self.asked:
            self.coverage, self.asked = installed(), True
        return self.coverage.missing(text) if self.coverage is not None else []


def check_plans(inputs: Inputs, plans: Iterable[GuidePlan],
                coverage: Coverage | None = None) -> Undrawable:
    """Every runner's and brand's drawn text against the installed fonts (``coverage``,
    default ``installed()``). A runner with a character no font covers, or whose brand
    has one, is listed in ``runners`` with the located problems to report."""
    found = Undrawable()
    fonts = _Lazy(coverage)
    source = inputs.roster_source or "roster"
    brands: dict[str, bool] = {}  # brand id -> drawable
    for plan in plans:
        brand = plan.brand
        if brand.id not in brands:
            problems = brand_problems(brand, fonts, inputs.project.root)
            found.problems += problems
            brands[brand.id] = not problems
        line = inputs.roster_lines.get(plan.id)
        problems = [Problem(source, line, message(chars), name, "error", plan.id)
                    for name, text in athlete_texts(plan.athlete)
                    if (chars := fonts.missing(text))]
        if not brands[brand.id]:
            shown = display_path(brand.folder / "brand.toml", inputs.project.root)
            problems.append(Problem(source, line, f"{plan.id}: no guide: brand {brand.id!r} "
                                    f"has text no installed font can draw (see {shown})",
                                    None, "error", plan.id))
        if problems:
            found.runners[plan.id] = problems
    return found


def brand_problems(brand: Brand, fonts, root) -> list[Problem]:
    shown = display_path(brand.folder / "brand.toml", root)
    problems, text = [], None
    for path, value in brand_texts(brand):
        chars = fonts.missing(value)
        if chars:
            if text is None:
                text = (brand.folder / "brand.toml").read_text(encoding="utf-8")
            problems.append(Problem(shown, toml_key_line(text, path), message(chars),
                                    ".".join(path)))
    return problems


# ------------------------------------------------------------ while rendering

NOTDEF = ".notdef glyph"  # weasyprint/draw/text.py: LOGGER.warning('.notdef glyph ...')


@contextmanager
def missing_glyphs() -> Iterator[list[int]]:
    """Collect the code points WeasyPrint draws as ``.notdef`` (an empty box) in the block.

    WeasyPrint logs each one on its ``weasyprint`` logger, which PdfMaker silences (level
    CRITICAL, possibly set inside the block when the first PDF is made there), so the
    logger's ``warning`` is wrapped for the block instead of adding a handler: every other
    message goes on as before, and an enclosing capture sees the boxes too."""
    logger = logging.getLogger("weasyprint")
    found: list[int] = []
    plain = logger.warning  # the Logger's own, or an enclosing capture's

    def warning(msg, *args, **kwargs):
        if isinstance(msg, str) and msg.startswith(NOTDEF):
            code = args[1] if len(args) > 1 and isinstance(args[1], int) else None
            if code is None and args and isinstance(args[0], str) and len(args[0]) == 1:
                code = ord(args[0])
            found.append(code if code is not None else 0xFFFD)
        return plain(msg, *args, **kwargs)

    wrapped = "warning" in vars(logger)
    logger.warning = warning
    try:
        yield found
    finally:
        if wrapped:
            logger.warning = plain
        else:
            del logger.warning


def notdef_problems(plan: GuidePlan, codes: Iterable[int], source: str,
                    line: int | None) -> list[Problem]:
    """The boxes WeasyPrint drew in ``plan``'s guide as located errors at the runner's
    row: by field where the runner's text has the character, else as the guide's text
    (content, templates or the brand)."""
    chars = [chr(c) for c in dict.fromkeys(codes)]
    problems, left = [], set(chars)
    for name, text in athlete_texts(plan.athlete):
        text = unicodedata.normalize("NFC", text)
        mine = [c for c in chars if c in left and c in text]
        if mine:
            problems.append(Problem(source, line, message(mine), name, "error", plan.id))
            left -= set(mine)
    rest = [c for c in chars if c in left]
    if rest:
        problems.append(Problem(source, line, f"{plan.id}: " + message(
            rest, " in the guide's text (content, templates or brand)"), None, "error",
            plan.id))
    return problems
