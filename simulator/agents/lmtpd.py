"""The MDA's LMTP service: mail handed over by MTAs, answered per recipient.

One `LmtpSession` per connection (Dovecot's lmtp service).  RCPT asks the
user database: an unknown user is refused at once (`550 5.1.1 <rcpt> User
doesn't exist`).  After the final dot every accepted recipient gets its own
reply (RFC 2033 §4.2): `250 2.0.0 <rcpt> <session id> Saved`, or the quota's
refusal.  A recipient saved here is this host's to report from then on,
even if the reply has not reached the MTA when the run ends.  Dovecot
closes an LMTP session idle for 5 minutes.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simulator.agents.session import Patience, pump
from simulator.net.connection import Endpoint
from simulator.protocols.lmtp import LmtpServer
from simulator.protocols.smtp import (
    MailFromReceived,
    MessageReceived,
    RcptToReceived,
    SmtpReply,
    SmtpServerConfig,
)

if TYPE_CHECKING:
    from simulator.agents.mda import Copies, Mda

#: Dovecot's LMTP idle timeout (smtp-server, 5 minutes).
LMTP_IDLE_TIMEOUT = 300.0


class LmtpSession:
    """One LMTP conversation on the MDA's side."""

    def __init__(self, mda: Mda, endpoint: Endpoint) -> None:
        self.mda = mda
        self.endpoint = endpoint
        # No size limit of its own: Dovecot's LMTP leaves that to the MTA and the quota.
        config = SmtpServerConfig(hostname=mda.hostname, software=mda.config.software,
                                  max_message_size=0)
        self.server = LmtpServer(config)
        self.session_id = mda.new_session_id()

    def run(self) -> Generator[simpy.events.Event, Any, None]:
        """Greet, then answer commands until the client leaves."""
        self.server.greet()
        patience = Patience(LMTP_IDLE_TIMEOUT, self.on_timeout)
        yield from pump(self.endpoint, self.server, self.on_event, patience)

    def on_timeout(self) -> None:
        """The client fell silent: 421 and close."""
        self.server.close(self.server.reply_for(SmtpReply.TIMEOUT, hostname=self.mda.hostname))

    def on_event(self, event: object) -> None:
        """Answer the decisions the LMTP machine asks for."""
        server = self.server
        if isinstance(event, MailFromReceived):
            server.respond(server.reply_for(SmtpReply.MAIL_OK))
        elif isinstance(event, RcptToReceived):
            rcpt = event.forward_path
            known = self.mda.has_user(rcpt)
            server.respond(server.reply_for(SmtpReply.RCPT_OK) if known
                           else server.reply_for(SmtpReply.USER_UNKNOWN, rcpt=rcpt))
        elif isinstance(event, MessageReceived):
            self.deliver(event)

    def deliver(self, event: MessageReceived) -> None:
        """File the message for each recipient; answer for each, in RCPT order."""
        copies: Copies = {}
        envelope = event.envelope
        session = self.endpoint.connection.session
        replies = [self.mda.deliver(envelope.mail_from, rcpt, event.content, self.session_id,
                                    copies, session) for rcpt in envelope.rcpt_to]
        self.mda.ctx.handovers.update(
            (session, rcpt) for rcpt, answer in zip(envelope.rcpt_to, replies, strict=True)
            if answer.code // 100 == 2
        )
        self.server.respond_each(replies)
