"""The render phase: Jinja templates + inputs -> HTML strings.

One environment per brand (a brand's ``templates/`` folder is searched before
the project's, and the project's before the defaults guidegen ships), autoescaping
on, StrictUndefined so a typo in a template is an error rather than a blank.
No I/O happens here beyond reading templates.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from markupsafe import Markup

from generator.core.context import BuildContext
from generator.core.errors import Problem, RenderError, display_path
from generator.core.notes import N_
from generator.load.content import shift_headings
from generator.load.project import shipped_dir
from generator.render.codecache import COMPILED
from generator.render.modulevalues import guide_values
from generator.render.textlang import text_lang
from generator.render.traced import TracedEnvironment
from generator.render.words import Words, newstyle

if TYPE_CHECKING:  # the site renders no guides: it needs no planner
    from generator.load.locales import Language
    from generator.plan.guideplan import GuidePlan

DISCLAIMER = N_(
    "This guide is general information about sports massage, not medical advice. "
    "Ask your doctor or clinician before changing your training or treatment, "
    "and stop any session that hurts."
)


def date_iso(d: dt.date) -> str:
    return d.isoformat()


@dataclass(frozen=True)
class GuideModule:
    slug: str
    title: str
    summary: str | None
    html: Markup
    session_kinds: tuple[str, ...]
    personal: bool  # carries the athlete's dates ("For you"), so it is laid out per athlete
    index: int  # 1-based place in the guide


@dataclass(frozen=True)
class PdfPages:
    """Page numbering for laying a guide out in parts (see fastpdf.py)."""

    start: int | None = None  # first page number of this part
    total: int | None = None  # total pages of the whole guide
    toc: dict = field(default_factory=dict)  # anchor -> page number, for other parts
    others: int | None = None  # pages outside this part: total = its own pages + others
    frame: int = 0  # part 'frame': this many empty pages (only their margins are used)

    @property
    def totals(self) -> list[int]:
        """For ``others``: the total printed when this part has 1, 2, ... pages."""
        return [self.others + n for n in range(1, TOTALS + 1)] if self.others is not None else []


TOTALS = 200  # a part laid out with ``others`` may have up to this many pages


_CSS_PLAIN = frozenset(" .,-_()")  # with letters and digits: kept as they are in a CSS string


def css_string(text: str) -> Markup:
    """``text`` as the inside of a double-quoted CSS string, safe inside ``<style>``.

    Every character but letters, digits, space and ``.,-_()`` becomes a CSS hex escape
    (``&`` -> ``\\26 ``): quotes and backslashes cannot end the string, ``<`` and ``>``
    cannot close the style element, and ``&`` is not an HTML entity there (``<style>``
    is raw text: an HTML-escaped ``&amp;`` would print as such). The result is Markup,
    so autoescaping leaves it alone; CSS reads the escapes back to the literal text."""
    return Markup("".join(c if c.isalnum() or c in _CSS_PLAIN else f"\\{ord(c):x} "
                          for c in text))


@dataclass(frozen=True)
class Visual:
    phases: list
    marks: list
    race_x: float
    start: dt.date
    end: dt.date


def visual_timeline(timeline) -> Visual:
    """Geometry for the drawn timeline: x and width in percent of the whole span."""
    start = min(timeline.training_start, timeline.phases[0].start)
    end = timeline.phases[-1].end
    span = max(1, (end - start).days + 1)

    def x(day: dt.date) -> float:
        return round((day - start).days / span * 100, 3)

    phases = [dict(name=p.name, start=p.start, end=p.end, x=x(p.start),
                   width=round(((p.end - p.start).days + 1) / span * 100, 3))
              for p in timeline.phases]
    marks = [dict(x=round(x(s.date) + 50 / span, 3), date=s.date, kind=s.kind,
                  pressure=s.pressure, label=s.title) for s in timeline.sessions]
    return Visual(phases, marks, round(x(timeline.race_date) + 50 / span, 3), start, end)


@functools.lru_cache(maxsize=64)  # one booking URL per brand, asked for by every guide
def qr_svg(url: str, colour: str = "#000000") -> Markup:
    import segno  # only guides draw QR codes: the site and checks need not load it

    svg = segno.make(url, error="m").svg_inline(scale=4, dark=colour, light="#ffffff",
                                               omitsize=True)
    return Markup(svg)


@functools.lru_cache(maxsize=64)
def qr_uri(url: str, colour: str = "#000000") -> str:
    """The same QR code as a ``data:`` URI, for an ``<img>`` with alt text: WeasyPrint
    tags an image's alt text as the PDF's /Alt (an inline SVG's ARIA label is lost)."""
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=4, dark=colour, light="#ffffff",
                                                   omitsize=True)


