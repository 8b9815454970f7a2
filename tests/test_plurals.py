"""Plural notes: the planner's "sessions not on a preferred day" warning says "1 session
... is" and "3 sessions ... are" in English, and each language's own plural form in a
Spanish or German guide; a plural note survives pickling (the worker pool) and needs a
count."""

from __future__ import annotations

import datetime as dt
import pickle
import re
import shutil

import pytest

from generator.core.notes import Nn_, Note
from generator.core.vocab import counted
from generator.load.project import load_project
from generator.render.words import Words
from tests.conftest import REPO_ROOT, copy_example
from tests.test_plan_rules import OPEN, plan, rules_for, runner

PROJECT = load_project(REPO_ROOT)
MISSED = "could not go on a preferred day"


def words(lang: str) -> Words:
    return Words.of(PROJECT, PROJECT.languages.language(lang))


def missed_note(preferred_days: str) -> Note:
    athlete = runner(preferred_days=preferred_days)
    notes = [w for w in plan(athlete, rules_for(athlete), OPEN).warnings if MISSED in w]
    assert len(notes) == 1, notes
    return notes[0]


def test_one_missed_session_is_singular_in_english():
    # Mondays only: every session fits a Monday but the pre-race one (Tue-Thu before race)
    note = missed_note("mon")
    assert note == ("1 session could not go on a preferred day (mon) and is on a clinic day "
                    "instead: 2027-04-14")
    assert isinstance(note.msgid, tuple) and note.values["count"] == 1
    assert words("en").note(note) == (
        "1 session could not go on a preferred day (Monday) and is on a clinic day "
        "instead: Wednesday, 14 April 2027")


def test_three_missed_sessions_are_plural_in_english():
    note = missed_note("sat")
    assert note == ("3 sessions could not go on a preferred day (sat) and are on clinic days "
                    "instead: 2026-12-28, 2027-04-14, 2027-04-20")
    assert words("en").note(note).startswith(
        "3 sessions could not go on a preferred day (Saturday) and are on clinic days instead: ")


@pytest.mark.parametrize("lang, one, three", [
    ("es", "1 sesión no se pudo programar en un día de tu preferencia (lunes) y queda en un "
           "día de apertura de la clínica: miércoles, 14 de abril de 2027",
     "3 sesiones no se pudieron programar en un día de tu preferencia (sábado) y quedan en "
     "días de apertura de la clínica: lunes, 28 de diciembre de 2026, "),
    ("de", "1 Termin war an keinem Wunschtag (Montag) möglich und liegt stattdessen an einem "
           "Öffnungstag der Praxis: Mittwoch, 14. April 2027",
     "3 Termine waren an keinem Wunschtag (Samstag) möglich und liegen stattdessen an "
     "Öffnungstagen der Praxis: Montag, 28. Dezember 2026, "),
])
def test_spanish_and_german_guides_use_their_plural_forms(lang, one, three):
    w = words(lang)
    assert w.note(missed_note("mon")) == one
    assert w.note(missed_note("sat")).startswith(three)


def test_spanish_uses_its_own_form_for_a_million():
    """Spanish has three forms (nplurals=3): the third (index 2) for most counts, the
    second for whole millions; both say "sesiones", so no count falls back to English."""
    msgid = missed_note("sat").msgid
    for count in (0, 2, 5, 2_000_000):
        note = Note(msgid, count=count, days=["sat"], dates=[dt.date(2027, 4, 14)])
        text = words("es").note(note)
        assert text.startswith(f"{count} sesiones no se pudieron programar"), text


def test_a_pickled_plural_note_translates_the_same():
    for preferred in ("mon", "sat"):
        note = missed_note(preferred)
        back = pickle.loads(pickle.dumps(note))
        assert isinstance(back, Note) and back == note
        assert back.msgid == note.msgid and back.values == note.values
        for lang in ("en", "es", "de"):
            assert words(lang).note(back) == words(lang).note(note)


def test_a_plural_note_without_a_count_is_refused():
    msgid = Nn_("%(num)s thing moved", "%(num)s things moved")
    with pytest.raises(TypeError, match="count"):
        Note(msgid, num=2)
    with pytest.raises(TypeError, match="count"):
        Note(msgid, count="2", num=2)
    assert Note(Nn_("%(count)s thing", "%(count)s things"), count=1) == "1 thing"
    assert Note(Nn_("%(count)s thing", "%(count)s things"), count=0) == "0 things"


def test_the_catalog_template_has_the_plural_entry():
    from babel.messages.pofile import read_po

    with open(REPO_ROOT / "locales" / "messages.pot", "rb") as f:
        ids = {m.id for m in read_po(f)}
    assert missed_note("mon").msgid in ids
    assert not any(isinstance(i, str) and "session(s)" in i for i in ids)


@pytest.mark.parametrize("n, noun, plural, text", [
    (0, "error", None, "0 errors"), (1, "error", None, "1 error"),
    (2, "warning", None, "2 warnings"), (1, "manifest entry", None, "1 manifest entry"),
    (3, "manifest entry", None, "3 manifest entries"), (2, "day", None, "2 days"),
    (2, "person", "people", "2 people"), (1, "person", "people", "1 person"),
])
def test_the_command_line_counts_in_english(n, noun, plural, text):
    assert counted(n, noun, plural) == text


def test_check_says_one_brand_and_one_athlete(run_cli, tmp_path):
    """`check`'s summary line: "1 brand", "1 athlete", "1 warning", never "1 brands"."""
    root = copy_example(tmp_path / "p", ("guidegen.toml", "content", "brands", "templates",
                                         "locales"))
    shutil.rmtree(root / "brands" / "summit")
    roster = root / "one.csv"
    roster.write_text("id,name,email,race_name,race_date,distance,brand\n"
                      "x1,Ana,not-an-address,Berlin Marathon,2027-09-26,marathon,harbour\n",
                      encoding="utf-8")
    result = run_cli(["check", str(roster)], cwd=root)
    assert re.search(r", 1 brand, 1 athlete: 0 errors, 1 warning$", result.stderr_lines[-1]), \
        result.stderr
