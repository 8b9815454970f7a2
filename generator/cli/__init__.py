"""Thin Click commands: parse options, call the library, print problems, map to exit codes.

``app`` holds the group and the shared options; each sibling module adds its commands
(its ``COMMANDS``), imported only when one of them runs or ``--help`` lists them all.
"""

import os

# guidegen's settings, brands and front matter are its own pydantic models: plugins
# installed for other programs have nothing to observe in them, and looking for them
# (every installed package's entry points) costs each start about 15 ms. Set before the
# models are built; a value the user set is kept.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from generator.cli.app import cli, main  # noqa: E402 - after the setting above

# command name -> the sibling module that defines it (tests/test_imports.py checks both ways)
cli.lazy.update({
    "build": "site", "site": "site", "serve": "site", "init": "site",
    "email": "email", "forget": "forget", "privacy": "privacy", "plans": "plans",
    "i18n": "i18n", "merge-shards": "shards",
})

__all__ = ["cli", "main"]
