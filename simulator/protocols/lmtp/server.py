"""The LMTP server: SMTP's machine in LMTP's dialect (RFC 2033).

`LmtpServer` is an `SmtpServer` with LMTP's table and Dovecot's words; it
answers LHLO with Dovecot's capabilities and HELO or EHLO as unknown
commands.  What changes is the end of a transaction: the agent answers
`MessageReceived` with `respond_each`, one reply per accepted recipient in
RCPT order (RFC 2033 §4.2), and a reply the machine makes by itself there
(a message over the size limit) goes to every recipient alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from simulator.protocols.lmtp.replies import REPLIES, lhlo_reply
from simulator.protocols.lmtp.states import TRANSITIONS
from simulator.protocols.smtp import (
    MessageReceived,
    Reply,
    SmtpServer,
    SmtpUsageError,
    Verb,
)
from simulator.protocols.smtp.commands import Command
from simulator.protocols.smtp.server import Outcome
from simulator.protocols.smtp.states import known_verbs


class LmtpServer(SmtpServer):
    """One server side of an LMTP session, sans I/O."""

    transitions = TRANSITIONS
    replies = REPLIES
    known = known_verbs(TRANSITIONS)
    handlers: Mapping[Verb, str] = {**SmtpServer.handlers, Verb.LHLO: "_hello"}
    effects: Mapping[Verb, str] = {**SmtpServer.effects, Verb.LHLO: "_introduced"}

    def respond(self, reply: Reply) -> None:
        """Answer the pending decision; at the final dot, the same for every recipient."""
        if self._pending is not None and self._pending[0] is Verb.DATA_END:
            self.respond_each([reply] * self._recipient_count())
        else:
            super().respond(reply)

    def respond_each(self, replies: Sequence[Reply]) -> None:
        """Answer the final dot: one reply per accepted recipient, in RCPT order."""
        pending, self._pending = self._pending, None
        if pending is None or pending[0] is not Verb.DATA_END:
            raise SmtpUsageError("respond_each() answers the final dot only")
        if len(replies) != self._recipient_count():
            raise SmtpUsageError("one reply per accepted recipient (RFC 2033 §4.2)")
        self._each(replies, pending[1])

    def _hello(self, command: Command) -> Reply:
        if not command.argument:
            return super()._hello(command)  # 501 Syntax
        return lhlo_reply(self.config.hostname)

    def _conclude(self, verb: Verb | None, outcome: Outcome, subject: object = None) -> None:
        if verb is Verb.DATA_END and isinstance(outcome, Reply):
            self._each([outcome] * self._recipient_count(), subject)
        else:
            super()._conclude(verb, outcome, subject)

    def _each(self, replies: Sequence[Reply], event: MessageReceived | object) -> None:
        """Send all replies; the last one ends the transaction.

        Each refused recipient is an error (as every 4yz/5yz reply is, Postfix
        smtpd's count); a message saved for someone forgives the errors before
        it, as an accepted message does in SMTP.  `_answer` counts the last reply.
        """
        *first, last = replies
        for answer in first:
            self._send(answer)
        if any(answer.is_positive for answer in replies):
            self.error_count = 0
        else:
            self.error_count += len(first)
        self._answer(Verb.DATA_END, last, event)

    def _recipient_count(self) -> int:
        return max(1, len(self.envelope.rcpt_to) if self.envelope is not None else 0)
