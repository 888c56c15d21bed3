"""The pydantic models of a scenario file, from `Scenario` down to one `Link`.

Every model forbids unknown keys and is frozen.  Field-level syntax (units,
names, addresses, text) is checked by the `Annotated` types of `units`,
`names` and `limits`, which also bound every count, length and duration;
references between parts (a link to a host, a domain's MTA, a sender's
mail client) are checked once the whole scenario is read, by
`Scenario`'s model validator using `checks`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal, NamedTuple, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from simulator.protocols.addresses import domain_of, is_postmaster
from simulator.scenario.checks import cross_reference_problems
from simulator.scenario.clients import MAX_DEVICES, ClientDevice, Device, Habits, client_devices
from simulator.scenario.errors import CrossReferenceError
from simulator.scenario.limits import (
    LONG_TEXT,
    MAX_DNS_NAMES,
    MAX_DOMAINS,
    MAX_HOSTS,
    MAX_LINKS_PER_HOST,
    MAX_MESSAGES,
    MAX_RECIPIENTS,
    MAX_RECORDS_PER_NAME,
    MAX_SEED,
    MAX_USERS_PER_DOMAIN,
    ONE_LINE,
    Body,
    Description,
    HeaderText,
    Password,
    Title,
    TxtText,
)
from simulator.scenario.names import (
    DnsName,
    EmailAddress,
    IpAddress,
    Ipv4Address,
    LocalPart,
    NameKey,
    canonical_dns_name,
)
from simulator.scenario.security import MAX_EAVESDROPPERS, Eavesdropper, HostTls
from simulator.scenario.units import Bandwidth, Duration, PositiveDuration, Size

DEFAULT_BANDWIDTH = 100e6  # bit/s: Fast Ethernet, IEEE 802.3u
DEFAULT_DURATION = 3600.0  # seconds


class Role(StrEnum):
    """What a host does in the mail system (RFC 5598 §2)."""

    MTA = "mta"  # Mail Transfer Agent: relays mail over SMTP
    MDA = "mda"  # Mail Delivery Agent: keeps mailboxes, takes LMTP, serves POP3
    MUA = "mua"  # Mail User Agent: the user's mail client (or browser)
    WEBMAIL = "webmail"  # a provider's web server running webmail: a MUA on HTTPS


class ScenarioModel(BaseModel):
    """Base of all scenario models: unknown keys rejected, instances frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class Link(ScenarioModel):
    """An undirected link from the host that declares it to host `to`."""

    to: DnsName = Field(description="The host at the other end of the link.")
    latency: Duration = Field(description='One-way propagation delay, e.g. "5ms".')
    bandwidth: Bandwidth = Field(
        DEFAULT_BANDWIDTH, description='Link speed, e.g. "100Mbit" (the default) or "56kbit".'
    )


class Host(ScenarioModel):
    """A machine on the simulated Internet: an address, its roles and its links."""

    address: IpAddress = Field(description='IPv4 or IPv6 address, e.g. "192.0.2.10".')
    roles: list[Role] = Field(
        default_factory=list,
        description="Which of mta, mda, mua run here; empty for a plain router.",
    )
    links: list[Link] = Field(
        default_factory=list,
        max_length=MAX_LINKS_PER_HOST,
        description="Links to other hosts; declare each link at one end only.",
    )
    tls: HostTls | None = Field(
        None, description="TLS on this host's mail servers; absent: no TLS at all."
    )

    @field_validator("roles")
    @classmethod
    def _roles_once(cls, roles: list[Role]) -> list[Role]:
        """Reject a role listed twice."""
        seen: set[Role] = set()
        for role in roles:
            if role in seen:
                raise PydanticCustomError(
                    "duplicate_role", "role {role} is listed twice", {"role": role.value}
                )
            seen.add(role)
        return roles

    def has_role(self, role: Role | str) -> bool:
        """Whether this host runs the agent `role` (``"mta"``, ``"mda"`` or ``"mua"``)."""
        return Role(role) in self.roles


class MxRecord(ScenarioModel):
    """Mail exchanger: which host accepts mail for the owner name (RFC 1035 §3.3.9)."""

    type: Literal["MX"] = "MX"
    preference: int = Field(
        ge=0, le=65535, description="Lower is tried first (16-bit, RFC 1035 §3.3.9)."
    )
    exchange: DnsName = Field(description="Host name of the mail exchanger.")


class ARecord(ScenarioModel):
    """IPv4 address of the owner name (RFC 1035 §3.4.1)."""

    type: Literal["A"] = "A"
    address: Ipv4Address = Field(description='IPv4 address, e.g. "198.51.100.80".')


class TxtRecord(ScenarioModel):
    """Free text such as an SPF policy (RFC 1035 §3.3.14, RFC 7208)."""

    type: Literal["TXT"] = "TXT"
    text: TxtText = Field(description='The text, e.g. "v=spf1 mx -all".')


DnsRecord = Annotated[MxRecord | ARecord | TxtRecord, Field(discriminator="type")]
"""One DNS resource record; the `type` key picks the kind.  Add a kind here."""


