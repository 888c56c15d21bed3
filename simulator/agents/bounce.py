"""Delivery status notifications: the bounce an MTA returns to a sender.

A bounce is a `multipart/report; report-type=delivery-status` message
(RFC 3464 / RFC 6522) with three parts: a note for humans, the
machine-readable `message/delivery-status` part (one block for the message,
one per failed recipient) and the original message's headers.  It is sent
with the null reverse-path `<>` so that it can never bounce again
(RFC 5321 §4.5.5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage, Message
from email.utils import format_datetime

from simulator.agents.verdicts import SMTP
from simulator.protocols.message import WIRE_POLICY, header_block

#: Postfix's subject line for a non-delivery notice (bounce_template.c).
BOUNCE_SUBJECT = "Undelivered Mail Returned to Sender"


@dataclass(frozen=True, slots=True)
class FailedRecipient:
    """One recipient the MTA gave up on, and why."""

    recipient: str
    status: str  # RFC 3463 enhanced status code, e.g. "5.1.1"
    diagnostic: str  # the remote reply, e.g. "550 5.1.1 <x@y>: ... User unknown"
    remote_mta: str | None = None
    diagnostic_type: str = SMTP  # RFC 3464 §2.3.6: SMTP, LMTP, or a private "X-" type


@dataclass(frozen=True, slots=True)
class BounceContext:
    """Who is reporting, about which message, and when."""

    reporting_mta: str
    original_sender: str
    original: bytes
    arrival: datetime
    now: datetime
    message_id: str


def build_dsn(context: BounceContext, failures: Sequence[FailedRecipient]) -> bytes:
    """The whole bounce message as CRLF bytes, ready to queue."""
    report = EmailMessage(policy=WIRE_POLICY)
    report["From"] = f"MAILER-DAEMON@{context.reporting_mta} (Mail Delivery System)"
    report["To"] = context.original_sender
    report["Subject"] = BOUNCE_SUBJECT
    report["Date"] = format_datetime(context.now)
    report["Message-ID"] = context.message_id
    report["Auto-Submitted"] = "auto-replied"  # RFC 3834 §5
    report.set_content(_human_part(context, failures), cte="7bit")
    report.make_mixed()
    report.set_type("multipart/report")
    report.set_param("report-type", "delivery-status")
    # A boundary derived from the Message-ID keeps runs byte-for-byte repeatable.
    local_part = context.message_id.strip("<>").partition("@")[0]
    report.set_boundary("=_report_" + "".join(c for c in local_part if c.isalnum()))
    report.attach(_status_part(context, failures))
    report.attach(_headers_part(context.original))
    return report.as_bytes()


def _human_part(context: BounceContext, failures: Sequence[FailedRecipient]) -> str:
    lines = [
        f"Mail delivery report from {context.reporting_mta}.",
        "",
        "Your message could not be delivered to the recipients below.",
        "The reason for each is given; the headers of your message follow.",
        "",
    ]
    for failure in failures:
        lines.append(f"<{failure.recipient}>: {failure.diagnostic}")
    return "\n".join(lines) + "\n"


def _status_part(context: BounceContext, failures: Sequence[FailedRecipient]) -> EmailMessage:
    per_message = Message(policy=WIRE_POLICY)
    per_message["Reporting-MTA"] = f"dns; {context.reporting_mta}"
    per_message["Arrival-Date"] = format_datetime(context.arrival)
    blocks: list[Message | str] = [per_message]
    blocks += [_recipient_block(context, failure) for failure in failures]
    part = EmailMessage(policy=WIRE_POLICY)
    part["Content-Type"] = "message/delivery-status"
    part["Content-Description"] = "Delivery report"
    part.set_payload(blocks)
    return part


def _recipient_block(context: BounceContext, failure: FailedRecipient) -> Message:
    block = Message(policy=WIRE_POLICY)
    block["Final-Recipient"] = f"rfc822; {failure.recipient}"
    block["Action"] = "failed"
    block["Status"] = failure.status
    if failure.remote_mta:
        block["Remote-MTA"] = f"dns; {failure.remote_mta}"
    block["Diagnostic-Code"] = f"{failure.diagnostic_type}; {failure.diagnostic}"
    block["Last-Attempt-Date"] = format_datetime(context.now)
    return block


def _headers_part(original: bytes) -> EmailMessage:
    part = EmailMessage(policy=WIRE_POLICY)
    text = header_block(original).decode("utf-8", "replace")
    part.set_content(text, subtype="plain", cte="7bit" if text.isascii() else "8bit")
    part.set_type("text/rfc822-headers")
    del part["MIME-Version"]
    part["Content-Description"] = "Undelivered Message Headers"
    return part
