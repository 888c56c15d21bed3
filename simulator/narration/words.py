"""The words of the narration about protocol lines, in tables.

Every sentence a student reads comes from here or, for records that are
not protocol lines (TCP, DNS, queues, fates), from `record_words`.
Templates are `str.format` strings; their fields are filled by the
narrators (`{client}`, `{server}`, `{arg}`, ...).  Tables are keyed by what
a real program decides on: a command verb, a reply code or its class, an
RFC 3463 enhanced status code, a header field name -- never by reply text.
"""

from __future__ import annotations

from collections.abc import Mapping

# -- SMTP (RFC 5321) ------------------------------------------------------------

#: A client's SMTP command, by verb.
SMTP_COMMANDS: Mapping[str, str] = {
    "LHLO": "{client} greets the MDA with LHLO, LMTP's EHLO: it hands mail to a mailbox "
    "server that keeps no queue of its own (RFC 2033 §4.1)",
    "EHLO": "{client} says hello with its own name, {arg}, and asks {server} to list the "
    "ESMTP extensions it supports (RFC 5321 §4.1.1.1)",
    "HELO": "{client} says hello the old way, with HELO: the server will offer no "
    "extensions (RFC 5321 §4.1.1.1)",
    "MAIL": "MAIL FROM starts a transaction with the envelope sender, {arg}: bounces go "
    "there. It is not the From: header the reader sees, and may differ from it "
    "(RFC 5321 §3.3)",
    "RCPT": "RCPT TO names one envelope recipient, {arg}. MTAs deliver to these, not to "
    "the To: and Cc: headers (a Bcc recipient appears only here) (RFC 5321 §3.3)",
    "DATA": "{client} asks to send the message itself: header fields, an empty line, "
    "then the body (RFC 5321 §4.1.1.4)",
    "RSET": "RSET drops the transaction begun with MAIL FROM: sender and recipients are "
    "forgotten, and the connection stays open for another one (RFC 5321 §4.1.1.5)",
    "QUIT": "{client} has nothing more to send and says goodbye (RFC 5321 §4.1.1.10)",
    "NOOP": "NOOP does nothing; it checks that the server still answers (RFC 5321 §4.1.1.9)",
    "VRFY": "VRFY asks whether a user exists; most servers will not tell, to keep "
    "address harvesters out (RFC 5321 §7.3)",
    "EXPN": "EXPN asks for the members of a mailing list; most servers refuse "
    "(RFC 5321 §7.3)",
    "STARTTLS": "STARTTLS asks to encrypt the connection from here on; the session then "
    "starts over with a new EHLO (RFC 3207)",
    "BDAT": "BDAT sends a chunk of the message with its size given in advance, instead "
    "of DATA and a final dot (RFC 3030)",
}

#: AUTH (RFC 4954), by mechanism.
AUTH_MECHANISMS: Mapping[str, str] = {
    "PLAIN": "{client} logs in with AUTH PLAIN. The user name and password travel "
    "base64-encoded, not encrypted: anyone on the path can read them (RFC 4616)"
    "{credentials}. Only TLS would hide them",
    "LOGIN": "{client} logs in with AUTH LOGIN: the server asks for the user name and "
    "the password, each base64-encoded, not encrypted",
}
#: AUTH PLAIN and PASS inside TLS: the same secret, but encrypted on the wire.
PLAIN_IN_TLS = (
    "{client} logs in with AUTH PLAIN inside TLS: the base64 user name and password "
    "(RFC 4616) are encrypted on the wire, so only the server reads them{credentials}"
)
PASS_IN_TLS = "PASS sends the password{password}, inside TLS: only the server reads it"
AUTH_OTHER = "{client} logs in with the SASL mechanism {arg} (RFC 4954)"
AUTH_CREDENTIALS = "; decoded, this one says user {user}, password {password}"
AUTH_RESPONSE = "{client} answers the server's challenge, base64-encoded (RFC 4954 §4)"
AUTH_CANCEL = "{client} cancels the login with '*' (RFC 4954 §4)"

MAIL_NULL_SENDER = (
    "MAIL FROM:<> is the null sender: this is a bounce or another automatic notice. "
    "Nothing is ever sent back for it, so bounces cannot loop (RFC 5321 §4.5.5)"
)
MAIL_SIZE = ". SIZE={size} announces the message's size in octets, so a server can refuse "\
    "one too big before it travels (RFC 1870)"

