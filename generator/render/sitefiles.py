"""The site's small fixed files: ``/favicon.ico`` (a dot in the brand colour, drawn here
so no imaging library is needed) and the empty ``plans/index.html``; the brand
colours every page's stylesheet is given (:func:`palette`) and its opening days
(:func:`days_text`); and what the pages need that no module changes, made while the
modules parse (:func:`warm_site`)."""

from __future__ import annotations

import functools
import html
import struct
from pathlib import Path

from generator.core.notes import N_
from generator.core.vocab import WEEKDAYS
from generator.load.brands import Brand, contrast, rgb
from generator.render.codecache import COMPILED
from generator.render.traced import compile_all
from generator.render.words import Words


def favicon_ico(colour: str, size: int = 32) -> bytes:
    """A /favicon.ico (a dot in the brand colour), drawn here so no imaging library is
    needed. Browsers ask for it on every page without an icon link (the plan pages),
    and a 404 there is a console error on the runner's private page."""
    r, g, b = rgb(colour)
    pixels = bytearray()
    for row in _dot(size):  # BMP rows go bottom-up; the circle is symmetric anyway
        for alpha in row:
            pixels += bytes((b, g, r, alpha))
    mask = bytes(((size + 31) // 32) * 4 * size)
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0,
                         len(pixels) + len(mask), 0, 0, 0, 0)
    image = header + bytes(pixels) + mask
    entry = struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(image), 6 + 16)
    return struct.pack("<HHH", 0, 1, 1) + entry + image


@functools.cache
def _dot(size: int) -> tuple[tuple[int, ...], ...]:
    """The favicon's opacity, pixel by pixel: the share of 4x4 samples inside the circle.
    Worked out for one quarter (the rest mirrors it: a sample's squared distance from the
    centre is the same from either side, exactly, in binary fractions)."""
    centre, radius = (size - 1) / 2, size / 2 - 1
    # squared distances of the 4x4 samples in each row and column (computed once)
    span = [[(i + d / 4 - centre) ** 2 for d in (-1.5, -0.5, 0.5, 1.5)] for i in range(size)]
    limit = radius ** 2
    half = (size + 1) // 2
    rows = []
    for y in range(half):
        left = [round(255 * sum(sx + sy <= limit for sx in span[x] for sy in span[y]) / 16)
                for x in range(half)]
        rows.append(tuple(left + left[:size - half][::-1]))
    return tuple(rows + rows[:size - half][::-1])


def plans_index(language: str) -> bytes:
    """``plans/index.html``: an empty, unindexed page where a web server that lists
    folders would otherwise list every runner's private plan folder."""
    return ("<!DOCTYPE html>\n"
            f'<html lang="{html.escape(language)}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="robots" content="noindex, nofollow">\n'
            '<meta name="referrer" content="no-referrer">\n'
            "<title>Nothing here</title>\n</head>\n<body></body>\n</html>\n").encode()


def mix(colour: str, background: str, amount: float) -> str:
    """A solid tint (``amount`` of ``colour`` over ``background``): solid colours keep
    contrast checks (axe, WCAG) exact, unlike translucent ones."""
    a, b = rgb(colour), rgb(background)
    return "#" + "".join(f"{round(x * amount + y * (1 - amount)):02x}"
                       for x, y in zip(a, b, strict=True))


def palette(brand) -> dict[str, str]:
    """CSS custom properties derived from the brand colours."""
    c = brand.colors
    on_primary = max(("#ffffff", c.text, "#000000"), key=lambda t: contrast(t, c.primary))
    return {"tint": mix(c.primary, c.background, 0.07), "soft": mix(c.primary, c.background, 0.2),
            "on_primary": on_primary}


def days_text(days, words: Words) -> str:
    """['mon'..'sat'] -> 'Monday to Saturday'; ['tue', 'thu'] -> 'Tuesday and Thursday'."""
    order = list(WEEKDAYS)
    idx = sorted(order.index(d) for d in days)
    if len(idx) >= 3 and idx == list(range(idx[0], idx[-1] + 1)):
        return words.gettext(N_("%(first)s to %(last)s"), first=words.weekday(order[idx[0]]),
                             last=words.weekday(order[idx[-1]]))
    return words.join(words.weekday(order[i]) for i in idx)


def warm_site(renderer, project, brands: dict[str, Brand], out: Path | None) -> None:
    """What the site's pages need and no module changes, made while the modules parse
    (``load_inputs``'s ``meanwhile``): each language's dates and words (Babel's locale
    data), and the site's templates compiled in each language's environment (the code
    kept in ``out``'s cache, as ``build_site`` keeps it)."""
    settings = project.settings
    brand = brands.get(settings.site_brand or settings.default_brand)
    if brand is None:
        return
    COMPILED.use(out)
    try:
        for lang in project.languages.all:
            words = renderer.words(project.languages.language(lang))
            days_text(brand.open_days, words)
            compile_all(renderer.env(brand, words))
    finally:
        COMPILED.use(None)
