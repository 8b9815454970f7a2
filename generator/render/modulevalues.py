"""The values of the module variables (generator/load/modulevars.py) in one runner's
guide, from the GuidePlan: what ``{{ race.name }}`` says in their HTML, PDF and plan page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from generator.load.modulevars import BY_NAME, nest, neutral_values

if TYPE_CHECKING:
    from generator.load.content import Module
    from generator.plan.guideplan import GuidePlan
    from generator.plan.timeline import Session
    from generator.render.words import Words


def first_name(name: str) -> str:
    """The first word of a name ("Zoë Ó Briain" -> "Zoë"); a name written without spaces
    (田中花子) is kept whole."""
    words = name.split()
    return words[0] if words else name


def neutral_words(words: Words, clinic: str | None = None) -> dict:
    """The site's neutral wording of every variable, in ``words``' language."""
    return neutral_values(clinic, words.gettext)


def site_filler(words: Words, clinic: str | None = None) -> Callable[[Module], Module]:
    """``module -> module.with_values(the site's neutral wording)``; each module filled
    in is listed by the content cache as made from the module and that wording alone
    (``ContentCache.derive``), so the next build keeps its digest (render/pagecache.py)."""
    from generator.load.contentcache import ContentCache
    from generator.render.pagecache import Unhashable, digest

    values = neutral_words(words, clinic)
    try:
        extra = b"site values " + digest(values)
    except Unhashable:
        extra = None

    def fill(module: Module) -> Module:
        filled = module.with_values(values)
        if filled is not module and extra is not None:
            ContentCache.derive(filled, module, extra=extra)
        return filled

    return fill


def guide_values(plan: GuidePlan, words: Words) -> dict:
    """Every declared variable's value for ``plan``'s runner, written in the guide's
    language. A session the plan does not have reads as on the site."""
    athlete = plan.athlete
    flat = {
        "runner.first_name": first_name(athlete.name),
        "runner.name": athlete.name,
        "race.name": athlete.race_name,
        "race.date": words.date_long(athlete.race_date),
        "race.distance_label": words.distance_label(athlete.distance),
        "race.distance": athlete.distance,
        "clinic.name": plan.brand.name,
    }
    sessions: dict[str, Session | None] = {"pre_race": plan.facts.pre_race,
                                           "post_race": plan.facts.post_race}
    for key, session in sessions.items():
        date, time = f"sessions.{key}.date", f"sessions.{key}.time"
        flat[date] = (words.date_long(session.date) if session
                      else words.gettext(BY_NAME[date].neutral))
        flat[time] = (words.time(session.time) if session and session.time
                      else words.gettext(BY_NAME[time].neutral))
    missing = BY_NAME.keys() - flat.keys()
    assert not missing, f"no value for {sorted(missing)}"  # a variable declared, not given
    return nest(flat)
