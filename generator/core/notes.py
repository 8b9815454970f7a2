"""Messages that can be shown in a runner's language.

A :class:`Note` *is* its English text (a ``str``: logs, ``check``, JSON and digests see
that), and also keeps its gettext message id and values, so a guide written in Spanish
shows it in Spanish with the values (dates, weekdays) written the Spanish way
(render/words.py). A note whose words depend on a number has a plural message id
(:func:`Nn_`) and a ``count`` value: its English text is the singular for a count of 1,
else the plural, and a translation picks the language's own plural form. The planner stays
free of languages: it only says what happened.
"""

from __future__ import annotations

import datetime as dt


def N_(msgid: str) -> str:
    """Marks ``msgid`` for extraction into the catalogs (babel.cfg); translates nothing."""
    return msgid


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a message with a plural for extraction into the catalogs (``-k Nn_:1,2``,
    cli/i18n.py); translates nothing. A :class:`Note` with it needs a ``count`` value."""
    return singular, plural


def _english(value) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(_english(v) for v in value)
    return str(value)


def _count(msgid: tuple[str, str], values: dict) -> int:
    """The number a plural note is about: its ``count`` value, an int."""
    if "count" not in values:
        raise TypeError(f"a plural note needs a count value: {msgid[0]!r}")
    count = values["count"]
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError(f"a plural note's count must be an int, not {count!r}: {msgid[0]!r}")
    return count


class Note(str):
    """``Note(N_("no open clinic day for the %(kind)s session"), kind="pre-race")``, or
    with a plural: ``Note(Nn_("%(count)s session moved", "%(count)s sessions moved"),
    count=n)`` (a plural note must have an int ``count``; TypeError without one)."""

    msgid: str | tuple[str, str]
    values: dict

    def __new__(cls, msgid: str | tuple[str, str], **values) -> Note:
        if isinstance(msgid, tuple):
            singular, plural = msgid
            text = singular if _count(msgid, values) == 1 else plural
        else:
            text = msgid
        note = super().__new__(cls, text % {k: _english(v) for k, v in values.items()})
        note.msgid, note.values = msgid, values
        return note

    def __reduce__(self):  # pickled for the worker pool: rebuilt from id and values
        return _make, (self.msgid, self.values)


def _make(msgid: str | tuple[str, str], values: dict) -> Note:
    return Note(msgid, **values)
