"""SMTP transport: URL parsing, TLS, one reused connection, outcome of each attempt.

The transport never retries by itself; it says what happened (``Outcome``) and
the delivery loop decides.  The one subtle part is the end of DATA: the
message body goes out first, then ``before_commit()`` records in the send log
that the message is about to be handed over, and only then the final ``.``
is sent.  A server cannot accept a message before that ``.`` (RFC 5321
4.1.1.4), so a crash before it is a clean "not sent", and the ambiguous window
is reduced to "final dot sent, reply not yet recorded".
"""

from __future__ import annotations

import enum
import ipaddress
import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from generator.core.errors import GuidegenError, UsageError

PASSWORD_ENV = "GUIDEGEN_SMTP_PASSWORD"
DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


@dataclass(frozen=True)
class SmtpUrl:
    scheme: str  # "smtp" (STARTTLS when offered) or "smtps" (implicit TLS)
    host: str
    port: int
    user: str | None

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_smtp_url(text: str) -> SmtpUrl:
    """``smtp://host[:port]`` or ``smtps://[user@]host[:port]``; never a password."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"--smtp: {exc} (expected smtp://host:port or "
                         "smtps://user@host:port)") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise UsageError(f"--smtp: expected smtp://host:port or smtps://user@host:port "
                         f"(got {text!r})")
    if parts.password is not None:
        raise UsageError(f"--smtp: do not put the password in the URL (it ends up in shell "
                         f"history and process lists); set {PASSWORD_ENV} instead")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise UsageError(f"--smtp: unexpected path or query in {text!r}")
    user = unquote(parts.username) if parts.username else None
    return SmtpUrl(parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme], user)


class Outcome(enum.Enum):
    SENT = "sent"  # 250 after the end of DATA
    FAILED = "failed"  # refused for good (5xx): not accepted, do not retry
    TRANSIENT = "transient"  # 4xx or connection trouble before the end of DATA: retry
    UNCONFIRMED = "unconfirmed"  # connection lost after the final dot: may be delivered


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    detail: str = ""
    unreachable: bool = False  # could not connect at all (the whole run may stop)


class TransportError(GuidegenError):
    """The server cannot be used at all (bad credentials, TLS refused): stop the run."""


def _reply(code: int, resp: bytes | str) -> str:
    text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
    return f"{code} {' '.join(text.split())}".strip()


def _refused(code: int, resp: bytes | str) -> Attempt:
    outcome = Outcome.TRANSIENT if 400 <= code < 500 else Outcome.FAILED
    return Attempt(outcome, _reply(code, resp))


_DOT_RE = re.compile(rb"^\.", re.MULTILINE)


def dot_stuffed(data: bytes) -> bytes:
    """Message bytes for DATA without the terminating ``.`` line (RFC 5321 4.5.2)."""
    data = re.sub(rb"\r\n|\r|\n", b"\r\n", data)
    data = _DOT_RE.sub(b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


class SmtpTransport:
    """One connection, opened lazily and reopened after a drop."""

    def __init__(self, url: SmtpUrl, password: str | None = None, *, timeout: float = 60,
                 tls_context: ssl.SSLContext | None = None):
        if url.user and not password:
            raise UsageError(f"--smtp names user {url.user!r}: set the password in "
                             f"{PASSWORD_ENV}")
        self.url = url
        self.password = password
        self.timeout = timeout
        self.tls_context = tls_context or ssl.create_default_context()
        self._conn: smtplib.SMTP | None = None

    # ---------------------------------------------------------------- connection

    def _connect(self) -> smtplib.SMTP:
        url = self.url
        if url.scheme == "smtps":
            conn = smtplib.SMTP_SSL(url.host, url.port, timeout=self.timeout,
                                    context=self.tls_context)
        else:
            conn = smtplib.SMTP(url.host, url.port, timeout=self.timeout)
        try:
            conn.ehlo_or_helo_if_needed()
            tls = url.scheme == "smtps"
            if not tls and conn.has_extn("starttls"):
                conn.starttls(context=self.tls_context)
                conn.ehlo()
                tls = True
            if url.user:
                if not tls and not url.is_loopback:
                    raise TransportError(f"{url.host} does not offer STARTTLS: refusing to "
                                         "send the password unencrypted (use smtps://)")
                try:
                    conn.login(url.user, self.password or "")
                except smtplib.SMTPAuthenticationError as exc:
                    raise TransportError(f"{url}: login refused: "
                                         f"{_reply(exc.smtp_code, exc.smtp_error)}") from None
                except smtplib.SMTPNotSupportedError:
                    raise TransportError(f"{url}: the server does not offer AUTH") from None
        except BaseException:
            _close_quietly(conn)
            raise
        return conn

    def _connection(self) -> smtplib.SMTP:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            _close_quietly(self._conn)
            self._conn = None

    def _reset(self) -> None:
        """After a refused command: RSET, or reconnect next time if that fails."""
        if self._conn is None:
            return
        try:
            code, _ = self._conn.rset()
            if code != 250:
                self._drop()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()

    # ---------------------------------------------------------------- delivery

    def deliver(self, sender: str, recipient: str, data: bytes, *, smtputf8: bool,
                before_commit: Callable[[], None]) -> Attempt:
        """One SMTP transaction.  ``before_commit`` runs after the message body went
        out and before the final dot; if it raises, the connection is dropped
        without the dot, so the server discards the message."""
        try:
            conn = self._connection()
        except TransportError:
            raise
        except smtplib.SMTPResponseException as exc:
            self._drop()
            return Attempt(Outcome.TRANSIENT, f"connect: {_reply(exc.smtp_code, exc.smtp_error)}",
                           unreachable=True)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            return Attempt(Outcome.TRANSIENT, f"cannot connect to {self.url}: {exc}",
                           unreachable=True)
        try:
            return self._transaction(conn, sender, recipient, data, smtputf8, before_commit)
        except BaseException:
            # Ctrl-C or a bug mid-transaction: close without QUIT (which would land in
            # the DATA stream) and without the final dot, so nothing half-sent is kept
            self._drop()
            raise

    def _transaction(self, conn: smtplib.SMTP, sender: str, recipient: str, data: bytes,
                     smtputf8: bool, before_commit: Callable[[], None]) -> Attempt:
        try:
            options = []
            if smtputf8:
                if not conn.has_extn("smtputf8"):
                    return Attempt(Outcome.FAILED, "the address is not ASCII and the server "
                                   "does not support SMTPUTF8")
                options.append("SMTPUTF8")
            if conn.has_extn("8bitmime"):
                options.append("BODY=8BITMIME")
            code, resp = conn.mail(sender, options)
            if code != 250:
                return self._refusal(code, resp)
            code, resp = conn.rcpt(recipient)
            if code not in (250, 251):
                return self._refusal(code, resp)
            conn.putcmd("data")
            code, resp = conn.getreply()
            if code != 354:
                return self._refusal(code, resp)
            conn.send(dot_stuffed(data))
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            return Attempt(Outcome.TRANSIENT, f"connection lost: {exc or type(exc).__name__}")
        before_commit()  # if it raises, deliver() drops the connection before the dot
        try:
            conn.send(b".\r\n")
            code, resp = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            return Attempt(Outcome.UNCONFIRMED, "connection lost after the message was "
                           f"handed over, before the server confirmed it: "
                           f"{exc or type(exc).__name__}")
        if code == 250:
            return Attempt(Outcome.SENT, _reply(code, resp))
        return self._refusal(code, resp)

    def _refusal(self, code: int, resp: bytes | str) -> Attempt:
        if code == 421 or code < 0:  # closing, or smtplib's "connection closed" (-1)
            self._drop()
            return Attempt(Outcome.TRANSIENT, _reply(code, resp) or "connection closed")
        self._reset()
        return _refused(code, resp)


def _close_quietly(conn: smtplib.SMTP) -> None:
    try:
        conn.close()
    except OSError:
        pass
