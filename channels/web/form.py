"""Reading the contact form: fields and attachments checked, each problem told in plain words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage, ImmutableMultiDict

from helpdesk.tickets import AttachmentIn, Identity, InvalidChange
from helpdesk.tickets.contacts import normalize_identity

MAX_FILES = 3
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_NAME, MAX_EMAIL, MAX_PHONE, MAX_SUBJECT, MAX_MESSAGE = 200, 320, 40, 300, 20_000
# What we accept, by extension: (content type we store, a check of the first bytes). The browser's
# own content type is not trusted; a file whose bytes do not match its name is refused.
FILE_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "txt": ("text/plain", ()),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    "odt": ("application/vnd.oasis.opendocument.text", (b"PK\x03\x04",)),
}


@dataclass
class ContactForm:
    name: str = ""
    email: str = ""
    phone: str = ""
    subject: str = ""
    message: str = ""
    consent: bool = False
    attachments: list[AttachmentIn] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def sender(self) -> Identity:
        return Identity("email", self.email) if self.email else Identity("phone", self.phone)

    @property
    def extra_identities(self) -> tuple[Identity, ...]:
        return (Identity("phone", self.phone),) if self.email and self.phone else ()


def _text(form: ImmutableMultiDict[str, str], name: str, limit: int) -> str:
    return form.get(name, "").strip()[: limit + 1]


def read_form(form: ImmutableMultiDict[str, str], files: ImmutableMultiDict[str, Any]) -> ContactForm:
    data = ContactForm(
        name=" ".join(_text(form, "name", MAX_NAME).split()),
        email=_text(form, "email", MAX_EMAIL),
        phone=_text(form, "phone", MAX_PHONE),
        subject=" ".join(_text(form, "subject", MAX_SUBJECT).split()),
        message=_text(form, "message", MAX_MESSAGE),
        consent=form.get("consent") == "yes",
    )
    errors = data.errors
    if not data.name:
        errors["name"] = _("Enter your name.")
    elif len(data.name) > MAX_NAME:
        errors["name"] = _("The name is too long (at most %(n)d characters).", n=MAX_NAME)
    if data.email:
        try:
            data.email = normalize_identity(Identity("email", data.email)).value
        except InvalidChange:
            errors["email"] = _("Enter an email address like name@example.rs.")
    if data.phone:
        try:
            data.phone = normalize_identity(Identity("phone", data.phone)).value
        except InvalidChange:
            errors["phone"] = _("Enter a phone number like 064 123 4567 or +381 64 123 4567.")
    if not data.email and not data.phone:
        errors["email"] = _(
            "Give an email address or a phone number (or both): it is how we send you our answer."
        )
    if not data.subject:
        errors["subject"] = _("Enter a subject.")
    elif len(data.subject) > MAX_SUBJECT:
        errors["subject"] = _("The subject is too long (at most %(n)d characters).", n=MAX_SUBJECT)
    if not data.message:
        errors["message"] = _("Write your message.")
    elif len(data.message) > MAX_MESSAGE:
        errors["message"] = _("The message is too long (at most %(n)d characters).", n=MAX_MESSAGE)
    if not data.consent:
        errors["consent"] = _("Agree to the use of your data for answering, or we cannot accept the message.")
    uploads = [f for f in files.getlist("attachments") if isinstance(f, FileStorage) and f.filename]
    try:
        if len(uploads) > MAX_FILES:
            errors["attachments"] = _("Attach at most %(n)d files.", n=MAX_FILES)
        else:
            for upload in uploads:
                problem = _read_file(upload, data.attachments)
                if problem:
                    errors["attachments"] = problem
                    break
    finally:  # large uploads are spooled to temporary files: give them back now
        for upload in files.getlist("attachments"):
            if isinstance(upload, FileStorage):
                upload.close()
    return data


def _read_file(upload: FileStorage, into: list[AttachmentIn]) -> str | None:
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:200]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in FILE_TYPES:
        return _(
            "“%(name)s” is not a file type we accept. Send PDF, JPEG, PNG, TXT, DOCX or ODT.",
            name=name,
        )
    content = upload.stream.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        return _("“%(name)s” is larger than %(mb)d MB.", name=name, mb=MAX_FILE_BYTES // 2**20)
    if not content:
        return _("“%(name)s” is empty.", name=name)
    content_type, magic = FILE_TYPES[extension]
    if magic and not content.startswith(magic):
        return _("“%(name)s” is not really a %(kind)s file.", name=name, kind=extension.upper())
    if not magic:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return _("“%(name)s” is not a plain text file.", name=name)
    into.append(AttachmentIn(filename=name, content_type=content_type, data=content))
    return None
