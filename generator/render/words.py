"""A language's words for the render phase: its gettext catalog, and how it writes dates,
times, distances, weekdays and the planner's notes.

Every template string goes through gettext (``{{ _("...") }}``, ``{% trans %}``); the
catalogs are the project's ``locales/<lang>/LC_MESSAGES/messages.po``, compiled in memory
with Babel's own reader and writer the first time a process needs them (no ``.mo`` files to
keep in step). Dates, times and numbers are Babel's, in the runner's locale (CLDR), so an
``es`` guide says "domingo, 5 de diciembre de 2027" and an ``en-US`` one "5:30 PM".
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import io
from dataclasses import dataclass

from babel.dates import format_date, format_skeleton, format_time
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.support import Translations
from jinja2 import pass_context
from markupsafe import Markup

from generator.core.notes import N_, Note
from generator.core.vocab import WEEKDAYS
from generator.load.locales import KM_PER_MILE, Language

# the planner's words, translated where they are shown
SESSION_TITLES = {
    "maintenance": N_("Maintenance sports massage"),
    "pre-race": N_("Light pre-race massage"),
    "post-race": N_("Light post-race recovery massage"),
}
PHASE_NAMES = {"base": N_("base"), "build": N_("build"), "peak": N_("peak"),
               "taper": N_("taper"), "race week": N_("race week"), "recovery": N_("recovery")}
PRESSURES = {"light": N_("light"), "moderate": N_("moderate"), "firm": N_("firm"),
             "none": N_("none")}
KINDS = {"maintenance": N_("maintenance"), "pre-race": N_("pre-race"),
         "post-race": N_("post-race"), "race": N_("race")}
DISTANCE_LABELS = {"marathon": N_("marathon"), "half-marathon": N_("half marathon"),
                   "ultra": N_("ultra")}
DISTANCE_KM = {"marathon": 42.195, "half-marathon": 21.0975}


@functools.lru_cache(maxsize=32)
def translations(path: str | None, digest: str | None = None) -> gettext.NullTranslations:
    """The compiled catalog at ``path`` (``digest``: its content, so an edited catalog is
    read again); ``None``: the project's own language, the templates' text itself."""
    if path is None:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(path, "rb") as f:
        catalog = read_po(f, abort_invalid=False)
    buf = io.BytesIO()
    write_mo(buf, catalog)  # fuzzy entries are left out, as Babel's compile does
    buf.seek(0)
    return Translations(buf)


def newstyle(translate, context: bool = False):
    """Jinja's newstyle ``gettext`` (``pgettext`` with ``context``) for templates, as
    ``jinja2.ext`` makes it, with the text of a call without variables kept: a page asks
    for the same few dozen strings, and jinja2's own goes through ``Context.call`` twice
    and formats each anew (a third of a site page's render). The same text either way:
    translated, made ``Markup`` where the template autoescapes, then always formatted
    (``%%`` becomes ``%``). It reads nothing from the context but whether the template
    autoescapes (``context_free``: page keys need not count every name, pagecache.reads)."""
    kept: dict = {}

    @pass_context
    def call(__context, *args, **variables):
        autoescape = __context.eval_ctx.autoescape
        key = None if variables else (args, autoescape)
        try:
            found = kept.get(key) if key is not None else None
        except TypeError:  # an argument that is no text: jinja2's way, not kept
            key = found = None
        if found is not None:
            return found
        if context:
            variables.setdefault("context", args[0])
        text = translate(*args)
        if autoescape:
            text = Markup(text)
        text = text % variables
        if key is not None:
            kept[key] = text
        return text

    call.context_free = True
    return call


@dataclass(frozen=True)
class Words:
    """How one guide (or site language) writes things: ``language`` and ``units``."""

    language: Language
    units: str = "km"
    catalog: str | None = None  # path of the messages.po, None for the project's language
    digest: str | None = None

    @classmethod
    def of(cls, project, language: Language, units: str | None = None) -> Words:
        langs = project.languages
        po = langs.translated.get(language.lang) if language.lang != langs.default_lang else None
        return cls(language, units or language.units, str(po) if po else None,
                   langs.digests.get(language.lang) if po else None)

    @property
    def t(self) -> gettext.NullTranslations:
        return translations(self.catalog, self.digest)

    def gettext(self, msgid: str, **values) -> str:
        text = self.t.gettext(msgid)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values) -> str:
        text = self.t.ngettext(singular, plural, n)
        return text % {"num": n, **values}

    # dates, times, numbers
    def date_long(self, d: dt.date) -> str:
        return format_date(d, "full", locale=self.language.locale)

    def date_short(self, d: dt.date) -> str:
        return format_skeleton("MMMd", d, locale=self.language.locale)

    def time(self, hhmm: str | None) -> str:
        if not hhmm:
            return ""
        h, m = (int(x) for x in hhmm.split(":"))
        return format_time(dt.time(h, m), "short", locale=self.language.locale)

    def number(self, value: float, digits: int = 1) -> str:
        return format_decimal(round(value, digits), f"#,##0.{'0' * digits}",
                              locale=self.language.locale)

    def distance(self, distance: str) -> str:
        """The race's length ("42.2 km", "26.2 mi", "42,2 km"); "" for an ultra."""
        km = DISTANCE_KM.get(distance)
        if km is None:
            return ""
        if self.units == "mi":
            return f"{self.number(km / KM_PER_MILE)}\u00a0mi"
        return f"{self.number(km)}\u00a0km"

    def weekday(self, key: str) -> str:
        """``mon`` -> "Monday" / "lunes" / "Montag"."""
        day = dt.date(2024, 1, 1) + dt.timedelta(days=WEEKDAYS.index(key))  # a Monday
        return format_date(day, "EEEE", locale=self.language.locale)

    def join(self, items) -> str:
        return format_list(list(items), locale=self.language.locale)

    # the planner's words
    def session_title(self, session) -> str:
        if session.kind == "race":
            return self.gettext(N_("Race day: %(race)s"), race=session.title.split(": ", 1)[-1])
        return self.gettext(SESSION_TITLES.get(session.kind, session.title))

    def phase(self, name: str) -> str:
        return self.gettext(PHASE_NAMES[name]) if name in PHASE_NAMES else name

    def pressure(self, name: str) -> str:
        return self.gettext(PRESSURES[name]) if name in PRESSURES else name

    def kind(self, name: str) -> str:
        return self.gettext(KINDS[name]) if name in KINDS else name

    def distance_label(self, distance: str) -> str:
        return self.gettext(DISTANCE_LABELS.get(distance, distance))

    def note(self, note: str) -> str:
        """A planner's warning in this language (plain text: the template escapes it)."""
        if not isinstance(note, Note):
            return note
        values = {k: self._value(k, v) for k, v in note.values.items()}
        if isinstance(note.msgid, tuple):  # a plural (Nn_): the language's form for count
            singular, plural = note.msgid
            return self.ngettext(singular, plural, note.values["count"], **values)
        return self.gettext(note.msgid, **values)

    def _value(self, key: str, value) -> str:
        if isinstance(value, dt.date):
            return self.date_long(value)
        if key == "kind":
            return self.kind(value)
        if key == "days":
            return self.join(self.weekday(d) for d in value)
        if isinstance(value, (list, tuple)):
            return self.join(self.date_long(v) if isinstance(v, dt.date) else str(v)
                             for v in value)
        return str(value)

    def filters(self) -> dict:
        """The Jinja filters a template writes with."""
        return dict(date_long=self.date_long, date_short=self.date_short, clock=self.time,
                    session_title=self.session_title, phase=self.phase,
                    pressure_word=self.pressure, kind_word=self.kind, note=self.note,
                    weekday=self.weekday, distance_label=self.distance_label)
