"""The ``guidegen`` command group: our errors caught once, and the commands of the sibling
modules imported only when asked for.

``Group.lazy`` maps a command's name to the module under ``generator.cli`` that defines
it (in its ``COMMANDS``); ``generator/cli/__init__.py`` fills it. ``guidegen site``
imports ``cli/site.py`` and none of the others; ``guidegen --help``, which shows each
command's short help, imports them all.
"""

from __future__ import annotations

import importlib

import click

from generator.core.errors import GuidegenError


class Group(click.Group):
    """Catch our errors once: one line each, no traceback unless --debug."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, str] = {}  # command name -> module under generator.cli

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module = importlib.import_module(f"generator.cli.{self.lazy[cmd_name]}")
            for command in module.COMMANDS:
                self.add_command(command)
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GuidegenError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            for line in exc.lines():
                click.echo(f"error: {line}" if not exc.problems and not exc.path else line,
                           err=True)
            ctx.exit(exc.exit_code)
