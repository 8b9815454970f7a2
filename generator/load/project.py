"""guidegen.toml: the project's configuration schema."""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from generator.core.errors import ConfigError, pydantic_problems
from generator.load.tomlsource import read_toml, toml_key_line

CONFIG_NAME = "guidegen.toml"
SHIPPED = ("templates", "content", "brands", "data", "locales")

if TYPE_CHECKING:
    from generator.load.locales import Languages


def shipped_dir(name: str) -> Path:
    """A folder of the project files guidegen ships (``SHIPPED``): package data under
    ``generator/defaults/``, found through importlib.resources, so a wheel, an sdist and a
    checkout (where they are symlinks to the example project's folders) all work. Templates
    a project does not override come from ``shipped_dir("templates")``."""
    assert name in SHIPPED, name
    return Path(str(importlib.resources.files("generator") / "defaults" / name)).resolve()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectSection(_Strict):
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    base_url: str = "http://localhost:8000/"
    language: str = "en"
    default_brand: str
    site_brand: str | None = None
    roster: str | None = None
    appointments: str | None = None  # the clinic's bookings: id,date,time,kind,status (CSV)
    content_dir: str = "content"
    brands_dir: str = "brands"
    templates_dir: str = "templates"
    locales_dir: str = "locales"  # gettext catalogs: <lang>/LC_MESSAGES/messages.po
    output_dir: str = "output"
    paper: str | None = None  # overrides every brand's paper when set

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v if v.endswith("/") else v + "/"

    @field_validator("language")
    @classmethod
    def _language(cls, v: str) -> str:
        from generator.load.locales import BadTag, parse_tag, tag_of

        try:
            return tag_of(parse_tag(v))
        except BadTag as exc:
            raise ValueError(str(exc)) from None

    @field_validator("paper")
    @classmethod
    def _paper(cls, v: str | None) -> str | None:
        if v is not None and v not in ("A4", "Letter"):
            raise ValueError("must be 'A4' or 'Letter'")
        return v


# How long outputs are kept is not part of what they are made of: ``exclude=True`` keeps
# the retention keys (and the [guides] section, which holds nothing else) out of
# ``model_dump_json()``, the settings in every guide's input digest, so changing them
# never rebuilds a guide nor makes its email "changed".

class PlansSection(_Strict):
    enabled: bool = True
    secret_env: str = "GUIDEGEN_PLAN_SECRET"
    # a runner's plan page is removed (and not made again) once their race is more than
    # this many days old; 0 keeps it for as long as they are in the roster
    keep_days_after_race: int = Field(default=60, ge=0, le=36_500, exclude=True)


class GuidesSection(_Strict):
    """Retention only (the whole section is left out of the input digest)."""

    # the same for the clinic's files (OUT/guides/), and then the plan page too (it is
    # made from the guide); 0, the default, keeps them while the runner is in the roster
    keep_days_after_race: int = Field(default=0, ge=0, le=36_500)


class PdfSection(_Strict):
    variant: str = "pdf/ua-1"

    @field_validator("variant")
    @classmethod
    def _variant(cls, v: str) -> str:
        if v not in ("pdf/ua-1", "pdf/a-3b", "none"):
            raise ValueError("must be 'pdf/ua-1', 'pdf/a-3b' or 'none'")
        return v


class SiteText(_Strict):
    """The site's title and description in another language (``[translations.es]``)."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = None


class ProjectConfig(_Strict):
    project: ProjectSection
    translations: dict[str, SiteText] = {}
    plans: PlansSection = PlansSection()
    guides: GuidesSection = Field(default=GuidesSection(), exclude=True)
    pdf: PdfSection = PdfSection()


class Project:
    """A loaded project: its root folder and validated configuration."""

    def __init__(self, root: Path, config: ProjectConfig):
        self.root = root.resolve()
        self.config = config

    @property
    def settings(self) -> ProjectSection:
        return self.config.project

    def site_text(self, lang: str) -> tuple[str, str]:
        """The site's (title, description) in ``lang``: ``[translations.<lang>]``, else
        the project's own."""
        text = self.config.translations.get(lang) or SiteText()
        s = self.settings
        return text.title or s.title, text.description or s.description

    def path(self, rel: str) -> Path:
        return (self.root / rel).resolve()

    @property
    def content_dir(self) -> Path:
        return self.path(self.settings.content_dir)

    @property
    def brands_dir(self) -> Path:
        return self.path(self.settings.brands_dir)

    @property
    def templates_dir(self) -> Path:
        return self.path(self.settings.templates_dir)

    @functools.cached_property
    def languages(self) -> Languages:
        """The project's language and the translations its ``locales/`` holds (none: the
        project is written in its own language only)."""
        from generator.load.locales import find_languages

        return find_languages(self.path(self.settings.locales_dir), self.settings.language)

    @property
    def appointments_path(self) -> Path | None:
        a = self.settings.appointments
        return self.path(a) if a else None

    @property
    def roster_path(self) -> Path | None:
        return self.path(self.settings.roster) if self.settings.roster else None

    @property
    def output_dir(self) -> Path:
        return self.path(self.settings.output_dir)


def load_project(root: Path) -> Project:
    """Read ``root/guidegen.toml``; every problem is reported at once."""
    path = root / CONFIG_NAME
    shown = str(path)
    if not path.is_file():
        raise ConfigError(
            f"no {CONFIG_NAME} here; run inside a project, pass --project DIR, "
            "or create one with 'guidegen init DIR'",
            path=shown,
        )
    data, problems = read_toml(path, shown)
    if problems:
        raise ConfigError(problems[0].message, path=shown, line=problems[0].line)
    try:
        config = ProjectConfig.model_validate(data)
    except ValidationError as exc:
        text = path.read_text(encoding="utf-8")
        probs = pydantic_problems(exc, shown, lambda loc: toml_key_line(text, loc), None,
                                  model=ProjectConfig)
        raise ConfigError(str(probs[0]), problems=probs) from None
    return Project(root, config)
