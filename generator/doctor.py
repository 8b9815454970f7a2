"""`guidegen doctor`: which system libraries and fonts PDF making will use.

Checks shared libraries with ctypes (no WeasyPrint import needed, so it also
works when Pango is missing and WeasyPrint cannot load).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass

from generator import __version__
from generator.load.project import shipped_dir

APT = "apt-get install -y"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None
    required: bool = True


def _library(names: list[str]) -> str | None:
    for name in names:
        path = ctypes.util.find_library(name)
        if path:
            try:
                ctypes.CDLL(path)
                return path
            except OSError:
                continue
    return None


def _pango_version() -> str | None:
    path = _library(["pango-1.0"])
    if not path:
        return None
    lib = ctypes.CDLL(path)
    lib.pango_version_string.restype = ctypes.c_char_p
    return lib.pango_version_string().decode()


PANGO_MIN = (1, 44)


def version_tuple(text: str) -> tuple[int, ...]:
    """'1.50.12' -> (1, 50, 12): versions compare by number, not as strings ("1.9" is
    older than "1.44")."""
    parts = []
    for piece in text.split("."):
        digits = "".join(c for c in piece if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def font_families() -> set[str]:
    if not shutil.which("fc-list"):
        return set()
    out = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True,
                         check=False).stdout
    return {f.strip() for line in out.splitlines() for f in line.split(",") if f.strip()}


def _has_lang(lang: str) -> bool:
    if not shutil.which("fc-list"):
        return False
    out = subprocess.run(["fc-list", f":lang={lang}", "family"], capture_output=True,
                         text=True, check=False).stdout
    return bool(out.strip())


def run_checks(wanted_fonts: list[str] | None = None, project=None) -> list[Check]:
    """The environment checks; with a ``project``, also whether the fonts draw every
    character of its roster and brands."""
    checks = [Check("guidegen", True, f"version {__version__}")]
    defaults = shipped_dir("templates")
    ok = (defaults / "guide.html.j2").is_file()
    checks.append(Check("default templates", ok, str(defaults) if ok else f"{defaults} is "
                        "missing: a broken install", "pip install --force-reinstall guidegen"))
    pango = _pango_version()
    checks.append(Check("Pango", pango is not None and version_tuple(pango) >= PANGO_MIN,
                        f"version {pango}" if pango else "not found",
                        f"{APT} libpango-1.0-0 libpangoft2-1.0-0"))
    hb = _library(["harfbuzz"])
    checks.append(Check("HarfBuzz", hb is not None, hb or "not found", f"{APT} libharfbuzz0b"))
    from generator.pdf import fontsubset

    subset_warning = fontsubset.fallback_warning()
    if subset_warning is None:
        import importlib.metadata as md

        subset_detail = f"uharfbuzz {md.version('uharfbuzz')}"
    checks.append(Check("font subsetting (the pinned uharfbuzz: the same bytes on every "
                        "machine)", subset_warning is None, subset_warning or subset_detail,
                        ".venv/bin/pip install -e .", required=False))
    try:
        import importlib.metadata as md

        version = md.version("weasyprint")
        ok, detail = True, f"version {version}"
    except Exception as exc:  # noqa: BLE001 - report whatever stops it
        ok, detail = False, str(exc)
    checks.append(Check("WeasyPrint (Python package)", ok, detail, "pip install weasyprint"))
    families = font_families()
    checks.append(Check("fonts", bool(families), f"{len(families)} font families"
                        if families else "no fonts found by fontconfig",
                        f"{APT} fontconfig fonts-dejavu-core"))
    for font in wanted_fonts or []:
        checks.append(Check(f"brand font '{font}'", font in families,
                            "installed" if font in families else "not installed: the PDF "
                            "uses a fallback font", f"{APT} fonts-dejavu-core (or install "
                            f"the font '{font}')", required=False))
    if project is not None:  # what the project's own roster and brands need
        checks += coverage_checks(project)
    if project is None or project.roster_path is None:  # no roster to ask: the usual scripts
        for lang, script, package in (("ja", "Japanese/Chinese (CJK)", "fonts-noto-cjk"),
                                      ("ko", "Korean", "fonts-noto-cjk"),
                                      ("ar", "Arabic", "fonts-noto-core")):
            ok = _has_lang(lang)
            checks.append(Check(f"a font for {script} names", ok,
                                "installed" if ok else "none: such names cannot be drawn, "
                                "so their guides are not made", f"{APT} {package}",
                                required=False))
    return checks


_SCRIPT_NOTES = {"Common": "Common (punctuation, symbols, emoji)",
                 "Inherited": "Inherited (combining marks)",
                 "Unknown": "Unknown (private use, unassigned)"}


def _script_of(char: str) -> str:
    try:
        from fontTools import unicodedata as ucd  # installed with WeasyPrint
    except ImportError:  # the first word of its name: LATIN, CJK, HANGUL...
        return unicodedata.name(char, "Unknown").split()[0].title()
    name = ucd.script_name(ucd.script(char), default="Unknown")
    return _SCRIPT_NOTES.get(name, name)


def coverage_checks(project) -> list[Check]:
    """Per Unicode script of the text guides draw (the roster in guidegen.toml and every
    brand): whether the installed fonts draw all of its characters, and which they cannot
    (their runners get no guide), with the Noto packages that cover them."""
    from generator.load.brands import load_brands
    from generator.pdf import coverage as cov

    brands, _ = load_brands(project.brands_dir, project.root)
    texts = [(f"brand {b.id}", text) for b in brands.values() for _, text in cov.brand_texts(b)]
    roster = project.roster_path
    what = "the brands"
    if roster is not None and roster.is_file():
        from generator.load.roster import load_roster

        athletes, _ = load_roster(roster, set(brands), project.root)
        texts += [(a.id, text) for a in athletes for _, text in cov.athlete_texts(a)]
        what = "the roster and brands"
    users: dict[str, set[str]] = {}  # character -> who uses it
    for who, text in texts:
        if not text.isascii():
            for char in unicodedata.normalize("NFC", text):
                if ord(char) > 0x7F and cov.drawn(char):
                    users.setdefault(char, set()).add(who)
    if not users:
        return [Check(f"fonts for the text of {what}", True, "ASCII only: any font draws it")]
    fonts = cov.installed()
    if fonts is None:
        return [Check(f"fonts for the text of {what}", False, "fontconfig's fc-list not "
                      "found: cannot tell which characters the fonts draw",
                      f"{APT} fontconfig", required=False)]
    scripts: dict[str, list[str]] = {}
    for char in sorted(users):
        scripts.setdefault(_script_of(char), []).append(char)
    checks = []
    for script, chars in sorted(scripts.items()):
        missing = [c for c in chars if not fonts.drawable(c)]
        name = f"fonts for {script} text in {what}"
        if not missing:
            checks.append(Check(name, True, f"{len(chars)} characters, all drawable"))
            continue
        who = sorted({w for c in missing for w in users[c]})
        shown = ", ".join(cov.describe(c) for c in missing[:cov.SHOWN])
        if len(missing) > cov.SHOWN:
            shown += f" and {len(missing) - cov.SHOWN} more"
        runners = ", ".join(who[:5]) + (f" and {len(who) - 5} more" if len(who) > 5 else "")
        checks.append(Check(name, False, f"{len(missing)} of {len(chars)} characters cannot "
                            f"be drawn: {shown}; no guide for {runners}",
                            f"{APT} {' '.join(cov.font_packages(missing))}", required=False))
    return checks
