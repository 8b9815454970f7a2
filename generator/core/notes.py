"""Messages that can be shown in a runner's language.

A :class:`Note` *is* its English text (a ``str``: logs, ``check``, JSON and digests see
that), and also keeps its gettext message id and values, so a guide written in Spanish
shows it in Spanish with the values (dates, weekdays) written the Spanish way
(render/words.py). The planner stays free of languages: it only says what happened.
"""

from __future__ import annotations

import datetime as dt


def N_(msgid: str) -> str:
    """Marks ``msgid`` for extraction into the catalogs (babel.cfg); translates nothing."""
    return msgid


def _english(value) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(_english(v) for v in value)
    return str(value)


class Note(str):
    """``Note(N_("no open clinic day for the %(kind)s session"), kind="pre-race")``."""

    msgid: str
    values: dict

    def __new__(cls, msgid: str, **values) -> Note:
        note = super().__new__(cls, msgid % {k: _english(v) for k, v in values.items()})
        note.msgid, note.values = msgid, values
        return note

    def __reduce__(self):  # pickled for the worker pool: rebuilt from id and values
        return _make, (self.msgid, self.values)


def _make(msgid: str, values: dict) -> Note:
    return Note(msgid, **values)