class User(Habits):
    """A mailbox owner: their password, and the device(s) their mail client runs on.

    The habits (`profile`, `check_every`, ...) apply to every device; a
    device's own entry overrides them again (`clients.client_devices`).
    """

    password: Password = Field(description="POP3/IMAP/SMTP password.")
    mua: DnsName | None = Field(
        None, description="Host with role mua where this user's mail client runs."
    )
    devices: list[Device] = Field(
        default_factory=list, max_length=MAX_DEVICES,
        description="Several devices instead of one 'mua', e.g. [{host: bob-laptop, profile: "
        "thunderbird}, {host: bob-phone, profile: thunderbird, idle: false}].",
    )
    quota: Size | None = Field(
        None, description='Mailbox quota, e.g. "2MB"; default: the domain\'s quota, if any.'
    )

    @property
    def has_client(self) -> bool:
        """Whether the user reads and sends mail from some device."""
        return self.mua is not None or bool(self.devices)

    def clients(self) -> list[ClientDevice]:
        """What runs on each of the user's devices, every override applied."""
        return client_devices(self)


class Domain(ScenarioModel):
    """A mail domain: the hosts that serve it and its users."""

    mta: DnsName = Field(
        description="Host with role mta: accepts the domain's mail, submission server."
    )
    mda: DnsName = Field(
        description="Host with role mda: keeps the mailboxes, takes mail over LMTP from the "
        "MTA (on the same host or another), serves POP3."
    )
    webmail: DnsName | None = Field(
        None, description="Host with role webmail: the provider's web server where the "
        "webmail profiles (roundcube, gmail...) of the domain's users run.",
    )
    quota: Size | None = Field(
        None, description='Every user\'s mailbox quota, e.g. "2MB" (Dovecot quota plugin); '
        "none by default."
    )
    quota_full_tempfail: bool = Field(
        False, description="Over quota is a temporary failure (452 4.2.2, the MTA retries) "
        "instead of a permanent one (552 5.2.2, a bounce now), as Dovecot's setting of this name.",
    )
    users: dict[LocalPart, User] = Field(
        default_factory=dict,
        max_length=MAX_USERS_PER_DOMAIN,
        description="Users by local part (the name before the @).",
    )
    postmaster: LocalPart | None = Field(
        None,
        description="The user who reads mail to postmaster@ this domain (RFC 5321 §4.5.1); "
        "default: the first user.",
    )

    def quota_of(self, local: str) -> int | None:
        """The quota of user `local`: their own, else the domain's."""
        user = self.users.get(local)
        own = user.quota if user is not None else None
        return own if own is not None else self.quota

    def postmaster_user(self) -> str | None:
        """The local part of the user who gets the domain's postmaster mail."""
        if any(is_postmaster(local) for local in self.users):
            return None  # a real postmaster mailbox needs no alias
        return self.postmaster or next(iter(self.users), None)


class Submission(ScenarioModel):
    """A message a user's mail client sends at a given time."""

    at: Duration = Field(description='When to send, from the start, e.g. "5s".')
    sender: EmailAddress = Field(
        alias="from", description="A user of a domain in 'domains' who has a 'mua'."
    )
    to: list[EmailAddress] = Field(
        min_length=1, max_length=MAX_RECIPIENTS, description="Recipients (unknown ones bounce)."
    )
    subject: HeaderText = Field("", description="The Subject: header.")
    body: Body = Field("", description="The message text.")

    @field_validator("to", mode="before")
    @classmethod
    def _single_recipient(cls, value: Any) -> Any:
        """Accept ``to: bob@example.net`` as a list of one."""
        return [value] if isinstance(value, str) else value


class UserEntry(NamedTuple):
    """One user as listed by `Scenario.users`."""

    address: str
    domain: str
    user: User


class LinkEntry(NamedTuple):
    """One undirected link as listed by `Scenario.links`: declared at `a`, going to `b`."""

    a: str
    b: str
    link: Link


MAX_LESSON_TITLE = 100  # characters: one line in `mailsim list`
MAX_LESSON_TEXT = 2000  # characters: a paragraph or two
MAX_LESSON_ITEMS = 20  # entries in each list of a lesson
MAX_LESSON_ITEM = 500  # characters of one entry
MAX_PATTERN = 100  # characters of one highlight pattern

LessonTitle = Annotated[str, Field(min_length=1, max_length=MAX_LESSON_TITLE), ONE_LINE]
LessonText = Annotated[str, Field(max_length=MAX_LESSON_TEXT), LONG_TEXT, Field(min_length=1)]
LessonItem = Annotated[str, Field(max_length=MAX_LESSON_ITEM), LONG_TEXT, Field(min_length=1)]
Pattern = Annotated[str, Field(min_length=1, max_length=MAX_PATTERN), ONE_LINE]


