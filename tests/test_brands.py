"""Brands: the examples load; each kind of bad brand.toml is one located line."""

from __future__ import annotations

import shutil

import pytest

from generator.load.brands import load_brands
from tests.conftest import copy_example


@pytest.fixture
def brands_dir(tmp_path):
    """A copy of the example brands, ready to be broken."""
    return copy_example(tmp_path, ("brands",)) / "brands"


def _break(brands_dir, old: str, new: str, brand: str = "summit") -> None:
    path = brands_dir / brand / "brand.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(brands_dir, needle: str, brand: str = "summit") -> int:
    text = (brands_dir / brand / "brand.toml").read_text(encoding="utf-8")
    return next(no for no, line in enumerate(text.splitlines(), 1) if needle in line)


def test_example_brands_load(example_root):
    brands, problems = load_brands(example_root / "brands", example_root)
    assert problems == []
    assert sorted(brands) == ["harbour", "summit"]
    harbour, summit = brands["harbour"], brands["summit"]
    assert harbour.name == "Harbour Sports Therapy"
    assert harbour.colors.primary == "#0b5d6b"
    assert harbour.timezone == "Europe/London"
    assert summit.open_days == ["tue", "wed", "thu", "fri", "sat"]
    assert summit.appointment_time == "08:00"
    assert summit.paper == "Letter"
    assert harbour.logo_uri.startswith("data:image/svg+xml;base64,")
    assert harbour.digest != summit.digest


BREAKAGES = [
    ("bad-colour", 'primary = "#7a2e1f"', 'primary = "maroon"', "primary = ",
     "colors.primary: must be a colour as #rrggbb, such as #0b5d6b (got 'maroon')"),
    ("short-hex-colour", 'accent = "#6fa84a"', 'accent = "#6fa"', "accent = ",
     "colors.accent: must be a colour as #rrggbb, such as #0b5d6b (got '#6fa')"),
    ("unknown-timezone", 'timezone = "America/Denver"', 'timezone = "Mountain/Boulder"',
     "timezone = ",
     "timezone: unknown time zone 'Mountain/Boulder' (use an IANA name such as Europe/London)"),
    ("unknown-weekday", 'open_days = ["tue"', 'open_days = ["tuesday"', "open_days = ",
     "open_days.0: must be 'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun' "
     "(got 'tuesday')"),
    ("no-open-day", 'open_days = ["tue", "wed", "thu", "fri", "sat"]', "open_days = []",
     "open_days = ",
     "open_days: must have at least 1 item after validation, not 0 (got [])"),
    ("day-twice", 'open_days = ["tue", "wed"', 'open_days = ["tue", "tue"', "open_days = ",
     "open_days: a day is listed twice (got ['tue', 'tue', 'thu', 'fri', 'sat'])"),
    ("bad-appointment-time", 'appointment_time = "08:00"', 'appointment_time = "8am"',
     "appointment_time = ",
     "appointment_time: must be a time of day as HH:MM, 24-hour, such as 17:30 (got '8am')"),
    ("unknown-key", 'tagline = "', 'slogan = "Run on"\ntagline = "', "slogan = ",
     "slogan: unknown key"),
    ("unknown-key-in-table", 'phone = "', 'fax = "1"\nphone = "', "fax = ",
     "contact.fax: unknown key"),
]


@pytest.mark.parametrize(("old", "new", "needle", "message"),
                         [b[1:] for b in BREAKAGES], ids=[b[0] for b in BREAKAGES])
def test_bad_brand_is_one_located_line_and_the_other_brand_still_loads(
    brands_dir, tmp_path, old, new, needle, message
):
    _break(brands_dir, old, new)
    line = _line_of(brands_dir, needle)
    brands, problems = load_brands(brands_dir, tmp_path)
    assert [str(p) for p in problems] == [f"brands/summit/brand.toml:{line}: {message}"]
    assert sorted(brands) == ["harbour"]


def test_missing_logo_file_is_reported_on_the_logo_line(brands_dir, tmp_path):
    (brands_dir / "summit/logo.svg").unlink()
    brands, problems = load_brands(brands_dir, tmp_path)
    line = _line_of(brands_dir, "logo = ")
    assert [str(p) for p in problems] == [
        f"brands/summit/brand.toml:{line}: logo: logo file 'logo.svg' not found in summit/"
    ]
    assert sorted(brands) == ["harbour"]


def test_logo_outside_the_brand_folder_is_refused(brands_dir, tmp_path):
    _break(brands_dir, 'logo = "logo.svg"', 'logo = "../harbour/logo.svg"')
    brands, problems = load_brands(brands_dir, tmp_path)
    assert len(problems) == 1
    assert str(problems[0]).startswith(
        f"brands/summit/brand.toml:{_line_of(brands_dir, 'logo = ')}: logo: must be a file name")
    assert sorted(brands) == ["harbour"]


def test_invalid_toml_is_reported_on_the_line_of_the_syntax_error(brands_dir, tmp_path):
    _break(brands_dir, 'paper = "Letter"', 'paper = "Letter')
    brands, problems = load_brands(brands_dir, tmp_path)
    line = _line_of(brands_dir, "paper = ")
    assert len(problems) == 1
    assert str(problems[0]).startswith(f"brands/summit/brand.toml:{line}: invalid TOML: ")
    assert "\n" not in str(problems[0])
    assert sorted(brands) == ["harbour"]


def test_missing_required_key_names_the_field(brands_dir, tmp_path):
    _break(brands_dir, 'booking_url = "https://summit-running-recovery.example/appointments"\n',
           "")
    brands, problems = load_brands(brands_dir, tmp_path)
    assert [(p.path, p.field, p.message) for p in problems] == [
        ("brands/summit/brand.toml", "booking_url", "required field is missing")
    ]
    assert sorted(brands) == ["harbour"]


def test_every_problem_of_one_brand_is_reported_at_once(brands_dir, tmp_path):
    _break(brands_dir, 'primary = "#7a2e1f"', 'primary = "red"')
    _break(brands_dir, 'timezone = "America/Denver"', 'timezone = "Nowhere"')
    brands, problems = load_brands(brands_dir, tmp_path)
    assert sorted(p.field for p in problems) == ["colors.primary", "timezone"]
    assert all(p.line is not None for p in problems)
    assert sorted(brands) == ["harbour"]


def test_brand_folder_without_brand_toml_is_reported(brands_dir, tmp_path):
    (brands_dir / "empty").mkdir()
    brands, problems = load_brands(brands_dir, tmp_path)
    assert [str(p) for p in problems] == ["brands/empty/brand.toml: file not found"]
    assert sorted(brands) == ["harbour", "summit"]


def test_brand_folder_name_must_be_a_safe_id(brands_dir, tmp_path):
    shutil.copytree(brands_dir / "summit", brands_dir / "Summit Two")
    brands, problems = load_brands(brands_dir, tmp_path)
    assert [p.path for p in problems] == ["brands/Summit Two"]
    assert sorted(brands) == ["harbour", "summit"]