#: The server's reply to a command, by (command, reply class).  "greeting" is
#: the reply before any command; "." the reply to the end of the message.
SMTP_AFTER: Mapping[tuple[str, int], str] = {
    ("greeting", 2): "{server} greets {client} with 220: it is ready. The greeting names "
    "the server and often its software (RFC 5321 §3.1)",
    ("greeting", 5): "{server} refuses this client at once with {code}; it answers every "
    "command with 503 until QUIT (RFC 5321 §3.1)",
    ("EHLO", 2): "{server} answers with its own name; each 250- line after it names one "
    "extension it supports, and a line with a space after the code is the last "
    "(RFC 5321 §4.2.1)",
    ("HELO", 2): "{server} answers with its own name; HELO offers no extensions",
    ("AUTH", 2): "{code}: the password is right and {client} is logged in (RFC 4954 §6). "
    "{server} will now relay its mail to any domain, as Postfix's "
    "permit_sasl_authenticated allows",
    ("AUTH", 3): "334: {server} waits for the credentials, base64-encoded (RFC 4954 §4)",
    ("MAIL", 2): "{code}: the envelope sender is accepted; now the recipients",
    ("RCPT", 2): "{code}: {server} will take mail for {arg}",
    ("DATA", 3): "354: go ahead. {client} now sends the header fields, an empty line, the "
    "body, and a line holding a single dot to end it (RFC 5321 §4.1.1.4)",
    ("RSET", 2): "{code}: transaction dropped; the connection stays open",
    ("NOOP", 2): "{code}: still here",
    ("QUIT", 2): "221: {server} says goodbye and closes the connection (RFC 5321 §4.1.1.10)",
    ("VRFY", 2): "{code}: the server will not say whether the user exists, but would take "
    "mail for it (RFC 5321 §3.5.3)",
}

#: The final dot accepted: the responsibility for the message changes hands.
QUEUED = (
    "{code} after the final dot: {server} has stored the message{as_id}. From now on "
    "{server} owns it and must not lose it (RFC 5321 §6.1); {client} {forgets}"
)
QUEUED_AS = " in its queue as {queue_id}, its own name for it (each MTA makes up its own)"
FORGETS_CLIENT = "can take it out of the Outbox"
FORGETS_MTA = "can delete its copy"

#: What a reply code means, for codes worth a sentence of their own (RFC 5321 §4.2.2,
#: §4.2.3; 530 and 535: RFC 4954 §6).
REPLY_CODES: Mapping[int, str] = {
    421: "the service is closing the connection",
    450: "the mailbox is unavailable for now (busy, or a temporary policy such as "
    "greylisting)",
    451: "a local error on the server",
    452: "insufficient storage, or too many recipients in one transaction",
    500: "the command was not recognised, or the line was too long",
    501: "a syntax error in the command's arguments",
    502: "the command is not implemented",
    503: "a bad sequence of commands",
    504: "the command's parameter is not implemented",
    530: "authentication is required before sending mail",
    535: "the user name or password is wrong",
    550: "the mailbox is unavailable (no such user, or refused by policy)",
    551: "the user is not local here",
    552: "the storage allocation is exceeded (a full mailbox or a message too big)",
    553: "the mailbox name is not allowed",
    554: "the transaction failed, or was refused by policy",
    555: "a MAIL FROM or RCPT TO parameter is not recognised",
}

#: Reply classes by first digit (RFC 5321 §4.2.1).
REPLY_CLASSES: Mapping[int, str] = {
    2: "{code}: done (2yz, positive completion)",
    3: "{code}: go on (3yz, the server waits for more)",
    4: "{code} is temporary (4yz) — {meaning}{detail}",
    5: "{code} is permanent (5yz) — {meaning}{detail}",
}
#: What a client learns from a 4yz or 5yz reply when nothing more specific applies.
CLASS_TAILS: Mapping[int, str] = {
    4: "The same request may work later",
    5: "Repeating the same request will not help",
}
REFUSES = "{server} refuses {arg}. "
STATUS_DETAIL = " ({words}, RFC 3463)"

#: What happens to the message after a 4yz or 5yz answer to RCPT or to the final dot.
CONSEQUENCES: Mapping[tuple[str, int], str] = {
    ("relay", 4): "So {client} keeps the message in its queue and tries again later "
    "(RFC 5321 §4.5.4.1)",
    ("relay", 5): "So {client} will not retry; it writes a bounce to the sender, {sender}",
    ("bounce", 4): "So {client} keeps this bounce in its queue and tries again later",
    ("bounce", 5): "This message is itself a bounce (sender <>), so {client} discards it: "
    "a bounce is never bounced (RFC 5321 §4.5.5)",
    ("submission", 4): "The mail client keeps the message in its Outbox and tries again "
    "later",
    ("submission", 5): "The mail client tells its user at once that sending failed; no "
    "bounce is needed, since the user is still there to hear it",
}

