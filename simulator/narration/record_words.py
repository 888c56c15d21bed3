"""The words of the narration about records that are not protocol lines.

TCP connections, DNS questions and answers, queue entries, relays,
deferrals, bounces, deliveries and downloads: one template each, filled
from the record's `data` by `records` (the protocol lines' words are in
`words`).
"""

from __future__ import annotations

from collections.abc import Mapping

#: Ports a connection can go to, and what is served there.
PORTS: Mapping[int, str] = {
    25: "SMTP, where MTAs relay mail to each other (RFC 5321)",
    587: "mail submission, where users hand in their mail (RFC 6409)",
    465: "mail submission over implicit TLS (RFC 8314)",
    24: "LMTP, the MTA's hand-off to the mailbox server (RFC 2033)",
    110: "POP3, where a mail client downloads its mailbox (RFC 1939)",
    995: "POP3 over TLS (RFC 8314)",
    143: "IMAP (RFC 9051)",
    993: "IMAP over TLS (RFC 8314)",
}

SIM_START = (
    "The simulation starts. Times are simulated seconds since the start; seed {seed} "
    "makes every run of this scenario the same, byte for byte"
)
TCP_CONNECT = (
    "{client} opens a TCP connection to {server} port {port}{service}. The handshake "
    "(SYN, SYN-ACK, ACK) costs one round trip, {rtt}, before any mail can flow"
)
TCP_REFUSED = "{client} cannot reach {server} port {port} ({reason}). {then}"
TCP_REFUSED_THEN: Mapping[int, str] = {
    25: "No reply at all counts as a temporary failure (4.4.1): the MTA tries the next "
    "address or MX, then defers the mail (RFC 5321 §5.1)",
    587: "The mail client keeps the message in its Outbox",
    110: "The mail client will check again at its next interval",
}
TCP_REFUSED_OTHER = "The client will have to try again later"
TLS_HANDSHAKE = (
    "{client} and {server} agree on TLS: the server's hello chose {version} with {cipher}; "
    "the handshake takes {round_trips}. From here on the session is encrypted: anyone on the path "
    "sees only the sizes and times of TLS records, not the lines"
)
#: RFC 8446 (TLS 1.3): one round trip; RFC 5246 (TLS 1.2): two.
ROUND_TRIPS: Mapping[int, str] = {1: "one round trip", 2: "two round trips"}
TAP = (
    "{name} listens on {place}: it can read every byte that crosses it, and what is "
    "not encrypted it understands (mailsim run --eavesdropper {name} shows it)"
)

DNS_QUESTIONS: Mapping[str, str] = {
    "MX": "{host} asks DNS for the MX records of {qname}: which hosts take mail for that "
    "domain (RFC 5321 §5.1)",
    "A": "{host} asks DNS for the IPv4 address (A record) of {qname}{role}",
    "AAAA": "{host} asks DNS for the IPv6 address (AAAA record) of {qname}{role}",
    "TXT": "{host} asks DNS for the TXT records of {qname} (for example an SPF policy, "
    "RFC 7208)",
}
DNS_QUESTION_OTHER = "{host} asks DNS for the {qtype} records of {qname}"
DNS_EXCHANGER = ", the mail exchanger it picked"
MX_ONE = (
    "{qname} has one MX: the lowest (and only) preference, {preference}, is {exchange}, so "
    "that is where the mail goes"
)
MX_BEST = (
    "Lower preference wins: the lowest, {preference}, is {exchange}, so that is where the "
    "mail goes; {others} only if it cannot be reached (RFC 5321 §5.1)"
)
MX_TIE = (
    "{exchanges} share the lowest preference, {preference}: the MTA picks among them at "
    "random, spreading the load (RFC 5321 §5.1)"
)
MX_NONE = (
    "{qname} has no MX record: its own address is used instead, as an implicit MX with "
    "preference 0 (RFC 5321 §5.1)"
)
NXDOMAIN = (
    "{qname} does not exist (NXDOMAIN): no mail can reach it, a permanent failure that "
    "bounces (5.4.4, unable to route)"
)
ADDRESS_FOUND = "{qname} is at {addresses}{next}"
ADDRESS_NEXT = ": {host} can now open a TCP connection to port 25 there"
ADDRESS_NONE = "{qname} has no {qtype} record"
DNS_OTHER_RCODE = "DNS answers {rcode} for {qname}: the lookup failed"
DNS_TEMPORARY = (
    "DNS answers {rcode} for {qname}: a temporary failure, so the mail is deferred, not "
    "bounced (RFC 5321 §5.1)"
)

