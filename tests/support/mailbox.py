"""A real SMTP server (aiosmtpd) on loopback, in a thread: it keeps every email that arrived."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.controller import Controller

from incident_service.embedded import free_port


@dataclass
class Mail:
    to: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        body = self.message.get_body((subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(cast(EmailMessage, body).get_content())

    @property
    def everything(self) -> str:
        """Headers and every decoded part: what a marker must never be found in."""
        return str(self.message) + self.part("plain") + self.part("html")

    def link(self, path: str) -> str:
        """The first link to `path` in the text part."""
        match = re.search(rf"https?://\S+{re.escape(path)}\?token=[\w-]+", self.part("plain"))
        assert match, f"no {path} link in: {self.part('plain')}"
        return match.group(0)


class Mailbox:
    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self._lock = threading.Lock()
        self.port = free_port()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self._lock:
            self.mails.append(Mail(list(envelope.rcpt_tos), cast(EmailMessage, message)))
        return "250 OK"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address: str) -> list[Mail]:
        with self._lock:
            return [m for m in self.mails if address in m.to]


@contextmanager
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