#: RFC 3463 §3: the class digit of an enhanced status code.
STATUS_CLASSES: Mapping[str, str] = {
    "2": "success",
    "4": "persistent transient failure",
    "5": "permanent failure",
}

#: RFC 3463 §3 (and RFC 4954 for X.7.8): subject.detail of an enhanced status code.
STATUS_DETAILS: Mapping[str, str] = {
    "0.0": "other or undefined status",
    "1.0": "other address status",
    "1.1": "bad destination mailbox address",
    "1.2": "bad destination system address",
    "1.3": "bad destination mailbox address syntax",
    "1.5": "destination address valid",
    "1.6": "destination mailbox has moved",
    "1.7": "bad sender's mailbox address syntax",
    "2.0": "other or undefined mailbox status",
    "2.1": "mailbox disabled",
    "2.2": "mailbox full",
    "2.3": "message longer than the administrative limit",
    "3.0": "other or undefined mail system status",
    "3.1": "mail system full",
    "3.2": "system not accepting network messages",
    "3.4": "message too big for the system",
    "4.0": "other or undefined network or routing status",
    "4.1": "no answer from host",
    "4.2": "bad connection",
    "4.3": "directory server failure",
    "4.4": "unable to route",
    "4.5": "mail system congestion",
    "4.6": "routing loop detected",
    "4.7": "delivery time expired",
    "5.0": "other or undefined protocol status",
    "5.1": "invalid command",
    "5.2": "syntax error",
    "5.3": "too many recipients",
    "5.4": "invalid command arguments",
    "7.0": "other or undefined security status",
    "7.1": "delivery not authorized, message refused",
    "7.8": "authentication credentials invalid",
}
STATUS_WORDS = "{status}: {detail}"

#: EHLO keywords (RFC 5321 §4.1.1.1 and the extensions' own RFCs).
EXTENSIONS: Mapping[str, str] = {
    "SIZE": "SIZE {arg}: the largest message it takes, in octets (RFC 1870; Postfix "
    "message_size_limit)",
    "AUTH": "AUTH {arg}: the login methods it offers (RFC 4954); here a user logs in "
    "before sending",
    "ENHANCEDSTATUSCODES": "ENHANCEDSTATUSCODES: replies carry a code such as 5.1.1 that "
    "a program can read (RFC 2034, RFC 3463)",
    "8BITMIME": "8BITMIME: it takes message bodies with 8-bit characters (RFC 6152)",
    "PIPELINING": "PIPELINING: the client may send several commands without waiting for "
    "each reply (RFC 2920)",
    "STARTTLS": "STARTTLS: the client may switch the connection to TLS (RFC 3207)",
    "DSN": "DSN: the client may ask for delivery status notifications (RFC 3461)",
    "SMTPUTF8": "SMTPUTF8: addresses may hold non-ASCII characters (RFC 6531)",
    "CHUNKING": "CHUNKING: the client may send the message with BDAT (RFC 3030)",
    "ETRN": "ETRN: a client may ask it to flush its queue for a domain (RFC 1985)",
    "VRFY": "VRFY: it answers VRFY (RFC 5321 §3.5)",
}

# -- Message content (RFC 5322, RFC 5321 §4.4, RFC 3464) --------------------------

