"""The send log: what was handed to the mail server, so every client gets a guide once.

One SQLite file (WAL, ``synchronous=FULL``) at ``<out>/sendlog.sqlite``.  A
row per (athlete id, content hash) moves through these states:

``pending``      written (and fsynced) before the SMTP transaction starts.  A
                 crash here is harmless: the server cannot deliver a message
                 whose end-of-data marker it never received, so a rerun sends it.
``unconfirmed``  written just before the final ``.`` of DATA goes out.  A crash
                 (or lost connection) here leaves it unknown whether the server
                 accepted the message: a rerun holds it and asks the operator.
``sent``         the server answered 250 to the end of DATA.
``failed``       the server refused it for good (5xx) or retries ran out; the
                 message was not accepted, so a rerun sends it again.

``decide`` turns an athlete's rows + the current content hash into what to do;
it is pure so the rules can be read (and tested) in one place.
"""

from __future__ import annotations

import datetime as dt
import enum
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from generator.core.errors import GuidegenError, UsageError

SCHEMA_VERSION = 1
STATES = ("pending", "unconfirmed", "sent", "failed")
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS deliveries (
    athlete_id   TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    email        TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN {STATES!r}),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (athlete_id, content_hash)
);
"""


@dataclass(frozen=True)
class Row:
    athlete_id: str
    content_hash: str
    email: str
    message_id: str
    state: str
    attempts: int
    last_error: str | None


class Action(enum.Enum):
    SEND = "send"
    ALREADY_SENT = "already sent"
    CHANGED = "changed since sent (held: use --resend-changed)"
    UNCONFIRMED = "unconfirmed (held)"
    MARK_SENT = "mark sent"


def decide(rows: list[Row], content_hash: str, *, resend_changed: bool = False,
           unconfirmed: str = "hold") -> Action:
    """What to do with an athlete's current message, given the log's rows for them.

    * this exact content was sent: never again;
    * this exact content may have been accepted (unconfirmed): hold, unless the
      operator said ``resend`` or ``mark-sent`` after checking the server;
    * other content was (or may have been) delivered to this athlete: the guide
      changed, send only with ``resend_changed``;
    * otherwise (new, pending = crashed before the end of DATA, failed): send.
    """
    same = next((r for r in rows if r.content_hash == content_hash), None)
    if same is not None and same.state == "sent":
        return Action.ALREADY_SENT
    if same is not None and same.state == "unconfirmed":
        return {"resend": Action.SEND, "mark-sent": Action.MARK_SENT}.get(
            unconfirmed, Action.UNCONFIRMED)
    delivered_before = any(r.content_hash != content_hash
                           and r.state in ("sent", "unconfirmed") for r in rows)
    if delivered_before and not resend_changed:
        return Action.CHANGED
    return Action.SEND


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class SendLog:
    """Rows of the send log; each state change is its own durable transaction."""

    def __init__(self, path: Path | None, *, readonly: bool = False):
        """``readonly`` (previews) never creates or changes the file; a missing
        file reads as an empty log.  ``path=None`` is an in-memory log (tests)."""
        self.path = path
        self.readonly = readonly
        if path is not None and readonly and not path.exists():
            self._db = None
            return
        if path is not None and not readonly:
            path.parent.mkdir(parents=True, exist_ok=True)
        target = ":memory:" if path is None else str(path)
        try:
            self._db = sqlite3.connect(target, isolation_level=None, timeout=30)
            self._db.row_factory = sqlite3.Row
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise UsageError(f"send log was written by a newer guidegen (schema "
                                 f"{version}); upgrade guidegen", path=str(path))
            if not readonly:
                self._db.execute("PRAGMA journal_mode=WAL")
                # FULL: the 'unconfirmed' commit must be on disk before the final
                # '.' of DATA leaves, or a power cut could forget a delivery
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.executescript(_SCHEMA)
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise GuidegenError(f"cannot use the send log: {exc}", path=str(path)) from None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> SendLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def rows(self, athlete_id: str) -> list[Row]:
        if self._db is None:
            return []
        try:
            cur = self._db.execute(
                "SELECT athlete_id, content_hash, email, message_id, state, attempts, "
                "last_error FROM deliveries WHERE athlete_id = ?", (athlete_id,))
        except sqlite3.OperationalError:  # read-only view of a log without the table
            return []
        return [Row(*r) for r in cur.fetchall()]

    # ------------------------------------------------------------ state changes

    def begin_attempt(self, athlete_id: str, content_hash: str, email: str,
                      message_id: str) -> None:
        """Record the attempt (state ``pending``) before any byte goes to the server."""
        now = _now()
        self._write(
            "INSERT INTO deliveries (athlete_id, content_hash, email, message_id, state, "
            "attempts, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', 1, ?, ?) "
            "ON CONFLICT (athlete_id, content_hash) DO UPDATE SET state = 'pending', "
            "attempts = attempts + 1, email = excluded.email, "
            "message_id = excluded.message_id, updated_at = excluded.updated_at",
            (athlete_id, content_hash, email, message_id, now, now))

    def mark(self, athlete_id: str, content_hash: str, state: str,
             error: str | None = None) -> None:
        if state not in STATES:
            raise ValueError(state)
        self._write("UPDATE deliveries SET state = ?, last_error = ?, updated_at = ? "
                    "WHERE athlete_id = ? AND content_hash = ?",
                    (state, error, _now(), athlete_id, content_hash))

    def _write(self, sql: str, params: tuple) -> None:
        if self._db is None or self.readonly:
            raise RuntimeError("the send log is open read-only")
        with self._db:  # one transaction, committed (and fsynced) on exit
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(sql, params)


class RunLock:
    """One sending process per send log: a second one would see the first one's
    ``pending`` rows as crashed and send them again."""

    def __init__(self, path: Path):
        self.path = path
        self._fh = None

    def __enter__(self) -> RunLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no cross-process lock
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a+")  # noqa: SIM115 - held for the whole run
        try:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._fh.close()
            self._fh = None
            raise UsageError("another 'guidegen email --send' is using this send log; "
                             "wait for it to finish", path=str(self.path)) from None
        return self

    def __exit__(self, *exc) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
