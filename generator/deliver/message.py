"""Build one athlete's email: branded HTML + plain text, the PDF and ICS attached.

The attachments are the guide files a build wrote (``OUT/guides/<brand>/<id>.pdf|ics``),
used after checking them against the manifest (same input digest, same bytes); a guide
that is missing or stale is rendered here instead, and counted. After a fresh build,
composing messages never imports WeasyPrint.

Every header goes through the ``email`` package (``EmailMessage`` +
``headerregistry.Address``): a CR or LF in a name, address or subject raises
instead of starting a new header.  The content hash covers everything the
recipient sees (addresses, subject, both bodies, logo) and, for the attachments, the
guide's input digest (the same inputs make the same PDF and ICS), but not the Date header,
so it says whether *this* message was already delivered; the Message-ID is derived from
it, so a retry of the same content carries the same Message-ID. The Date header is the
time the message is composed (and :meth:`Outgoing.stamp` sets it again at sending), never
``SOURCE_DATE_EPOCH``.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

from generator.core.errors import ConfigError, GuidegenError, Problem
from generator.load.inputs import Inputs
from generator.plan.guideplan import GuidePlan
from generator.publish.layout import PLAN, OutputLayout
from generator.publish.manifest import Manifest, input_digest, templates_digest
from generator.publish.plans import plan_links, plan_secret, plan_token
from generator.render.renderer import DISCLAIMER, Renderer

TEMPLATES = ("email/subject.txt.j2", "email/message.txt.j2", "email/message.html.j2")
HASH_VERSION = b"guidegen-email-2"  # 2: attachments hashed by their guide's input digest


class MessageError(GuidegenError):
    """This athlete's message cannot be built (bad address, brand without email)."""

    exit_code = 1

    def __init__(self, message: str, field: str | None = None, **kw):
        super().__init__(message, **kw)
        self.field = field


@dataclass
class Outgoing:
    """One composed message, ready for the outbox or the SMTP server."""

    athlete_id: str
    recipient: Address
    sender: Address
    subject: str
    content_hash: str
    message_id: str
    message: EmailMessage
    sizes: dict[str, int] = field(default_factory=dict)  # attachment file name -> bytes
    rendered: str | None = None  # why the guide was rendered for it (None: as built)

    @property
    def email(self) -> str:
        return self.recipient.addr_spec

    @property
    def smtputf8(self) -> bool:
        """Non-ASCII mailbox names need SMTPUTF8 (and raw UTF-8 headers)."""
        return not (self.recipient.addr_spec.isascii() and self.sender.addr_spec.isascii())

    def stamp(self, now: dt.datetime | None = None) -> None:
        """Date the message ``now`` (default: the clock), e.g. just before it is sent.
        The content hash and Message-ID do not change."""
        self.message.replace_header("Date", email.utils.format_datetime(
            now or dt.datetime.now(dt.UTC)))

    def as_bytes(self) -> bytes:
        return self.message.as_bytes(policy=policy.SMTPUTF8 if self.smtputf8 else policy.SMTP)


def mailbox(name: str, addr: str, what: str) -> Address:
    """An ``Address`` from a display name and an address, or MessageError.

    The email package refuses CR/LF in any part and quotes or RFC 2047-encodes
    the display name, so a name such as ``Eve <x@y>, Bcc: z`` stays one name."""
    for value, part in ((name, "name"), (addr, "email")):
        if "\r" in value or "\n" in value:
            raise MessageError(f"{what}: the {part} contains a line break, which could "
                               "inject email headers", field=part)
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain or not domain.isascii():
        raise MessageError(f"{what} address {addr!r} is not a valid address", field="email")
    try:
        if local.isascii():
            result = Address(display_name=name, addr_spec=addr)
        else:
            result = Address(display_name=name, username=local, domain=domain)
    except (ValueError, TypeError) as exc:  # CR/LF, defects in the address
        raise MessageError(f"{what} cannot be used in an email header: {exc}",
                           field="email") from None
    if result.addr_spec != addr:
        raise MessageError(f"{what} address {addr!r} is not a valid address", field="email")
    return result


def logo_part(logo_uri: str) -> tuple[str, str, bytes]:
    """(maintype, subtype, bytes) of the brand's ``data:`` logo."""
    head, _, data = logo_uri.partition(",")
    mime = head.removeprefix("data:").split(";")[0] or "application/octet-stream"
    maintype, _, subtype = mime.partition("/")
    return maintype, subtype, base64.b64decode(data)


def content_hash(parts: list[bytes]) -> str:
    h = hashlib.sha256(HASH_VERSION)
    for part in parts:  # length-prefixed: no two part lists hash alike
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def addresses(athlete, brand) -> tuple[Address, Address]:
    """(From, To), checked before any guide is rendered for them."""
    if not brand.contact.email:
        raise MessageError(f"brand {brand.id!r} has no contact.email: it is the sender of "
                           "its guides (set it in brand.toml)", field="contact.email")
    sender = mailbox(brand.name, brand.contact.email, f"brand {brand.id!r}")
    recipient = mailbox(athlete.name, athlete.email or "", f"athlete {athlete.id!r}")
    return sender, recipient


