"""Thin Click commands: parse options, call the library, print problems, map to exit codes.

``app`` holds the group and the shared options; each sibling module adds its commands
(its ``COMMANDS``), imported only when one of them runs or ``--help`` lists them all.
"""

from generator.cli.app import cli, main

# command name -> the sibling module that defines it (tests/test_imports.py checks both ways)
cli.lazy.update({
    "build": "site", "site": "site", "serve": "site", "init": "site",
    "email": "email", "forget": "forget", "privacy": "privacy", "plans": "plans",
    "i18n": "i18n", "merge-shards": "shards",
})

__all__ = ["cli", "main"]
