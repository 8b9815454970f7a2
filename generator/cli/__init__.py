"""Thin Click commands: parse options, call the library, print problems, map to exit codes.

``app`` holds the group and the shared options; each sibling module adds its commands.
"""

from generator.cli import email, forget, i18n, plans, privacy, shards, site
from generator.cli.app import cli, main

for _module in (site, email, forget, privacy, plans, i18n, shards):
    for _command in _module.COMMANDS:
        cli.add_command(_command)

__all__ = ["cli", "main"]
