"""Build-wide facts, read once: the build date from ``SOURCE_DATE_EPOCH``.

Every output that shows or stamps a date (the footer's "Prepared" line, the site's
sitemap and feed, ICS ``DTSTAMP``) and the manifest's input digest take it from one
``BuildContext``, made once per command and passed down with the loaded inputs, so the
whole pipeline agrees on one rule. The one date that is not the build's is an email's
``Date:`` header: the time it is sent (:meth:`BuildContext.message_date`). Nothing that
identifies a message (its content hash, Message-ID, the send log's "changed") uses it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass

# Site dates never come from the wall clock: without SOURCE_DATE_EPOCH, this fixed date.
FALLBACK_SITE_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class BuildContext:
    """``source_date``: SOURCE_DATE_EPOCH as a UTC datetime, or None when it is unset or
    not a whole number of seconds (then no output carries a build date)."""

    source_date: dt.datetime | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BuildContext:
        raw = (os.environ if environ is None else environ).get("SOURCE_DATE_EPOCH", "")
        raw = raw.strip()
        if not raw.isdigit():
            return cls(None)
        try:
            return cls(dt.datetime.fromtimestamp(int(raw), tz=dt.UTC))
        except (OverflowError, ValueError, OSError):  # beyond what datetime can hold
            return cls(None)

    @property
    def build_date(self) -> dt.date | None:
        """The date a page or guide may show as "Prepared ...": only from the epoch."""
        return self.source_date.date() if self.source_date else None

    @property
    def site_date(self) -> dt.datetime:
        """The one date of the site (sitemap lastmod, feed updated)."""
        return self.source_date or FALLBACK_SITE_DATE

    def stamp(self, fallback: dt.date) -> dt.datetime:
        """A timestamp a file format requires (ICS DTSTAMP) that must not be 'now'."""
        return self.source_date or dt.datetime.combine(fallback, dt.time(0, 0), tzinfo=dt.UTC)

    def message_date(self, now: dt.datetime | None = None) -> dt.datetime:
        """An email's Date header: the send time (``now``, else the clock), never
        SOURCE_DATE_EPOCH: a message dated at the build would sort wrongly in the
        recipient's mailbox and look forged to spam filters. Whether a message is new or
        changed comes from its content hash (the guide's inputs), not from this date."""
        return now or dt.datetime.now(dt.UTC)

    @property
    def key(self) -> str:
        """What the context adds to an input digest."""
        return str(int(self.source_date.timestamp())) if self.source_date else ""
