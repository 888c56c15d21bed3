"""What an SMTP server is told by its administrator, and the error for its misuse."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.protocols.common import MESSAGE_SIZE_LIMIT
from simulator.protocols.tls import TlsVersion


@dataclass(frozen=True)
class SmtpServerConfig:
    """What a server offers; defaults are Postfix's (mail_params.h)."""

    hostname: str
    software: str = "Postfix"
    offer_auth: bool = False
    auth_required: bool = False  # RFC 6409 §4.3: 530 before AUTH
    max_message_size: int = MESSAGE_SIZE_LIMIT  # Postfix message_size_limit (0 = none)
    max_recipients: int = 1000  # Postfix smtpd_recipient_limit
    smtpd_helo_required: bool = False  # Postfix default: MAIL before HELO/EHLO is fine
    strict_rfc821_envelopes: bool = False  # Postfix default: "MAIL FROM:a@b" without <>
    smtpd_soft_error_limit: int = 10  # Postfix: from here on, each reply is delayed
    smtpd_hard_error_limit: int = 20  # Postfix: 421 and hang up
    smtpd_error_sleep_time: float = 1.0  # Postfix: seconds per delayed reply
    # RFC 4616 §2: (authcid, authzid) pairs allowed to act as someone else
    sasl_act_as: frozenset[tuple[str, str]] = frozenset()
    starttls: bool = False  # RFC 3207: offer STARTTLS (Postfix smtpd_tls_security_level = may)
    tls_version: TlsVersion = TlsVersion.TLS1_3  # what the handshake settles on
    tls_auth_only: bool = False  # Postfix smtpd_tls_auth_only: no AUTH before TLS


class SmtpUsageError(RuntimeError):
    """The agent called the server out of order (a bug, not bad input)."""
