"""The scenario models of mail clients: a user's habits, profile and devices.

A user reads mail on one host (`mua:`) or on several (`devices:`), each
running a client of a named `profile` (`simulator.profiles`): a desktop
client, or a browser showing the provider's webmail.  Every habit of the
profile -- `check_every`, `keep_on_server`, `idle`, `save_sent`, the
connection security -- may be overridden for the user and again for one
device; only the fields written in the file override (pydantic's
`model_fields_set`), so a user without a profile gets exactly the plain
POP3 client of `DEFAULT_PROFILE`.  `client_devices` settles what each
device runs; `client_problems` checks the references for `checks`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from simulator.profiles import (
    DEFAULT_CLIENT,
    DEFAULT_PROFILE,
    PROFILES,
    TLS,
    Access,
    Place,
    Profile,
    settle,
)
from simulator.protocols.tls import ConnectionSecurity
from simulator.scenario.limits import ClientName
from simulator.scenario.names import DnsName
from simulator.scenario.security import Security
from simulator.scenario.units import PositiveDuration

if TYPE_CHECKING:
    from simulator.scenario.errors import Location
    from simulator.scenario.models import Domain, Scenario, User

MAX_DEVICES = 10  # per user
DEFAULT_CHECK_EVERY = PROFILES[DEFAULT_PROFILE].check_every
#: The fields that override a profile's habit of the same name.
HABITS = ("client", "check_every", "keep_on_server", "idle", "save_sent", "reads_after",
          "submission_security", "mailbox_security")


def _known_profile(name: str) -> str:
    if name not in PROFILES:
        raise PydanticCustomError("profile", "unknown profile {got} (known: {known})",
                                  {"got": repr(name), "known": ", ".join(PROFILES)})
    return name


ProfileName = Annotated[
    str, AfterValidator(_known_profile),
    WithJsonSchema({"type": "string", "enum": list(PROFILES)}),
]


class Habits(BaseModel):
    """A mail client's settings that a scenario may write: each overrides the profile's."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    profile: ProfileName | None = Field(
        None, description="Which kind of client (see the README's table): thunderbird, "
        f"outlook, roundcube...; default {DEFAULT_PROFILE!r}, a plain POP3 client.",
    )
    client: ClientName = Field(
        DEFAULT_CLIENT, description="Display name of the mail client; default: the profile's."
    )
    check_every: PositiveDuration = Field(
        DEFAULT_CHECK_EVERY, description='How often the client checks for mail, e.g. "2m" '
        "(a webmail page: how often it refreshes); default: the profile's.",
    )
    keep_on_server: bool = Field(
        False, description='POP3 "leave messages on server": do not delete after download.'
    )
    idle: bool = Field(
        False, description="IMAP IDLE: wait for the server to push new mail (RFC 2177); "
        "default: the profile's.",
    )
    save_sent: bool = Field(
        False, description="IMAP: APPEND each sent message to Sent; default: the profile's."
    )
    reads_after: PositiveDuration = Field(
        60.0, description='IMAP: how long after a download the user opens the message and the '
        'client marks it read, e.g. "1m"; default: the profile\'s.',
    )
    submission_security: Security = Field(
        Security.NONE, description="How the client submits: none (587), starttls (587), "
        "tls (465); default: the profile's.",
    )
    mailbox_security: Security = Field(
        Security.NONE, description="How the client reads its mailbox: none (110/143), "
        "starttls (110/143), tls (995/993); default: the profile's.",
    )

    def changed(self) -> set[str]:
        """The habits written in the file with a value other than the field's default."""
        return {name for name in HABITS if name in self.model_fields_set
                and getattr(self, name) != type(self).model_fields[name].default}

    def overrides(self) -> dict[str, Any]:
        """The habits written in the file, as `Profile` fields."""
        written = {name: getattr(self, name) for name in HABITS if name in self.model_fields_set}
        for name in ("submission_security", "mailbox_security"):
            if name in written:
                written[name] = ConnectionSecurity(written[name].value)
        return written


class Device(Habits):
    """One of a user's devices and the mail client (or browser) on it."""

    host: DnsName = Field(description="Host with role mua: the laptop, phone or PC.")


class ClientDevice(NamedTuple):
    """What runs on one device of a user, all overrides applied."""

    host: str
    settings: Profile
    location: tuple[str | int, ...]  # the device's place in the user's entry


def client_devices(user: User) -> list[ClientDevice]:
    """The user's devices: the `mua` host, or each entry of `devices`."""
    base = PROFILES[user.profile or DEFAULT_PROFILE]
    if user.mua is not None:
        return [ClientDevice(user.mua, settle(base, user.overrides()), ("mua",))]
    found = []
    for index, device in enumerate(user.devices):
        profile = PROFILES[device.profile] if device.profile else base
        settings = settle(settle(profile, user.overrides()), device.overrides())
        found.append(ClientDevice(device.host, settings, ("devices", index)))
    return found