def compose(plan: GuidePlan, files: dict[str, bytes], guide_digest: str, renderer: Renderer,
            date: dt.datetime, links: dict[str, str] | None = None) -> Outgoing:
    """The whole message for one athlete; ``files`` holds the guide's pdf and ics, made
    from inputs whose digest is ``guide_digest``; ``links``: the runner's private plan page
    (``plan_url``) and its calendar subscription (``webcal_url``), when plan pages exist."""
    athlete, brand, timeline = plan.athlete, plan.brand, plan.timeline
    sender, recipient = addresses(athlete, brand)
    domain = sender.domain
    logo_cid = f"logo.{brand.id}@{domain}"
    names = {"pdf": f"{athlete.id}.pdf", "ics": f"{athlete.id}.ics"}
    words = renderer.plan_words(plan)
    context = dict(athlete=athlete, brand=brand, timeline=timeline, facts=plan.facts,
                   disclaimer=words.gettext(DISCLAIMER), logo_src=f"cid:{logo_cid}",
                   attachments=names,
                   changes=plan.published.changes if plan.published else (),
                   plan_url=(links or {}).get("plan_url"),
                   webcal_url=(links or {}).get("webcal_url"))
    subject = " ".join(renderer.render(TEMPLATES[0], context, brand, words).split())
    if not subject:
        raise MessageError(f"{TEMPLATES[0]} rendered an empty subject", field="subject")
    context["subject"] = subject
    text = renderer.render(TEMPLATES[1], context, brand, words)
    html = renderer.render(TEMPLATES[2], context, brand, words)
    logo_type, logo_subtype, logo = logo_part(brand.logo_uri)

    digest = content_hash([str(sender).encode(), str(recipient).encode(), subject.encode(),
                           (brand.unsubscribe or "").encode(), text.encode(), html.encode(),
                           logo, guide_digest.encode()])
    msg = EmailMessage()
    try:
        msg["Subject"] = subject
        msg["From"] = sender
        msg["Reply-To"] = sender
        msg["To"] = recipient
        msg["Date"] = email.utils.format_datetime(date)
        msg["Message-ID"] = f"<guide.{athlete.id}.{digest[:24]}@{domain}>"
        if brand.unsubscribe:
            msg["List-Unsubscribe"] = f"<{brand.unsubscribe}>"
            if brand.unsubscribe.startswith("https://"):
                msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    except ValueError as exc:  # a CR/LF that got this far (brand name, subject...)
        raise MessageError(f"cannot build the message headers: {exc}") from None
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    # the logo is part of the HTML body (cid:), not something to save: inline, not attached
    msg.get_payload()[1].add_related(logo, logo_type, logo_subtype, cid=f"<{logo_cid}>",
                                     disposition="inline",
                                     filename=f"logo.{logo_subtype.split('+')[0]}")
    msg.add_attachment(files["pdf"], maintype="application", subtype="pdf",
                       filename=names["pdf"])
    msg.add_attachment(files["ics"], maintype="text", subtype="calendar",
                       filename=names["ics"], params={"method": "PUBLISH", "charset": "utf-8"})
    return Outgoing(athlete.id, recipient, sender, subject, digest, msg["Message-ID"], msg,
                    {names["pdf"]: len(files["pdf"]), names["ics"]: len(files["ics"])})


class Mailer:
    """Composes messages for a project from its built guides (see the module's doc)."""

    def __init__(self, inputs: Inputs, out: Path, *, now: dt.datetime | None = None):
        self.inputs = inputs
        self.layout = OutputLayout(out)
        project = inputs.project
        self.renderer = Renderer(project.templates_dir, project, inputs.context)
        self._now = now  # a fixed send time (tests); None: the clock, at each message
        self.problems: list[Problem] = []  # warnings from guides rendered here
        self._templates = templates_digest(project)
        self._config = project.config.model_dump_json()
        self._manifests = [Manifest.load(path) for path in self.layout.manifests()]
        self._maker = None
        self._secret = self._plan_secret()

    def _plan_secret(self) -> bytes | None:
        """The plan pages' secret, for each runner's link; None when no build made plan
        pages in OUT (and a warning when it did but the secret is not set here)."""
        plans = self.inputs.project.config.plans
        if not plans.enabled or not self.layout.plan_folders():
            return None
        try:
            return plan_secret(plans.secret_env)
        except ConfigError:
            self.problems.append(Problem("guidegen.toml", None, f"${plans.secret_env} is not "
                                         "set: the emails carry no link to the runners' plan "
                                         "pages", "plans", "warning"))
            return None

    def links(self, plan: GuidePlan) -> dict[str, str]:
        """The runner's private plan page and calendar subscription URLs, when the build
        made the page (else none)."""
        if self._secret is None:
            return {}
        token = plan_token(self._secret, plan.id)
        if not self.layout.plan_paths(token)[PLAN].is_file():
            return {}  # no page was built for this runner (yet): no link to a 404
        return plan_links(self.inputs.project.settings.base_url, token)

    @property
    def date(self) -> dt.datetime:
        """The Date of a message composed now: the send time, never the build's date."""
        return self.inputs.context.message_date(self._now)

    def guide(self, plan: GuidePlan) -> tuple[dict[str, bytes], str, str | None]:
        """(files, input digest, why it was rendered here: None when attached as built)."""
        digest = input_digest(plan, self._templates, self._config, self.inputs.context)
        paths = self.layout.guide_paths(plan.brand.id, plan.id)
        wanted = {fmt: self.layout.relative(paths[fmt]) for fmt in ("pdf", "ics")}
        why = "not built"
        for manifest in self._manifests:
            files, found = manifest.built_files(plan.id, digest, wanted, self.layout.out)
            if files is not None:
                return files, digest, None
            why = found or why
        if self._maker is None:
            from generator.publish.guides import GuideMaker

            self._maker = GuideMaker(self.inputs, self.renderer)
        result = self._maker.make(plan, ("pdf", "ics"))
        self.problems += result.problems
        return result.files, digest, why

    def compose(self, plan: GuidePlan) -> Outgoing:
        addresses(plan.athlete, plan.brand)  # fail fast, before any guide is read or made
        files, digest, why = self.guide(plan)
        out = compose(plan, files, digest, self.renderer, self.date, self.links(plan))
        out.rendered = why
        return out
