"""Sending one message over an open SMTP connection, as MUA or MTA client.

A server may take fewer recipients per transaction than the message has:
it answers the RCPTs beyond its limit with `452` (RFC 5321 §4.5.3.1.10;
Postfix `452 4.5.3 Error: too many recipients`).  Like Postfix's smtp
client, `transfer` then sends those recipients in a further transaction on
the same connection, right after the current one, as long as each
transaction gets at least one recipient accepted.

What `transfer` reports for each recipient is an `Answer`: the reply that
settled it, or -- when no reply did -- the event that cut the session short
(`ConnectionClosed`, `TimedOut`, `ConnectionBroken`, `RemoteProtocolError`).
Callers decide on reply codes and event types, never on a reply's text.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from simulator.agents.session import Patience, pump
from simulator.net.connection import Endpoint
from simulator.protocols.common import Interruption
from simulator.protocols.lmtp import DeliveryResult
from simulator.protocols.smtp import (
    Envelope,
    RecipientResult,
    Reply,
    SmtpClient,
    SmtpClientConfig,
    TransactionResult,
)
from simulator.protocols.tls import TlsRequested

#: Postfix smtp_helo/mail/rcpt_timeout: how long the SMTP client waits for a reply.
SMTP_CLIENT_TIMEOUT = 300.0
#: RFC 5321 §4.5.3.1.10: the reply to an RCPT beyond the server's recipient limit.
TOO_MANY_RECIPIENTS = 452
#: RFC 3463 X.5.3 "Too many recipients".
TOO_MANY_RECIPIENTS_STATUS = "4.5.3"

#: What became of one recipient in one session.
Answer = Reply | Interruption


def too_many_recipients(answer: Reply) -> bool:
    """Whether an RCPT reply says "try me again in another transaction".

    A 452 with the RFC 3463 code 4.5.3, or with no enhanced code at all
    (the plain RFC 5321 reply); a 452 4.2.2 (mailbox full) is not one.
    """
    return answer.code == TOO_MANY_RECIPIENTS and answer.enhanced in (
        None, TOO_MANY_RECIPIENTS_STATUS,
    )


class _Recipients:
    """The client side's bookkeeping of one session: a final reply per recipient."""

    def __init__(self, client: SmtpClient, content: bytes) -> None:
        self.client = client
        self.content = content
        self.replies: dict[str, Answer] = {}
        self._answered: dict[int, int] = {}  # transaction index -> RCPT replies so far
        self._accepted: dict[int, int] = {}  # transaction index -> RCPTs accepted
        # transaction index -> the recipients over the server's limit, with its reply
        self._over_limit: dict[int, dict[str, Reply]] = {}

    def on_event(self, event: object) -> None:
        if isinstance(event, RecipientResult):
            self._on_rcpt(event)
        elif isinstance(event, DeliveryResult):  # LMTP: this recipient's own reply
            self.replies[event.recipient] = event.reply
        elif isinstance(event, TransactionResult):
            for recipient in event.envelope.rcpt_to:
                self.replies.setdefault(recipient, event.outcome)

    def _on_rcpt(self, event: RecipientResult) -> None:
        index, answer = event.index, event.reply
        self._answered[index] = self._answered.get(index, 0) + 1
        if answer.is_positive:
            self._accepted[index] = self._accepted.get(index, 0) + 1
        elif too_many_recipients(answer):
            self._over_limit.setdefault(index, {})[event.recipient] = answer
        else:
            self.replies[event.recipient] = answer
        envelope, _ = self.client.transactions[index]
        if self._answered[index] == len(envelope.rcpt_to):
            self._after_last_rcpt(index, envelope)

    def _after_last_rcpt(self, index: int, envelope: Envelope) -> None:
        """Send the recipients over the limit in a next transaction, if this one made progress."""
        rest = self._over_limit.pop(index, {})
        if not rest:
            return
        if self._accepted.get(index, 0) == 0:  # a next one would fare no better
            self.replies.update(rest)  # a temporary failure: retried later
            return
        self.client.add_transaction(Envelope(envelope.mail_from, tuple(rest)), self.content)


def transfer(
    endpoint: Endpoint, config: SmtpClientConfig, envelope: Envelope, content: bytes,
    dialect: type[SmtpClient] = SmtpClient,
    implicit_tls: bool = False,
) -> Generator[simpy.events.Event, Any, dict[str, Answer]]:
    """Run one SMTP (or LMTP) session carrying one message; the final answer for each recipient.

    A recipient refused at RCPT keeps that refusal; the others get the
    reply to the final dot of their transaction -- with LMTP, their own
    reply to it (RFC 2033 §4.2) -- whatever reply ended the session early,
    or the event that cut it short.  `dialect` is the client class:
    `SmtpClient`, or `LmtpClient` for the hand-off to a mailbox server.
    `implicit_tls`: the port starts with TLS (465, RFC 8314 §3).
    """
    client = dialect(config, [(envelope, content)])
    book = _Recipients(client, content)
    patience = Patience(SMTP_CLIENT_TIMEOUT, client.timed_out)
    tls_first = TlsRequested() if implicit_tls else None
    yield from pump(endpoint, client, book.on_event, patience, tls_first=tls_first)
    return book.replies
