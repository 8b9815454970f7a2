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


def _as_of(raw: str) -> dt.date | None:
    """GUIDEGEN_AS_OF=YYYY-MM-DD (what ``--as-of`` takes from the environment); a value
    that is not a date is ignored here and refused by the command line's option."""
    try:
        return dt.date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        return None


@dataclass(frozen=True)
class BuildContext:
    """``source_date``: SOURCE_DATE_EPOCH as a UTC datetime, or None when it is unset or
    not a whole number of seconds (then no output carries a build date)."""

    source_date: dt.datetime | None = None
    as_of: dt.date | None = None  # --as-of: what counts as today (plan start, expiry)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 as_of: dt.date | None = None) -> BuildContext:
        env = os.environ if environ is None else environ
        if as_of is None:
            as_of = _as_of(env.get("GUIDEGEN_AS_OF", ""))
        raw = env.get("SOURCE_DATE_EPOCH", "").strip()
        if not raw.isdigit():
            return cls(None, as_of)
        try:
            return cls(dt.datetime.fromtimestamp(int(raw), tz=dt.UTC), as_of)
        except (OverflowError, ValueError, OSError):  # beyond what datetime can hold
            return cls(None, as_of)

    @property
    def today(self) -> dt.date:
        """Today for planning and retention: ``--as-of``, else the real date. Never
        SOURCE_DATE_EPOCH: a fixed epoch would issue every new runner's plan in the past.
        (A runner's plan start, once issued, is kept in the build state: rebuilds on later
        days give the same bytes.)"""
        return self.as_of or dt.date.today()

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
