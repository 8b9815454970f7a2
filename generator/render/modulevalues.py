"""The values of the module variables (generator/load/modulevars.py) in one runner's
guide, from the GuidePlan: what ``{{ race.name }}`` says in their HTML, PDF and plan page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from generator.load.modulevars import BY_NAME, nest, neutral_values

if TYPE_CHECKING:
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
