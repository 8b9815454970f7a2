"""Generated benchmark projects: the example project with a roster of ``n`` synthetic
runners (used by run.py, scale.py and profile.py)."""

from __future__ import annotations

import csv
import datetime as dt
import random
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FIRST = ["Ava", "Ben", "Chloé", "Dmitri", "Eun-ji", "Farah", "Gus", "Hana", "Iñigo", "Jun",
         "Kofi", "Lena", "Mateo", "Noor", "Olu", "Pia", "Quinn", "Rosa", "Sami", "Tariq"]
LAST = ["Ng", "Okafor", "Ødegård", "Brennan", "Castillo", "Ivanova", "Haddad", "Sato", "Lee"]


def make_project(dest: Path, athletes: int, seed: int = 7) -> Path:
    """A copy of the example project with a generated roster of ``athletes`` rows."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("guidegen.toml", "content", "templates", "brands"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    (dest / "data").mkdir()
    write_roster(dest / "data" / "athletes.csv", athletes, seed)
    return dest


def write_roster(path: Path, n: int, seed: int = 7, first_race: dt.date | None = None,
                 notes_every: int | None = None) -> None:
    """``n`` runners, races over 200 days from ``first_race`` (default 2027-04-18); notes on
    every ``notes_every``-th runner (default: two in three, of two kinds)."""
    rnd = random.Random(seed)
    first_race = first_race or dt.date(2027, 4, 18)
    fields = ["id", "name", "email", "race_name", "race_date", "distance", "training_start",
              "experience", "massage_frequency", "long_run_day", "focus_areas", "brand",
              "notes"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(fields)
        for i in range(n):
            race = first_race + dt.timedelta(days=rnd.randrange(0, 200))
            weeks = rnd.choice([12, 16, 16, 16, 20])
            w.writerow([
                f"runner-{i:05d}", f"{rnd.choice(FIRST)} {rnd.choice(LAST)}",
                f"runner{i}@example.com", "Solent Coastal Marathon", race.isoformat(),
                rnd.choice(["marathon", "marathon", "half-marathon", "ultra"]),
                (race - dt.timedelta(weeks=weeks)).isoformat(),
                rnd.choice(["first", "returning", "competitive"]),
                rnd.choice(["weekly", "biweekly", "auto"]),
                rnd.choice(["sat", "sun", ""]),
                rnd.choice(["calves", "hamstrings;calves", "", "quads"]),
                rnd.choice(["harbour", "summit"]),
                (rnd.choice(["", "Bring your race shoes to the next session.",
                             "Left calf tightness noted at week 6; keep an eye on it."])
                 if notes_every is None else
                 "Left calf tightness noted at week 6." if i % notes_every == 0 else ""),
            ])