#: Header fields worth a word, by lower-case name.
HEADERS: Mapping[str, str] = {
    "return-path": "Return-Path: the envelope sender (MAIL FROM), written at final "
    "delivery: where problems with this message are reported (RFC 5321 §4.4)",
    "delivered-to": "Delivered-To: added by the delivery agent: the mailbox the message "
    "was filed in",
    "from": "From: the author, as the reader's mail client shows it. SMTP never checks "
    "it against the envelope (RFC 5322 §3.6.2){compare}",
    "to": "To: the recipients the author addressed, for the reader to see; delivery "
    "follows the envelope (RCPT TO) instead (RFC 5322 §3.6.3)",
    "message-id": "Message-ID: the message's world-wide unique name, set once by the "
    "author's side and kept at every hop (RFC 5322 §3.6.4), unlike queue ids",
    "auto-submitted": "Auto-Submitted: a program wrote this message, so other programs "
    "such as vacation responders must not answer it (RFC 3834)",
}
RETURN_PATH_NULL = (
    "Return-Path: <> — the envelope sender was empty: this message is a bounce, and "
    "nothing may ever be sent back for it (RFC 5321 §4.5.5)"
)
FROM_SAME = "; here it is the envelope sender too"
FROM_DIFFERS = "; here it differs from the envelope sender, {sender}"
RECEIVED_NEWEST_SMTP = (
    "Received: {client} put this trace header on top when it took the message in. Every "
    "MTA prepends one and never changes the older ones, so read bottom-up they give the "
    "route (RFC 5321 §4.4)"
)
RECEIVED_NEWEST_MAILBOX = (
    "Received: one trace header per MTA the message crossed, newest on top; read them "
    "bottom-up to follow its route (RFC 5321 §4.4)"
)
RECEIVED_OLDER = "Received: an older trace header, added at an earlier hop and left unchanged"
END_OF_HEADER = "The empty line ends the header section; the body follows (RFC 5322 §2.1)"
DOT_STUFFED = (
    "This body line begins with a dot, so the sender doubled it (dot-stuffing): a line "
    "holding just a dot would end the message. The receiver removes the extra dot "
    "({rfc})"
)
FINAL_DOT = (
    "A line holding a single dot ends the message (<CRLF>.<CRLF>, RFC 5321 §4.1.1.4); "
    "{client} now waits for the verdict"
)
REPORT = (
    "multipart/report with report-type delivery-status: this message is a delivery status "
    "notification (RFC 6522, RFC 3464): a part for people, a part for programs, then the "
    "original message's header"
)

#: Content types of the parts of a report (RFC 6522, RFC 3464).
REPORT_PARTS: Mapping[str, str] = {
    "message/delivery-status": "The part for programs: first fields about the message, "
    "then a block for each recipient (RFC 3464 §2)",
    "text/rfc822-headers": "The original message's header comes back, so the sender can "
    "tell which message failed (RFC 6522)",
}

#: Fields of a delivery status notification (RFC 3464 §2.2, §2.3).
DSN_FIELDS: Mapping[str, str] = {
    "reporting-mta": "Reporting-MTA: the MTA that wrote this report (RFC 3464 §2.2.2)",
    "final-recipient": "Final-Recipient: the recipient this block is about (RFC 3464 "
    "§2.3.2)",
    "status": "Status: {value} is the reason, for programs to read: {meaning} (RFC 3463, "
    "RFC 3464 §2.3.4)",
    "remote-mta": "Remote-MTA: the server that gave the answer (RFC 3464 §2.3.5)",
    "diagnostic-code": "Diagnostic-Code: that server's reply, word for word "
    "(RFC 3464 §2.3.6)",
    "will-retry-until": "Will-Retry-Until: the MTA is still trying, and gives up at this "
    "time (RFC 3464 §2.3.9)",
}

#: Action field values (RFC 3464 §2.3.3).
DSN_ACTIONS: Mapping[str, str] = {
    "failed": "failed: delivery failed for good, the message will not arrive",
    "delayed": "delayed: not delivered yet, but the MTA is still trying",
    "delivered": "delivered: it reached the recipient's mailbox",
    "relayed": "relayed: handed on to a system that sends no reports",
    "expanded": "expanded: delivered to a list or alias, which sends it on",
}
DSN_ACTION = "Action: {words} (RFC 3464 §2.3.3)"

# -- POP3 (RFC 1939, RFC 2449) -----------------------------------------------------

#: A client's POP3 command, by verb.
POP3_COMMANDS: Mapping[str, str] = {
    "USER": "{client} logs in to the mailbox server: USER names the mailbox, {arg} "
    "(RFC 1939 §7)",
    "PASS": "PASS sends the password as it is{password}: without TLS anyone on the path "
    "can read it (RFC 1939 §7)",
    "APOP": "APOP logs in without sending the password: only an MD5 digest of the "
    "greeting's timestamp and the password (RFC 1939 §7)",
    "AUTH": "{client} logs in with a SASL mechanism (RFC 5034)",
    "CAPA": "CAPA asks which optional POP3 features the server has (RFC 2449 §5)",
    "STLS": "STLS asks to encrypt the connection before logging in; the TLS handshake "
    "follows the server's +OK (RFC 2595 §4)",
    "STAT": "STAT asks how many messages the mailbox holds and their total size "
    "(RFC 1939 §5)",
    "LIST": "LIST asks for the number and size of each message (RFC 1939 §5)",
    "UIDL": "UIDL asks for each message's unique id, which stays the same across "
    "sessions: that is how a client leaving mail on the server knows what it has "
    "already seen (RFC 1939 §7)",
    "RETR": "RETR {arg} downloads message {arg} in full (RFC 1939 §5)",
    "TOP": "TOP downloads only the header and the first lines of a message (RFC 1939 §7)",
    "DELE": "DELE {arg} marks message {arg} for deletion. Nothing is deleted yet: that "
    "happens only after QUIT, in the UPDATE state (RFC 1939 §6)",
    "RSET": "RSET unmarks every message marked with DELE in this session (RFC 1939 §5)",
    "NOOP": "NOOP does nothing; it keeps the session alive (RFC 1939 §5)",
    "QUIT": "{client} says goodbye with QUIT{update}",
}
PASSWORD_SEEN = " (here: {password})"
QUIT_UPDATE = (
    ". The session now enters the UPDATE state: only now does the server remove the "
    "messages marked with DELE (RFC 1939 §6)"
)

