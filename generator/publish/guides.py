"""One athlete's guide in every format: HTML, PDF, ICS.

Formats are a registry keyed by name (Lektor-style) so an unknown one is a
clear error, and PDF support (WeasyPrint) is only loaded when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from generator.core.errors import Problem, UsageError
from generator.load.inputs import Inputs
from generator.publish.ics import make_ics
from generator.render.renderer import Renderer

FORMATS = ("pdf", "html", "ics")
PLAN = "plan"  # the private web page (HTML in "plan" mode), made beside the formats


def parse_formats(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in names if f not in FORMATS]
    if unknown or not names:
        raise UsageError(f"unknown format {unknown[0] if unknown else text!r}; "
                         f"choose from {', '.join(FORMATS)}")
    return names


@dataclass
class GuideResult:
    athlete_id: str
    files: dict[str, bytes] = field(default_factory=dict)  # format -> bytes
    problems: list[Problem] = field(default_factory=list)


class GuideMaker:
    """Makes guides for one project; keeps the renderer and (lazily) a PdfMaker."""

    def __init__(self, inputs: Inputs, renderer: Renderer | None = None):
        self.inputs = inputs
        project = inputs.project
        self.renderer = renderer or Renderer(project.templates_dir, project)
        self._pdf = None
        self._fast = None
        self.base_url = inputs.project.root.as_uri() + "/"
        self.fast = True  # lay shared pages out once (fastpdf); False = one full render

    @property
    def pdf_maker(self):
        if self._pdf is None:
            from generator.pdf.maker import PdfMaker

            self._pdf = PdfMaker([self.inputs.project.root],
                                 self.inputs.project.config.pdf.variant)
        return self._pdf

    def stylesheets(self, brand) -> list:
        maker = self.pdf_maker
        css = [maker.stylesheet(self.renderer.asset(name, brand),
                                self.renderer.asset_url(name, brand))
               for name in ("assets/guide.css", "assets/print.css")]
        return css

    def full_pdf(self, athlete, brand, modules, timeline) -> tuple[bytes, list]:
        """The straightforward render: the whole guide laid out in one go."""
        html = self.renderer.guide_html(athlete, brand, modules, timeline, "pdf")
        return self.pdf_maker.pdf(html, self.base_url, self.stylesheets(brand),
                                  identifier=f"{brand.id}/{athlete.id}")

    def paper(self, brand) -> str:
        return self.inputs.project.settings.paper or brand.paper

    def make(self, athlete, formats: tuple[str, ...]) -> GuideResult:
        inputs = self.inputs
        brand = inputs.brand_for(athlete)
        modules = inputs.modules_for(athlete)
        timeline = inputs.timeline_for(athlete)
        result = GuideResult(athlete.id)
        source = inputs.project.settings.roster or "roster"
        for w in timeline.warnings:
            result.problems.append(Problem(source, None, f"{athlete.id}: {w}",
                                           severity="warning"))
        if "html" in formats:
            result.files["html"] = self.renderer.guide_html(
                athlete, brand, modules, timeline, "html").encode()
        if PLAN in formats:
            result.files[PLAN] = self.renderer.guide_html(
                athlete, brand, modules, timeline, "plan").encode()
        if "pdf" in formats:
            if self.fast:
                if self._fast is None:
                    from generator.pdf.fastpdf import FastGuidePdf

                    self._fast = FastGuidePdf(self)
                data, refused = self._fast.render(athlete, brand, modules, timeline)
            else:
                data, refused = self.full_pdf(athlete, brand, modules, timeline)
            result.files["pdf"] = data
            for url in dict.fromkeys(refused):  # a URL may be refused in several layouts
                result.problems.append(Problem(source, None, f"{athlete.id}: refused to fetch "
                                               f"{url} (only data: URLs and project files are "
                                               "allowed)", severity="warning"))
        if "ics" in formats:
            result.files["ics"] = make_ics(athlete, brand, timeline)
        return result


def guide_paths(out: Path, brand_id: str, athlete_id: str) -> dict[str, Path]:
    """Output paths come from validated ids only (never raw text)."""
    folder = out / "guides" / brand_id
    return {fmt: folder / f"{athlete_id}.{fmt}" for fmt in FORMATS}


def plan_paths(out: Path, token: str) -> dict[str, Path]:
    """The private plan page folder: output/site/plans/<token>/."""
    folder = out / "site" / "plans" / token
    return {PLAN: folder / "index.html", "pdf": folder / "guide.pdf", "ics": folder / "plan.ics"}