class Lesson(ScenarioModel):
    """What a scenario teaches: shown by `mailsim show` and before a run."""

    title: LessonTitle = Field(
        description="The lesson in one line, as `mailsim list` shows it."
    )
    shows: LessonText = Field(
        description="What the scenario shows, step by step, in a few sentences."
    )
    look_for: list[LessonItem] = Field(
        default_factory=list, max_length=MAX_LESSON_ITEMS,
        description="What to look for in the transcript and the summary, one point each.",
    )
    questions: list[LessonItem] = Field(
        default_factory=list, max_length=MAX_LESSON_ITEMS,
        description="Questions for students to answer from the run (or by changing the file).",
    )
    highlight: list[Pattern] = Field(
        default_factory=list, max_length=MAX_LESSON_ITEMS,
        description='Transcript lines to highlight: plain text matched without regard to case, '
        'e.g. "550 5.1.1" or "Received:".',
    )

    @field_validator("highlight")
    @classmethod
    def _patterns_not_blank(cls, patterns: list[str]) -> list[str]:
        """A pattern of only spaces would mark nearly every line."""
        for number, pattern in enumerate(patterns, start=1):
            if not pattern.strip():
                raise PydanticCustomError(
                    "blank_pattern", "pattern {number} must contain more than spaces",
                    {"number": number},
                )
        return patterns


class Scenario(ScenarioModel):
    """A small Internet to simulate: hosts, links, DNS, mail domains and traffic."""

    name: Title = Field(description="Short title of the scenario.")
    description: Description = Field("", description="What the scenario shows, in free text.")
    seed: int = Field(
        1, ge=0, le=MAX_SEED, description="Seed of all randomness: same seed, same run."
    )
    duration: PositiveDuration = Field(
        DEFAULT_DURATION, description='How long to simulate, e.g. "10m" (default 1h).'
    )
    hosts: dict[NameKey, Host] = Field(
        max_length=MAX_HOSTS, description="Hosts by name (a DNS name or a label)."
    )
    dns: dict[NameKey, Annotated[list[DnsRecord], Field(max_length=MAX_RECORDS_PER_NAME)]] = Field(
        default_factory=dict,
        max_length=MAX_DNS_NAMES,
        description="DNS records by owner name; every host's A record is implicit.",
    )
    domains: dict[NameKey, Domain] = Field(
        default_factory=dict, max_length=MAX_DOMAINS, description="Mail domains by name."
    )
    traffic: list[Submission] = Field(
        default_factory=list, max_length=MAX_MESSAGES, description="Messages the users send."
    )
    lesson: Lesson | None = Field(
        None, description="What the scenario teaches: `mailsim show` prints it."
    )
    eavesdroppers: list[Eavesdropper] = Field(
        default_factory=list, max_length=MAX_EAVESDROPPERS,
        description="Who listens on a link or a host: `mailsim run --eavesdropper NAME`.",
    )

    @field_validator("hosts", "domains")
    @classmethod
    def _canonical_names(cls, mapping: dict[str, Any]) -> dict[str, Any]:
        """Lower-case the names; two spellings of one name are a mistake."""
        canonical: dict[str, Any] = {}
        spelling: dict[str, str] = {}
        for key, value in mapping.items():
            name = canonical_dns_name(key)
            if name in canonical:
                raise PydanticCustomError(
                    "duplicate_name",
                    "{first} and {second} are the same name (case and a final dot do not count)",
                    {"first": repr(spelling[name]), "second": repr(key)},
                )
            canonical[name], spelling[name] = value, key
        return canonical

    @field_validator("dns")
    @classmethod
    def _merge_owners(cls, zones: dict[str, list[Any]]) -> dict[str, list[Any]]:
        """Lower-case owner names; records of two spellings of one name are merged."""
        merged: dict[str, list[Any]] = {}
        for owner, records in zones.items():
            merged.setdefault(canonical_dns_name(owner), []).extend(records)
        return merged

    @model_validator(mode="after")
    def _check_references(self) -> Self:
        """Check that every name used refers to something declared."""
        problems = cross_reference_problems(self)
        if problems:
            raise CrossReferenceError(problems)
        return self

    def users(self) -> list[UserEntry]:
        """Every user as (address, domain name, User), in file order."""
        return [
            UserEntry(f"{local}@{domain_name}", domain_name, user)
            for domain_name, domain in self.domains.items()
            for local, user in domain.users.items()
        ]

    def domain_of(self, address: str) -> Domain | None:
        """The mail domain of ``local@domain`` (or of a bare domain name), if declared."""
        return self.domains.get(domain_of(address).removesuffix("."))

    def user(self, address: str) -> User | None:
        """The user with this e-mail address, or None if there is no such user."""
        domain = self.domain_of(address)
        local = address.rpartition("@")[0]
        return domain.users.get(local) if domain is not None else None

    def links(self) -> list[LinkEntry]:
        """Every link once, as (declaring host, other host, Link), in file order."""
        return [
            LinkEntry(name, link.to, link)
            for name, host in self.hosts.items()
            for link in host.links
        ]

    def hosts_with_role(self, role: Role | str) -> list[str]:
        """Names of the hosts that run `role`, in file order."""
        return [name for name, host in self.hosts.items() if host.has_role(role)]