#: The server's +OK to a command, by command ("greeting" before any).
POP3_OK: Mapping[str, str] = {
    "greeting": "{server} greets {client}. POP3 answers are +OK (yes) or -ERR (no), with "
    "no numeric codes; the session is in the AUTHORIZATION state (RFC 1939 §4)",
    "USER": "+OK: now the password",
    "PASS": "+OK: logged in. The session is in the TRANSACTION state and the mailbox is "
    "locked for it: no other session may open it meanwhile (RFC 1939 §4)",
    "RETR": "+OK: the message follows, line by line, ending with a line holding a single "
    "dot (RFC 1939 §3)",
    "DELE": "+OK: message {arg} is marked for deletion, but still on the server until "
    "QUIT",
    "RSET": "+OK: no message is marked for deletion any more",
}
STAT_ANSWER = "+OK {count} {size}: the mailbox holds {messages}, {size} octets in all "\
    "(RFC 1939 §5)"
QUIT_DELETED = (
    "+OK: UPDATE state. The server removes the {messages} marked with DELE and "
    "unlocks the mailbox; had the connection dropped before QUIT, nothing would have "
    "been deleted (RFC 1939 §6)"
)
QUIT_KEPT = (
    "+OK: UPDATE state, but nothing was marked with DELE, so every message stays on the "
    "server (RFC 1939 §6)"
)
QUIT_UNAUTHORIZED = "+OK: goodbye; no one logged in, so nothing changes (RFC 1939 §6)"
POP3_ERR = "-ERR: {server} says no{why}"
POP3_ERR_PASS = "; the login failed and the session stays in the AUTHORIZATION state"

#: Response codes in brackets after -ERR (RFC 2449 §8, RFC 3206).
POP3_RESPONSE_CODES: Mapping[str, str] = {
    "IN-USE": "another session has the mailbox open, and POP3 lets one session at a time "
    "use it; the client tries later (RFC 2449 §8)",
    "LOGIN-DELAY": "the user logged in too recently and must wait (RFC 2449 §8)",
    "SYS/TEMP": "a temporary problem on the server; trying later may work (RFC 3206)",
    "SYS/PERM": "a lasting problem on the server; retrying will not help (RFC 3206)",
    "AUTH": "the user name or password is wrong (RFC 3206)",
}

# -- LMTP: the hand-off to the mailbox server (RFC 2033) ---------------------------

#: After the final dot an LMTP server answers once for each accepted recipient.
LMTP_SAVED = (
    "{server} has saved the message in the mailbox of {rcpt}: LMTP answers the final dot "
    "once per accepted recipient, in RCPT order (RFC 2033 §4.2), and for {rcpt} the MTA "
    "is done"
)
LMTP_QUOTA: Mapping[int, str] = {
    5: "{code}: the mailbox of {rcpt} is over its quota, and Dovecot says so with a "
    "permanent 5yz by default, so {client} bounces the message to {sender} now. Yet RFC "
    "3463 calls a full mailbox (X.2.2) a transient condition -- the user may make room -- "
    "which is why Dovecot's quota_full_tempfail answers 452 4.2.2 instead",
    4: "{code}: the mailbox of {rcpt} is over its quota; with quota_full_tempfail Dovecot "
    "answers with a temporary 4yz, as RFC 3463 sees a full mailbox (X.2.2), so {client} "
    "keeps the message and tries again -- until the user makes room or the queue lifetime "
    "runs out and it bounces",
}
LMTP_REFUSED = "{code_sentence}. For {rcpt} alone: LMTP settles each recipient on its own"
