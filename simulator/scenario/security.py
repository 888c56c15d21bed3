"""The scenario models of encryption and of who listens: TLS settings and eavesdroppers.

A server host's `tls:` block says what its MTA and MDA offer (STARTTLS and
STLS, the implicit-TLS ports 465 and 995, the TLS version, whether a
password may cross in clear); each user's `submission_security` and
`mailbox_security` say how their mail client connects, as the "connection
security" menu of Thunderbird does.  An `eavesdropper` listens on one
link or one host: `mailsim run --eavesdropper NAME` shows what it sees.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from simulator.scenario.names import DnsName

MAX_EAVESDROPPERS = 20


class SecurityModel(BaseModel):
    """Unknown keys rejected, instances frozen (as every scenario model)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class TlsVersionName(StrEnum):
    """The TLS versions a server can be set to."""

    TLS1_2 = "1.2"  # RFC 5246: a two-round-trip handshake
    TLS1_3 = "1.3"  # RFC 8446: a one-round-trip handshake


class Security(StrEnum):
    """How a mail client connects to its server."""

    NONE = "none"  # in clear: submission on 587, POP3 on 110
    STARTTLS = "starttls"  # 587 or 110, then STARTTLS/STLS, or give up (RFC 3207, RFC 2595)
    TLS = "tls"  # TLS from the first byte: 465 or 995 (RFC 8314)


class HostTls(SecurityModel):
    """What the mail servers on a host offer (Postfix smtpd_tls_*, Dovecot ssl)."""

    version: TlsVersionName = Field(
        TlsVersionName.TLS1_3, description='TLS version of every handshake: "1.3" or "1.2".'
    )
    starttls: bool = Field(
        True, description="Offer STARTTLS on ports 25, 587 and 143 and STLS on port 110."
    )
    implicit: bool = Field(
        True,
        description="Also listen on the TLS ports: 465 (submission), 993 (IMAPS), 995 (POP3S).",
    )
    require_for_auth: bool = Field(
        False,
        description="No password in clear: AUTH on 587 gets 530 before STARTTLS (Postfix "
        "smtpd_tls_auth_only), USER/PASS before STLS and IMAP LOGIN "
        "before STARTTLS are refused (Dovecot disable_plaintext_auth).",
    )


class Eavesdropper(SecurityModel):
    """Someone who reads every byte on one link, or passing through one host."""

    name: DnsName = Field(description='A name for the eavesdropper, e.g. "cafe-wifi".')
    link: list[DnsName] | None = Field(
        None, min_length=2, max_length=2,
        description="The two hosts of the tapped link, e.g. [alice-pc, cafe-ap].",
    )
    host: DnsName | None = Field(None, description="A tapped host: every route through it.")

    @model_validator(mode="after")
    def _one_place(self) -> Self:
        """A tap is on a link or on a host, not both, not neither."""
        if (self.link is None) == (self.host is None):
            raise PydanticCustomError(
                "tap_place", "give either 'link' (two hosts) or 'host', exactly one of them"
            )
        return self
