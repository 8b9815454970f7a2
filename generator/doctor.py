"""`guidegen doctor`: which system libraries and fonts PDF making will use.

Checks shared libraries with ctypes (no WeasyPrint import needed, so it also
works when Pango is missing and WeasyPrint cannot load).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import subprocess
from dataclasses import dataclass

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


def run_checks(wanted_fonts: list[str] | None = None) -> list[Check]:
    checks = []
    pango = _pango_version()
    checks.append(Check("Pango", pango is not None and version_tuple(pango) >= PANGO_MIN,
                        f"version {pango}" if pango else "not found",
                        f"{APT} libpango-1.0-0 libpangoft2-1.0-0"))
    hb = _library(["harfbuzz"])
    checks.append(Check("HarfBuzz", hb is not None, hb or "not found", f"{APT} libharfbuzz0b"))
    subset = _library(["harfbuzz-subset"])
    checks.append(Check("HarfBuzz subset (fast font subsetting)", subset is not None,
                        subset or "not found: WeasyPrint falls back to fontTools, several "
                        "times slower", f"{APT} libharfbuzz-subset0", required=False))
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
    for lang, script, package in (("ja", "Japanese/Chinese (CJK)", "fonts-wqy-microhei"),
                                  ("ko", "Korean", "fonts-wqy-microhei"),
                                  ("ar", "Arabic", "fonts-dejavu-core")):
        ok = _has_lang(lang)
        checks.append(Check(f"a font for {script} names", ok,
                            "installed" if ok else "none: such names show as empty boxes "
                            "in PDFs", f"{APT} {package}", required=False))
    return checks
