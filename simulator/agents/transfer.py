"""Sending one message over an open SMTP connection, as MUA or MTA client."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from simulator.agents.session import Patience, pump
from simulator.net.connection import Endpoint
from simulator.protocols.smtp import (
    Envelope,
    RecipientResult,
    Reply,
    SmtpClient,
    SmtpClientConfig,
    TransactionResult,
)

#: Postfix smtp_helo/mail/rcpt_timeout: how long the SMTP client waits for a reply.
SMTP_CLIENT_TIMEOUT = 300.0


def transfer(
    endpoint: Endpoint, config: SmtpClientConfig, envelope: Envelope, content: bytes
) -> Generator[simpy.events.Event, Any, dict[str, Reply]]:
    """Run one SMTP session carrying one message; the reply for each recipient.

    A recipient refused at RCPT keeps that refusal; the others get the
    reply to the final dot, or whatever reply ended the session early.
    """
    client = SmtpClient(config, [(envelope, content)])
    replies: dict[str, Reply] = {}

    def on_event(event: object) -> None:
        if isinstance(event, RecipientResult) and not event.reply.is_positive:
            replies[event.recipient] = event.reply
        elif isinstance(event, TransactionResult):
            for recipient in envelope.rcpt_to:
                replies.setdefault(recipient, event.reply)

    patience = Patience(SMTP_CLIENT_TIMEOUT, client.connection_lost)
    yield from pump(endpoint, client, on_event, client.connection_lost, patience)
    return replies
