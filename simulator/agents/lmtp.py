"""The MTA's LMTP delivery agent: local mail handed to the MDA (Postfix lmtp(8)).

Postfix hands mail for its own domains to Dovecot with
``virtual_transport = lmtp:inet:<mda host>:24``: one LMTP session to the
domain's MDA carries the message and all its local recipients at once, and
the MDA answers for each recipient after the final dot (RFC 2033 §4.2).
When the MDA runs on the MTA's own host the connection is a loopback one
and takes no time.  Each recipient's outcome is the MDA's reply as it
stands -- 2yz delivered, 4yz deferred, 5yz bounced, reported in a DSN as
``Diagnostic-Code: lmtp; ...`` with ``Remote-MTA: dns; <mda host>`` -- or,
when no reply came, the verdict on what cut the session short.
"""

from __future__ import annotations

from collections.abc import Generator, MutableMapping
from typing import Any

import simpy

from simulator.agents.context import SimContext
from simulator.agents.relay import Hop
from simulator.agents.transfer import transfer
from simulator.agents.verdicts import LMTP, Outcome, Verdict
from simulator.net.connection import ConnectError
from simulator.protocols.lmtp import LMTP_PORT, LmtpClient
from simulator.protocols.smtp import Envelope, Reply, SmtpClientConfig


def deliver_over_lmtp(
    ctx: SimContext, hostname: str, hop: Hop, mda_host: str,
    sessions: MutableMapping[str, str] | None = None,
) -> Generator[simpy.events.Event, Any, dict[str, Outcome]]:
    """Hand `hop` to the LMTP server on `mda_host` (a SimPy sub-process).

    `sessions`, if given, learns the session id that carries each recipient.
    """
    host = ctx.network.topology.hosts.get(mda_host)
    where = {"host": mda_host, "address": host.address if host else mda_host}
    endpoint = yield from ctx.network.connect(hostname, mda_host, LMTP_PORT)
    if isinstance(endpoint, ConnectError):
        failed = Outcome.of_verdict(Verdict.CONNECT_FAILED, port=str(LMTP_PORT),
                                    reason=endpoint.reason, **where)
        return dict.fromkeys(hop.recipients, failed)
    endpoint.message = hop.message_id
    if sessions is not None:
        sessions.update(dict.fromkeys(hop.recipients, endpoint.connection.session))
    envelope = Envelope(mail_from=hop.sender, rcpt_to=hop.recipients)
    answers = yield from transfer(endpoint, SmtpClientConfig(helo_name=hostname), envelope,
                                  hop.content, LmtpClient)
    return {
        rcpt: Outcome.of_reply(answer, mda_host, LMTP) if isinstance(answer, Reply)
        else Outcome.of_interruption(answer, **where)
        for rcpt, answer in answers.items()
    }
