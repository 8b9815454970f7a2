"""The domain's words, defined once: weekdays, distances, experience, frequencies,
session kinds and pressures. Schemas (roster, brands, front matter), the planner and the
pages all take them from here; the shapes of text fields with the words messages say them
in (:data:`PATTERN_WORDS`); and :func:`counted`, for the English the command line speaks
("1 brand", "3 brands")."""

from __future__ import annotations

from typing import Literal, get_args

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = get_args(Weekday)  # index = datetime.date.weekday()
DAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                "Saturday", "Sunday"), strict=True))

Distance = Literal["marathon", "half-marathon", "ultra"]
Experience = Literal["first", "returning", "competitive"]
Frequency = Literal["weekly", "biweekly", "auto"]

SessionKind = Literal["maintenance", "pre-race", "post-race"]  # what a module may declare
SESSION_KINDS: tuple[str, ...] = get_args(SessionKind)
RACE = "race"  # the all-day race event on a timeline (not a session rule)

Pressure = Literal["light", "moderate", "firm"]
PRESSURES: tuple[str, ...] = get_args(Pressure)
NO_PRESSURE = "none"  # the race itself


# The shapes a text field must have, and how a message says each to the person who edits
# the file: a regular expression is no help to a clinic's receptionist.
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
HEX_COLOUR = r"^#[0-9a-fA-F]{6}$"
SLUG = r"^[a-z0-9][a-z0-9-]{0,63}$"
WEB_ADDRESS = r"^https?://\S+$"
MAIL_OR_WEB = r"^(mailto:|https?://)\S+$"
EMAIL_SHAPE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
FONT_NAME = r"^[A-Za-z0-9 _-]{1,60}$"
PATTERN_WORDS = {
    HHMM: "a time of day as HH:MM, 24-hour, such as 17:30",
    HEX_COLOUR: "a colour as #rrggbb, such as #0b5d6b",
    SLUG: "lowercase letters, digits and '-', starting with a letter or digit (at most 64)",
    WEB_ADDRESS: "a web address starting with http:// or https://",
    MAIL_OR_WEB: "a mailto: address or a web address starting with http:// or https://",
    EMAIL_SHAPE: "an email address, such as hello@example.com",
    FONT_NAME: "a font family's name: letters, digits, spaces, '_' or '-' (at most 60)",
}


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun`` in the command line's English: "1 error", "0 errors", "2
    entries" (a consonant's "y" becomes "ies"); ``plural`` for any other plural."""
    return f"{n} {noun_for(n, noun, plural)}"


def noun_for(n: int, noun: str, plural: str | None = None) -> str:
    """``noun`` as :func:`counted` says it after ``n``, without the number ("column" for
    one missing column, "columns" for two)."""
    if n == 1:
        return noun
    if plural is None:
        plural = noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" \
            else noun + "s"
    return plural
