"""Human-readable timeline tables (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

PRESSURE_STYLE = {"light": "green", "moderate": "yellow", "firm": "red", "none": "bold magenta"}


def print_timelines(guide_plans, console: Console | None = None) -> None:
    """One table per GuidePlan: date, time, session, pressure, phase; then its warnings."""
    console = console or Console()
    for guide in guide_plans:
        plan, athlete = guide.timeline, guide.athlete
        table = Table(title=f"{athlete.name} ({athlete.id}): {plan.race_name}, "
                      f"{plan.race_date:%a %d %b %Y}", title_justify="left")
        for col in ("date", "time", "session", "pressure", "phase"):
            table.add_column(col)
        for s in plan.sessions:
            table.add_row(f"{s.date:%a %d %b %Y}", s.time or "all day", s.title,
                          f"[{PRESSURE_STYLE[s.pressure]}]{s.pressure}[/]", s.phase)
        console.print(table)
        phases = ", ".join(f"{p.name} {p.start:%d %b}-{p.end:%d %b}" for p in plan.phases)
        console.print(f"  phases: {phases}", highlight=False)
        for w in plan.warnings:
            console.print(f"  [yellow]warning:[/] {w}", highlight=False)
