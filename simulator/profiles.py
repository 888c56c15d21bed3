"""Mail client profiles: the kinds of MUA people use, with their real habits, as data.

A profile says how a client reads mail (IMAP or POP3), whether it waits in
IMAP IDLE for the server's push (RFC 2177) or polls on a timer, whether a
POP3 client leaves the mail on the server, whether a sent message is
saved to the server's Sent folder with APPEND (RFC 9051 §6.3.12), and how
it connects: `ConnectionSecurity` for submission (587 plain or STARTTLS,
465 TLS; RFC 6409, RFC 8314) and for the mailbox (143/110 plain or
STARTTLS, 993/995 TLS).  A *desktop* profile runs on the user's device; a
*webmail* profile runs on the provider's web server, and the user's
browser talks HTTPS to it.

A scenario names a profile for a user or a device (``profile:
thunderbird``) and may override any of its habits; `settle` applies the
overrides.  Without a profile a user gets `DEFAULT_PROFILE`, the plain
POP3 client every scenario had before profiles existed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from simulator.protocols.imap import IMAP_PORT, IMAPS_PORT
from simulator.protocols.imap.client_states import Mechanism
from simulator.protocols.pop3 import POP3_PORT, POP3S_PORT
from simulator.protocols.smtp import SMTPS_PORT, SUBMISSION_PORT
from simulator.protocols.tls import ConnectionSecurity

TLS, STARTTLS, PLAIN = ConnectionSecurity.TLS, ConnectionSecurity.STARTTLS, ConnectionSecurity.NONE
MINUTE = 60.0
#: Modelling assumption: a desktop IMAP client downloads new mail with BODY.PEEK[]
#: (Thunderbird's offline sync, Outlook, phone apps), so it stays unread until the
#: user opens it -- here a minute after it arrived on the device.
READS_AFTER = MINUTE
#: RFC 2177 §3 (RFC 9051 §6.3.13): a client re-issues IDLE at least every 29 minutes.
REIDLE_EVERY = 29 * MINUTE
#: The name of the plain POP3 client of `DEFAULT_PROFILE` in headers and transcripts:
#: no real product, so that no product is blamed for its habits.
DEFAULT_CLIENT = "POP3 client"


class Access(StrEnum):
    """How a client reads the mailbox."""

    IMAP = "imap"  # RFC 9051: the mail stays on the server, folders and flags shared
    POP3 = "pop3"  # RFC 1939: download (and usually delete)


class Place(StrEnum):
    """Where the MUA runs."""

    DESKTOP = "desktop"  # on the user's device
    WEBMAIL = "webmail"  # on the provider's web server; the device runs a browser


@dataclass(frozen=True)
class Profile:
    """One kind of mail client and its habits."""

    name: str
    client: str  # what its User-Agent: header and the transcript call it
    place: Place
    access: Access
    check_every: float  # seconds between checks (a webmail page's refresh)
    idle: bool  # IMAP IDLE: the server pushes new mail (RFC 2177)
    keep_on_server: bool  # POP3 "leave a copy on the server"
    save_sent: bool  # APPEND a sent message to Sent (IMAP only)
    submission_security: ConnectionSecurity
    mailbox_security: ConnectionSecurity
    source: str  # where these habits come from
    #: Seconds from download until the user opens a message: an IMAP client then
    #: sets \Seen (UID STORE +FLAGS); None for POP3 (no flags) and webmail (opened in the page).
    reads_after: float | None = None
    imap_login: Mechanism = Mechanism.LOGIN  # LOGIN (RFC 9051 §6.2.3) or AUTHENTICATE PLAIN
    enable_rev2: bool = True  # ENABLE IMAP4rev2 (RFC 9051 §6.3.1) when the server offers it

    @property
    def submission_port(self) -> int:
        """The port the client submits on (`submission_port`)."""
        return submission_port(self.submission_security)

    @property
    def mailbox_port(self) -> int:
        """The port the client reads its mailbox on (`mailbox_port`)."""
        return mailbox_port(self.access, self.mailbox_security)


def submission_port(security: ConnectionSecurity) -> int:
    """587 (RFC 6409), or 465 with TLS from the first byte (RFC 8314 §3.3)."""
    return SMTPS_PORT if security is TLS else SUBMISSION_PORT


def mailbox_port(access: Access, security: ConnectionSecurity) -> int:
    """143/110 in clear or with STARTTLS/STLS; 993/995 with TLS first (RFC 8314 §3.2)."""
    implicit = security is TLS
    if access is Access.IMAP:
        return IMAPS_PORT if implicit else IMAP_PORT
    return POP3S_PORT if implicit else POP3_PORT


def _desktop(name: str, client: str, access: Access, **habits: Any) -> Profile:
    return Profile(name=name, client=client, place=Place.DESKTOP, access=access, **habits)


def _webmail(name: str, client: str, check_every: float, source: str) -> Profile:
    """A webmail: IMAP and submission to the provider's own servers, in clear on its network.

    Roundcube's and SquirrelMail's sample configurations talk to
    ``localhost:143`` and ``localhost:587``: the provider's network is
    trusted, and only the browser's HTTPS leaves it.
    """
    return Profile(name=name, client=client, place=Place.WEBMAIL, access=Access.IMAP,
                   check_every=check_every, idle=False, keep_on_server=True, save_sent=True,
                   submission_security=PLAIN, mailbox_security=PLAIN, source=source)


PROFILES: dict[str, Profile] = {p.name: p for p in (
    _desktop("pop3", DEFAULT_CLIENT, Access.POP3, check_every=5 * MINUTE, idle=False,
             keep_on_server=False, save_sent=False, submission_security=PLAIN,
             mailbox_security=PLAIN,
             source="a plain POP3 client: download and delete, in clear (RFC 1939); "
             "the simulator's original client"),
    _desktop("thunderbird", "Thunderbird", Access.IMAP, check_every=10 * MINUTE, idle=True,
             keep_on_server=True, save_sent=True, submission_security=STARTTLS,
             mailbox_security=TLS,
             reads_after=READS_AFTER, imap_login=Mechanism.PLAIN, enable_rev2=False,
             source='Thunderbird account settings: "Check for new messages every 10 '
             'minutes", "Allow immediate server notifications when new messages arrive" '
             "(IDLE); sent copies go to Sent; autoconfig prefers IMAPS 993. "
             '"Normal password" uses SASL PLAIN when the server offers AUTH=PLAIN '
             "(wiki.mozilla.org/Thunderbird:Supported_authentication_methods; "
             "thunderbird/thunderbird-android PR #453); its IMAP is IMAP4rev1 "
             "(RFC 3501): it sends no ENABLE IMAP4rev2"),
    _desktop("thunderbird-pop3", "Thunderbird", Access.POP3, check_every=10 * MINUTE,
             idle=False, keep_on_server=True, save_sent=False, submission_security=STARTTLS,
             mailbox_security=TLS,
             source='Thunderbird POP account: "Leave messages on server" on by default, '
             "POP3S 995"),
    _desktop("outlook", "Microsoft Outlook", Access.IMAP, check_every=30 * MINUTE, idle=False,
             keep_on_server=True, save_sent=True, submission_security=STARTTLS,
             mailbox_security=TLS,
             reads_after=READS_AFTER,
             source='Outlook (classic) Send/Receive group "All Accounts": every 30 '
             "minutes; Sent Items on the IMAP server. Outlook may IDLE on the Inbox of an "
             "IMAP account, but its push is unreliable: modelled as polling only (an "
             "assumption)"),
    _desktop("outlook-pop3", "Microsoft Outlook", Access.POP3, check_every=30 * MINUTE,
             idle=False, keep_on_server=True, save_sent=False, submission_security=STARTTLS,
             mailbox_security=TLS,
             source='Outlook 2010 and later: POP3 "Leave a copy of messages on the server" '
             "(remove after 14 days); Outlook 2003 deleted after download"),
    _desktop("mailspring", "Mailspring", Access.IMAP, check_every=10 * MINUTE, idle=True,
             keep_on_server=True, save_sent=True, submission_security=TLS,
             mailbox_security=TLS,
             reads_after=READS_AFTER,
             source="Mailspring's sync engine: IDLE on INBOX, IMAPS 993 and SMTPS 465; "
             "the poll interval is a modelling assumption"),
    _webmail("roundcube", "Roundcube Webmail", MINUTE,
             "Roundcube config/defaults.inc.php refresh_interval = 60 (seconds); a new IMAP "
             "connection for every HTTP request"),
    _webmail("squirrelmail", "SquirrelMail", 10 * MINUTE,
             "SquirrelMail: an IMAP connection for every page; the folder list's "
             "auto-refresh is a user option, off by default (10 minutes assumed). Its "
             "sample config/config.php submits to localhost $smtpPort = 25; here it "
             "submits on 587 like the other webmails (an assumption)"),
    _webmail("sogo", "SOGo", 5 * MINUTE,
             "SOGo: SOGoMailMessageCheck defaults to \"manually\" (SOGoSystemDefaults); "
             "a user picks a refresh (every 5 minutes assumed); IMAP to the provider's "
             "Dovecot"),
    _webmail("gmail", "Gmail", MINUTE,
             "a model: Gmail's web front end is not an IMAP client inside; here it stands "
             "for any webmail that asks its mail store once a minute"),
)}
DEFAULT_PROFILE = "pop3"


def settle(profile: Profile, overrides: dict[str, Any]) -> Profile:
    """`profile` with some of its habits changed (the fields a scenario set)."""
    return replace(profile, **overrides) if overrides else profile