class Renderer:
    """Renders a project's templates: guides, plan pages and emails from a GuidePlan,
    and the site's pages (render/site.py), with one Jinja environment per brand."""

    def __init__(self, templates_dir: Path, project, context: BuildContext | None = None):
        self.templates_dir = templates_dir
        self.project = project
        self.context = context or BuildContext.from_env()
        self._envs: dict[tuple, jinja2.Environment] = {}
        self._words: dict[tuple, Words] = {}

    def words(self, language: Language | None = None, units: str | None = None) -> Words:
        """How a guide in ``language`` (default: the project's) writes: catalog, dates."""
        language = language or self.project.languages.default_language()
        key = (language, units)
        if key not in self._words:
            self._words[key] = Words.of(self.project, language, units)
        return self._words[key]

    def plan_words(self, plan: GuidePlan) -> Words:
        return self.words(plan.language, plan.units)

    def env(self, brand=None, words: Words | None = None) -> jinja2.Environment:
        """One environment per (brand, language): the brand's templates first, the
        language's catalog and date formats installed."""
        words = words or self.words()
        key = (brand.id if brand is not None else None, words)
        if key not in self._envs:
            paths = [str(self.templates_dir)]
            if brand is not None and brand.templates_dir is not None:
                paths.insert(0, str(brand.templates_dir))
            default = str(shipped_dir("templates"))  # what the project does not override
            if default not in paths:
                paths.append(default)
            env = TracedEnvironment(  # what each template reads, noted as it compiles
                loader=jinja2.FileSystemLoader(paths),
                autoescape=jinja2.select_autoescape(["html", "j2", "xml", "svg"],
                                                    default_for_string=True),
                undefined=jinja2.StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=True,
                bytecode_cache=COMPILED,  # shared, and kept on disk by the site
                # each template read once per environment, not its file stat'ed again
                # for every page: a build (and each of serve's rebuilds) makes its own
                auto_reload=False,
                extensions=["jinja2.ext.i18n"],
            )
            env.policies["ext.i18n.trimmed"] = True  # {% trans %} text: whitespace collapsed
            env.install_gettext_translations(words.t, newstyle=True)
            gettext = newstyle(words.t.gettext)  # the same text, kept (words.newstyle)
            env.globals.update(_=gettext, gettext=gettext,
                               pgettext=newstyle(words.t.pgettext, context=True))
            env.filters.update(words.filters(), date_iso=date_iso, css_string=css_string,
                               text_lang=text_lang)
            env.globals.update(lang=words.language.tag, dir=words.language.direction,
                               words=words)
            self._envs[key] = env
        return self._envs[key]

    def render(self, name: str, context: dict, brand=None, words: Words | None = None) -> str:
        try:
            template = self.env(brand, words).get_template(name)
            return template.render(context)
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(f"template syntax error: {exc.message}",
                              path=exc.filename or name, line=exc.lineno) from None
        except jinja2.UndefinedError as exc:
            raise RenderError(f"template error: {exc.message}", path=_template_of(exc, name),
                              line=_line_of(exc)) from None
        except jinja2.TemplateNotFound as exc:
            raise RenderError(f"template not found: {exc.name}", path=str(self.templates_dir)
                              ) from None
        except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError,
                AttributeError) as exc:  # raised by template code: locate it, don't crash
            raise RenderError(f"template error: {type(exc).__name__}: {exc}",
                              path=_template_of(exc, name), line=_line_of(exc)) from None

    def asset(self, name: str, brand=None) -> str:
        """Source of a static template asset (CSS), honouring brand overrides."""
        env = self.env(brand)
        source, _filename, _ = env.loader.get_source(env, name)
        return source

    def asset_url(self, name: str, brand=None) -> str:
        """file: URL of the asset actually used (a brand override or the default), so that
        relative url() and @import in it resolve next to that file."""
        env = self.env(brand)
        _source, filename, _ = env.loader.get_source(env, name)
        return Path(filename).resolve().as_uri()

    def guide_context(self, plan: GuidePlan, mode: str, part: str = "all",
                      pdf_pages: PdfPages | None = None) -> dict:
        settings = self.project.settings
        athlete, brand, timeline = plan.athlete, plan.brand, plan.timeline
        kinds = {}
        for s in timeline.sessions:
            if s.module:
                kinds.setdefault(s.module, []).append(s.kind)
        words = self.plan_words(plan)
        values = guide_values(plan, words)
        gms = [GuideModule(m.slug, m.title, m.summary, Markup(shift_headings(m.html, 1)),
                           tuple(dict.fromkeys(kinds.get(m.slug, ()))),
                           m.slug in kinds, 0)
               # a module's variables with this runner's values (render/modulevalues.py)
               for m in (m.with_values(values) for m in plan.modules)]
        # personalised modules first, then the shared ones, numbered in that order
        gms.sort(key=lambda g: not g.personal)
        gms = [replace(g, index=i) for i, g in enumerate(gms, 1)]
        return dict(
            mode=mode,
            lang=words.language.tag,
            dir=words.language.direction,
            project=settings,
            brand=brand,
            athlete=athlete,
            timeline=timeline,
            modules=gms,
            facts=plan.facts,
            visual=visual_timeline(timeline),
            qr_svg=qr_svg(brand.booking_url, brand.colors.text),
            qr_uri=qr_uri(brand.booking_url, brand.colors.text),
            disclaimer=words.gettext(DISCLAIMER),
            build_date=self.context.build_date,
            changes=plan.published.changes if plan.published else (),  # "What changed"
            links={},  # the plan page's own URLs (see guide_html)
            part=part,
            pdf_pages=pdf_pages or PdfPages(),
        )

    def guide_html(self, plan: GuidePlan, mode: str = "html", part: str = "all",
                   pdf_pages: PdfPages | None = None, links: dict | None = None) -> str:
        """``links``: the plan page's own URL (``plan_url``) and calendar subscription
        (``webcal_url``), for the private page."""
        ctx = self.guide_context(plan, mode, part, pdf_pages)
        ctx["links"] = links or {}
        return self.render("guide.html.j2", ctx, plan.brand, self.plan_words(plan))


