"""STARTTLS on the SMTP server (RFC 3207): when it may start, and what EHLO offers."""

from __future__ import annotations

from simulator.protocols.smtp.replies import SmtpReply
from simulator.protocols.smtp.server_config import SmtpServerConfig
from simulator.protocols.tls import TlsVersion


def starttls_refusal(argument: str, tls: TlsVersion | None, offered: bool) -> SmtpReply | None:
    """Why STARTTLS cannot start now, in the order Postfix's starttls_cmd() checks."""
    if argument:
        return SmtpReply.STARTTLS_SYNTAX
    if tls is not None:
        return SmtpReply.TLS_ALREADY_ACTIVE
    if not offered:
        return SmtpReply.NOT_IMPLEMENTED
    return None


def ehlo_offers(config: SmtpServerConfig, tls: TlsVersion | None) -> tuple[bool, bool]:
    """Whether EHLO lists AUTH and STARTTLS: no AUTH in clear with smtpd_tls_auth_only
    (Postfix smtpd.c), no STARTTLS inside TLS (RFC 3207 §4.2)."""
    clear = tls is None
    return config.offer_auth and not (clear and config.tls_auth_only), config.starttls and clear
