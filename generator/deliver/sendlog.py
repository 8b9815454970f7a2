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

Forgotten runners (``guidegen forget``): their rows are deleted (and the file scrubbed:
``secure_delete`` and a truncating checkpoint, so no old page keeps their id, address or
Message-IDs) and only ``HMAC-SHA256(salt, id)`` and the date stay, in ``forgotten``. The
salt is random, made once and kept in this file (``settings``), so ``guidegen email`` can
recognise the runner when a later roster brings them back and hold their message instead
of sending it as if it were new. While a runner is being forgotten, ``forgetting`` holds
the intent (what will be removed); the last step deletes it with the rows, atomically.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from generator.core.errors import GuidegenError, UsageError
from generator.core.lock import FileLock

SCHEMA_VERSION = 2  # 2: the forgotten list (an older guidegen must not send to them)
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
CREATE TABLE IF NOT EXISTS forgotten (
    hash         TEXT PRIMARY KEY,  -- HMAC-SHA256(settings.forget_salt, athlete id), hex
    forgotten_on TEXT NOT NULL      -- YYYY-MM-DD
);
CREATE TABLE IF NOT EXISTS settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS forgetting (  -- a guidegen forget under way (its intent)
    athlete_id TEXT PRIMARY KEY,
    removal    TEXT NOT NULL             -- JSON: what it removes
);
"""
SALT_KEY = "forget_salt"


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


def _forget_hash(salt: bytes, athlete_id: str) -> str:
    return hmac.new(salt, athlete_id.encode(), hashlib.sha256).hexdigest()


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
        self._db = None
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
            # a damaged log must stop email before any message goes out: what it no longer
            # says was sent would be sent again (quick_check reads every page, in ms)
            damage = [row[0] for row in self._db.execute("PRAGMA quick_check(3)")]
            if damage != ["ok"]:
                raise sqlite3.DatabaseError("; ".join(damage))
            if not readonly:
                self._db.executescript(_SCHEMA)
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            if self._db is not None:
                self._db.close()
                self._db = None
            reason = " ".join(str(exc).split())[:200]
            raise GuidegenError(
                f"the send log is damaged ({reason}); stopped before sending or changing "
                "anything. Restore it from a backup, or move it away to start an empty one "
                "(then every runner is emailed again)", path=str(path)) from None

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

    def athlete_ids(self) -> list[str]:
        """Every athlete id with a row, sorted."""
        if self._db is None:
            return []
        try:
            cur = self._db.execute("SELECT DISTINCT athlete_id FROM deliveries ORDER BY 1")
        except sqlite3.OperationalError:
            return []
        return [r[0] for r in cur.fetchall()]

    # ------------------------------------------------------------ forgotten runners

    def forgotten_on(self, athlete_ids: Iterable[str]) -> dict[str, str]:
        """{id: date forgotten} for those of ``athlete_ids`` on the forgotten list."""
        if self._db is None:
            return {}
        try:
            salt = self._salt()
            if salt is None:
                return {}
            dates = dict(self._db.execute("SELECT hash, forgotten_on FROM forgotten"))
        except sqlite3.OperationalError:  # read-only view of a log from before the list
            return {}
        if not dates:
            return {}
        found = {}
        for athlete_id in athlete_ids:
            date = dates.get(_forget_hash(salt, athlete_id))
            if date is not None:
                found[athlete_id] = date
        return found

    def intents(self) -> dict[str, str]:
        """{athlete id: removal (JSON)} of each ``guidegen forget`` that was interrupted."""
        if self._db is None:
            return {}
        try:
            return dict(self._db.execute("SELECT athlete_id, removal FROM forgetting "
                                         "ORDER BY rowid"))
        except sqlite3.OperationalError:  # read-only view of a log from before forgetting
            return {}

    def begin_forget(self, athlete_id: str, removal: str) -> None:
        """Record (durably) that the athlete is being forgotten and what that removes,
        before anything is removed: a rerun finishes it (:meth:`intents`)."""
        self._write("INSERT INTO forgetting (athlete_id, removal) VALUES (?, ?) ON CONFLICT "
                    "(athlete_id) DO UPDATE SET removal = excluded.removal",
                    (athlete_id, removal))

    def forget(self, athlete_id: str, date: str) -> int:
        """The last step of forgetting: delete every row of the athlete, put the salted
        hash of the id (with ``date``) on the forgotten list and clear the intent, in one
        transaction; returns the rows deleted. A rerun deletes nothing more and keeps one
        list entry. Call :meth:`scrub` after it so no copy of the rows stays in the file."""
        if self._db is None or self.readonly:
            raise RuntimeError("the send log is open read-only")
        self._db.execute("PRAGMA secure_delete=ON")  # freed cells and pages are zeroed
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)",
                             (SALT_KEY, secrets.token_hex(32)))
            salt = self._salt()
            deleted = self._db.execute("DELETE FROM deliveries WHERE athlete_id = ?",
                                       (athlete_id,)).rowcount
            self._db.execute(
                "INSERT INTO forgotten (hash, forgotten_on) VALUES (?, ?) ON CONFLICT (hash) "
                "DO UPDATE SET forgotten_on = excluded.forgotten_on",
                (_forget_hash(salt, athlete_id), date))
            self._db.execute("DELETE FROM forgetting WHERE athlete_id = ?", (athlete_id,))
        return deleted

    def readmit(self, athlete_id: str) -> bool:
        """Take the athlete off the forgotten list (their next message is sent as new);
        False when they were not on it."""
        if self._db is None or self.readonly:
            raise RuntimeError("the send log is open read-only")
        salt = self._salt()
        if salt is None:
            return False
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            return self._db.execute("DELETE FROM forgotten WHERE hash = ?",
                                    (_forget_hash(salt, athlete_id),)).rowcount > 0

    def scrub(self, vacuum: bool = False) -> bool:
        """Write the WAL into the file and truncate it, so deleted rows survive nowhere
        (``forget`` zeroed them in the pages); ``vacuum`` also rebuilds the file. False
        when another connection kept the checkpoint from finishing."""
        if self._db is None or self.readonly:
            raise RuntimeError("the send log is open read-only")
        if vacuum:
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.execute("VACUUM")
        busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return busy == 0

    def _salt(self) -> bytes | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?",
                               (SALT_KEY,)).fetchone()
        return bytes.fromhex(row[0]) if row else None

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
    ``pending`` rows as crashed and send them again. Fails at once (never waits): the
    folder's own lock (``generator.core.lock``) is what makes a second run wait."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = FileLock(path, "email", wait=False, refusal="", busy=lambda _holder: (
            "another 'guidegen email --send' is using this send log; wait for it to finish"))

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._lock.__exit__(*exc)