Finding = tuple["Location", str]


def client_problems(scenario: Scenario) -> Iterator[Finding]:
    """Devices on unknown hosts, webmail without a web server, habits a protocol lacks."""
    for domain_name, domain in scenario.domains.items():
        where: Location = ("domains", domain_name)
        if domain.webmail is not None:
            problem = _host_role(scenario, domain.webmail, "webmail")
            if problem:
                yield (*where, "webmail"), problem
        for local, user in domain.users.items():
            yield from _user_problems(scenario, domain, (*where, "users", local), user)


def _user_problems(
    scenario: Scenario, domain: Domain, where: Location, user: User
) -> Iterator[Finding]:
    if user.mua is not None and user.devices:
        yield (*where, "devices"), "give either 'mua' (one device) or 'devices', not both"
        return
    address = f"{where[-1]}@{where[1]}".lower()
    sends = any(message.sender.lower() == address for message in scenario.traffic)
    if sends and user.mua is None and "devices" in user.model_fields_set and not user.devices:
        yield (*where, "devices"), "the user sends mail: give at least one device, or a 'mua'"
        return
    hosts: set[str] = set()
    found: list[Finding] = []
    for device in client_devices(user):
        at = (*where, *device.location)
        listed = device.location != ("mua",)  # `checks` looks at the `mua` host
        problem = _host_role(scenario, device.host, "mua") if listed else None
        if device.host in hosts:
            problem = f"host '{device.host}' is listed twice; one client per device"
        hosts.add(device.host)
        if problem:
            found.append(((*at, "host"), problem))
        index = device.location[-1]
        entry = user.devices[index] if isinstance(index, int) else None
        written = user.changed() | (entry.changed() if entry else set())
        for field, text in _habit_problems(scenario, domain, device.settings, written):
            finding = (_written_at(where, user, at, entry, field), text)
            if finding not in found:  # a habit of the user's is told once, where it is written
                found.append(finding)
    yield from found


def _written_at(
    where: Location, user: User, at: Location, device: Device | None, field: str
) -> Location:
    """Where in the file `field` (or the profile that brought it) was written."""
    for entry, place in ((device, at), (user, where)):
        if entry is not None and field in entry.model_fields_set:
            return (*place, field)
    for entry, place in ((device, at), (user, where)):
        if entry is not None and "profile" in entry.model_fields_set:
            return (*place, "profile")
    return (*at, field)


def _habit_problems(
    scenario: Scenario, domain: Domain, settings: Profile, written: set[str]
) -> Iterator[tuple[str, str]]:
    """A device's habits that make no sense, settled or `written` in the file: (field, why)."""
    name = settings.name
    if settings.place is Place.WEBMAIL:
        if domain.webmail is None:
            yield "profile", (f"{name} is webmail: it runs on the provider's web server; "
                              "give the domain a 'webmail' host")
        for field in ("idle", "keep_on_server", "reads_after"):
            if field in written:
                yield field, (f"{name} is webmail: the page refreshes and the user opens mail "
                              f"in it; {field} means nothing there")
        return
    if settings.access is Access.POP3 and settings.idle:
        yield "idle", "POP3 has no IDLE (RFC 2177 is IMAP's): pick an IMAP profile"
    if settings.access is Access.POP3 and settings.save_sent:
        yield "save_sent", "POP3 has no Sent folder: only IMAP can APPEND a sent copy"
    if settings.access is Access.POP3 and "reads_after" in written:
        yield "reads_after", "POP3 has no \\Seen flag to set: reads_after is IMAP's"
    if settings.access is Access.IMAP and "keep_on_server" in written:
        yield "keep_on_server", "IMAP keeps the mail on the server: keep_on_server is POP3's"
    for field, server, port in (("mailbox_security", domain.mda, settings.mailbox_port),
                                ("submission_security", domain.mta, settings.submission_port)):
        host = scenario.hosts.get(server)
        # TLS from the first byte to a server without TLS meets a closed port; STARTTLS
        # refused is a lesson the run shows (the mail stays in the Outbox).
        if getattr(settings, field) is TLS and host is not None and host.tls is None:
            yield field, (f"{name} connects to {server} on {port} with TLS, but {server} has "
                          f"no 'tls' block: give it one, or set {field}: none or starttls")


def _host_role(scenario: Scenario, name: str, role: str) -> str | None:
    host = scenario.hosts.get(name)
    if host is None:
        return f"unknown host '{name}'"
    if not host.has_role(role):
        roles = ", ".join(host.roles) or "none"
        return f"host '{name}' does not have role {role} (its roles: {roles})"
    return None
