"""The values of the module variables (generator/load/modulevars.py) in one runner's
guide, from the GuidePlan: what ``{{ race.name }}`` says in their HTML, PDF and plan page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from generator.load.modulevars import BY_NAME, DISTANCE_LABELS, nest

if TYPE_CHECKING:
    import datetime as dt

    from generator.plan.guideplan import GuidePlan
    from generator.plan.timeline import Session


def first_name(name: str) -> str:
    """The first word of a name ("Zoë Ó Briain" -> "Zoë"); a name written without spaces
    (田中花子) is kept whole."""
    words = name.split()
    return words[0] if words else name


def guide_values(plan: GuidePlan, date_long: Callable[[dt.date], str]) -> dict:
    """Every declared variable's value for ``plan``'s runner (``date_long``: how the guide
    writes dates). A session the plan does not have reads as on the site."""
    athlete = plan.athlete
    flat = {
        "runner.first_name": first_name(athlete.name),
        "runner.name": athlete.name,
        "race.name": athlete.race_name,
        "race.date": date_long(athlete.race_date),
        "race.distance_label": DISTANCE_LABELS[athlete.distance],
        "race.distance": athlete.distance,
        "clinic.name": plan.brand.name,
    }
    sessions: dict[str, Session | None] = {"pre_race": plan.facts.pre_race,
                                           "post_race": plan.facts.post_race}
    for key, session in sessions.items():
        date, time = f"sessions.{key}.date", f"sessions.{key}.time"
        flat[date] = date_long(session.date) if session else BY_NAME[date].neutral
        flat[time] = session.time if session and session.time else BY_NAME[time].neutral
    missing = BY_NAME.keys() - flat.keys()
    assert not missing, f"no value for {sorted(missing)}"  # a variable declared, not given
    return nest(flat)