COMPOSED_USER = (
    "The user on {host} writes a message to {to}. The mail client (MUA) does not deliver "
    "it itself: it submits it to its provider's MTA"
)
COMPOSED_BOUNCE = (
    "{host} writes a bounce: a delivery status notification (RFC 3464) for {original}, "
    "to its envelope sender {to}. It is sent from the null sender <>, so it can never "
    "bounce back (RFC 5321 §4.5.5)"
)
QUEUE_ENTER = (
    "{host} writes the message into its queue as {queue_id}. The queue manager now "
    "delivers it: into a local mailbox, or over SMTP to the next MTA"
)
QUEUE_ENTER_BOUNCE = "The bounce enters {host}'s queue as {queue_id}, like any other message"
QUEUE_DONE = (
    "Every recipient of {queue_id} is dealt with (delivered, relayed or bounced), so it "
    "leaves {host}'s queue"
)
QUEUE_LEAVE_OTHER = "{queue_id} leaves {host}'s queue ({reason})"
RELAYED = (
    "{relay} took the message for {recipient} ({code}): the responsibility has passed to "
    "{relay}, and {host} is done with this recipient (RFC 5321 §6.1)"
)
DEFERRED = (
    "{what} is a temporary failure (4yz), attempt {attempt}. {host} keeps {queue_id} in "
    "its deferred queue and tries again later. Postfix waits as long as the message has "
    "been queued, at least {least} and at most {most} (minimal_backoff_time, "
    "maximal_backoff_time), here {delay}; then the next scan of the deferred queue (every "
    "{scan}, queue_run_delay) brings it back. After {lifetime} (maximal_queue_lifetime) it "
    "gives up and bounces the message"
)
BOUNCED = (
    "{what} is permanent (5yz), so {host} will not retry {recipient}; it writes a bounce "
    "(a delivery status notification, RFC 3464) to the sender, {sender}"
)
BOUNCED_EXPIRED = (
    "{host} has tried {recipient} for as long as its queue lifetime allows (Postfix "
    "maximal_queue_lifetime, 5 days by default) and gives up: a bounce goes to {sender} "
    "with the last error it met, {what}"
)
BOUNCE_DISCARDED = (
    "{what}: {recipient} cannot be reached, but the failed message is itself a bounce "
    "(sender <>), so it is discarded, never bounced (RFC 5321 §4.5.5)"
)
SUBMISSION_REFUSED = (
    "The submission server refused {recipient} outright ({what}), so the mail client "
    "tells its user at once; no bounce message is needed"
)
DELIVERED = (
    "{host}'s MDA, handed the message over LMTP, files it in {mailbox}'s mailbox. On top it adds "
    "Return-Path: <{sender}> (the envelope sender) and Delivered-To: {mailbox}. It "
    "carries {received}, one per MTA that handled it"
)
QUEUED_AT_END = (
    "When the run ends, {host} still holds {queue_id} for {recipient} ({reason}). It keeps "
    "trying until its queue lifetime runs out: a queued message is never silently lost"
)
OUTBOX_AT_END = (
    "When the run ends, the message to {recipient} is still in the mail client's Outbox "
    "({reason}): no server has taken it yet"
)
FETCHED = (
    "The mail client on {host} has downloaded \"{subject}\" for {user}: the message has "
    "reached its reader"
)
