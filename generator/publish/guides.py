"""One athlete's guide in every format: HTML, PDF, ICS (and the private plan page).

PDF support (WeasyPrint) is only loaded when a PDF is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.core.errors import Problem, UsageError
from generator.load.inputs import Inputs
from generator.plan.guideplan import GuidePlan
from generator.publish.ics import make_ics
from generator.publish.layout import FORMATS, PLAN
from generator.publish.plans import plan_links
from generator.render.renderer import Renderer

__all__ = ["FORMATS", "PLAN", "GuideMaker", "GuideResult", "parse_formats"]


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
        self.renderer = renderer or Renderer(project.templates_dir, project, inputs.context)
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
        return [maker.stylesheet(self.renderer.asset(name, brand),
                                 self.renderer.asset_url(name, brand))
                for name in ("assets/guide.css", "assets/print.css")]

    def full_pdf(self, plan: GuidePlan) -> tuple[bytes, list]:
        """The straightforward render: the whole guide laid out in one go."""
        html = self.renderer.guide_html(plan, "pdf")
        return self.pdf_maker.pdf(html, self.base_url, self.stylesheets(plan.brand),
                                  identifier=f"{plan.brand.id}/{plan.id}")

    def _fast_pdf(self, plan: GuidePlan) -> tuple[bytes, list]:
        from generator.pdf import internals

        if not internals.reuse_supported():  # WeasyPrint changed: plain rendering
            return self.full_pdf(plan)
        if self._fast is None:
            from generator.pdf.fastpdf import FastGuidePdf

            self._fast = FastGuidePdf(self)
        return self._fast.render(plan)

    def make(self, plan: GuidePlan, formats: tuple[str, ...],
             token: str | None = None) -> GuideResult:
        """The guide's files in ``formats``; ``problems`` holds what rendering found (the
        plan's own warnings stay in ``plan.problems``). ``token``: the plan page's, for
        its own links (the calendar subscription)."""
        result = GuideResult(plan.id)
        source = self.inputs.roster_source or "roster"
        line = self.inputs.roster_lines.get(plan.id)
        if "html" in formats:
            result.files["html"] = self.renderer.guide_html(plan, "html").encode()
        if PLAN in formats:
            links = (plan_links(self.inputs.project.settings.base_url, token)
                     if token is not None else None)
            result.files[PLAN] = self.renderer.guide_html(plan, "plan",
                                                          links=links).encode()
        if "pdf" in formats:
            data, refused = self._fast_pdf(plan) if self.fast else self.full_pdf(plan)
            result.files["pdf"] = data
            for url in dict.fromkeys(refused):  # a URL may be refused in several layouts
                result.problems.append(Problem(source, line, f"{plan.id}: refused to fetch "
                                               f"{url} (only data: URLs and project files are "
                                               "allowed)", severity="warning"))
        if "ics" in formats:
            result.files["ics"] = make_ics(plan, self.inputs.context,
                                           self.renderer.plan_words(plan))
        return result
