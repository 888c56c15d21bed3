"""The LMTP client: SMTP's client in LMTP's dialect (RFC 2033).

It says LHLO, sends MAIL, RCPT and DATA as an SMTP client does
(pipelined when the server offers PIPELINING), and after the final dot
reads one reply per recipient whose RCPT was accepted, reporting each as
a `DeliveryResult` before the transaction's `TransactionResult`.  This is
what Postfix's lmtp(8) delivery agent does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from simulator.protocols.lmtp.states import CLIENT_TRANSITIONS, COMMANDS
from simulator.protocols.smtp import (
    ClientInput,
    ClientState,
    DeliveryResult,
    Envelope,
    Reply,
    SmtpClient,
    SmtpClientConfig,
)


class LmtpClient(SmtpClient):
    """One client side of an LMTP session, sans I/O."""

    transitions = CLIENT_TRANSITIONS
    commands = COMMANDS
    readers: Mapping[ClientState, str] = {
        **SmtpClient.readers, ClientState.LHLO: "_on_lhlo",
        ClientState.DELIVERY_REPLIES: "_on_content",
    }

    def __init__(
        self, config: SmtpClientConfig, transactions: Sequence[tuple[Envelope, bytes]]
    ) -> None:
        super().__init__(config, transactions)
        self._delivered = 0  # replies to the final dot read so far

    def _on_lhlo(self, answer: Reply) -> ClientInput:
        if answer.code // 100 == 2:
            return self._on_ehlo(answer)  # the keywords, as for EHLO
        self._resolve_rest(answer)
        return ClientInput.REFUSED

    def _on_content(self, answer: Reply) -> ClientInput:
        """One accepted recipient's reply; the last one ends the transaction."""
        recipient = self._accepted[self._delivered]
        self._events.append(DeliveryResult(self._index, recipient, answer))
        self._delivered += 1
        if self._delivered < len(self._accepted):
            return ClientInput.NEXT_RECIPIENT
        self._delivered = 0
        return super()._on_content(answer)