def check_templates(renderer: Renderer, inputs, plans: list[GuidePlan]) -> list[Problem]:
    """What ``guidegen check`` says about templates: every template compiles (the
    project's and each brand's overrides), and, for each brand with an athlete in the
    roster, that athlete's guide renders in every mode (an undefined variable only
    shows when rendering). One problem per template line, however many brands use it."""
    root = inputs.project.root
    found: dict[tuple, Problem] = {}

    def note(exc: RenderError) -> None:
        where = display_path(Path(exc.path), root) if exc.path else "templates"
        found.setdefault((where, exc.line, exc.message), Problem(where, exc.line, exc.message))

    for brand in [None, *inputs.brands.values()]:
        env = renderer.env(brand)
        for name in env.list_templates(filter_func=lambda n: n.endswith(".j2")):
            try:
                env.get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                note(RenderError(f"template syntax error: {exc.message}",
                                 path=exc.filename or name, line=exc.lineno))
    samples: dict[str, GuidePlan] = {}
    for plan in plans:
        samples.setdefault(plan.brand.id, plan)
    for plan in samples.values():
        if "guide.html.j2" not in renderer.env(plan.brand).list_templates():
            continue  # no guide template at all: nothing to try (a build says so)
        for mode, part in (("html", "all"), ("plan", "all"), ("pdf", "all"), ("pdf", "cover"),
                           ("pdf", "toc"), ("pdf", "body"), ("pdf", "closing"),
                           ("pdf", "shared"), ("pdf", "frame")):
            try:
                renderer.guide_html(plan, mode, part)
            except RenderError as exc:
                note(exc)
    return list(found.values())


def _template_of(exc: Exception, default: str) -> str:
    tb = exc.__traceback__
    found = default
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith(".j2") or name.endswith(".html"):
            found = name
        tb = tb.tb_next
    return found


def _line_of(exc: Exception) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith(".j2") or name.endswith(".html"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
