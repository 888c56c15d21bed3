"""Scenario files: the pydantic models of a small Internet, and the loader that reads them.

Theory of operation.  A scenario is YAML (or a Python dict, or models built
in Python — all three roads give the same frozen `Scenario`).  Reading goes
in stages, each turning its failures into `Problem`s at a field path:

1. `loader` reads at most `limits.MAX_FILE_BYTES`, decodes UTF-8 and
   parses YAML with `safe_yaml`, which builds plain data only and refuses
   repeated keys, deep nesting, alias bombs, huge numbers and odd tags;
2. `models` validates each field: `units` parses ``"250ms"`` and
   ``"100Mbit"``, `names` checks DNS names, IP and e-mail addresses,
   `limits` bounds every count, text and duration;
3. `Scenario`'s model validator runs `checks`: every host, role, user and
   MX target a field names must exist;
4. `messages` rewrites pydantic's errors in plain words, with paths as the
   file spells them (``hosts.mail.example.org.links[0].latency``).

Any failure raises one `ScenarioError` listing the problems found, one
line each with invisible characters escaped; it never shows a traceback.
`scenario_json_schema` exports the JSON Schema editors use to autocomplete
scenario files.  The builder turns a `Scenario` into a
runnable world.

The names below are imported from their modules on first use: a command
that only parses a duration (`units`) or catches a `ScenarioError`
(`errors`) does not build the pydantic models.
"""

from typing import TYPE_CHECKING

from simulator.lazy import lazy_names

if TYPE_CHECKING:
    from simulator.scenario.errors import Problem, ScenarioError
    from simulator.scenario.loader import load_scenario, scenario_json_schema, validate_scenario
    from simulator.scenario.models import (
        ARecord,
        DnsRecord,
        Domain,
        Host,
        Link,
        LinkEntry,
        MxRecord,
        Role,
        Scenario,
        Submission,
        TxtRecord,
        User,
        UserEntry,
    )
    from simulator.scenario.units import (
        Bandwidth,
        Duration,
        format_bandwidth,
        format_duration,
        parse_bandwidth,
        parse_duration,
    )

#: The module of each name this package offers.
_HOMES = {
    "Problem": "errors",
    "ScenarioError": "errors",
    "load_scenario": "loader",
    "scenario_json_schema": "loader",
    "validate_scenario": "loader",
    "ARecord": "models",
    "DnsRecord": "models",
    "Domain": "models",
    "Host": "models",
    "Link": "models",
    "LinkEntry": "models",
    "MxRecord": "models",
    "Role": "models",
    "Scenario": "models",
    "Submission": "models",
    "TxtRecord": "models",
    "User": "models",
    "UserEntry": "models",
    "Bandwidth": "units",
    "Duration": "units",
    "format_bandwidth": "units",
    "format_duration": "units",
    "parse_bandwidth": "units",
    "parse_duration": "units",
}

__all__ = [
    "ARecord",
    "Bandwidth",
    "DnsRecord",
    "Domain",
    "Duration",
    "Host",
    "Link",
    "LinkEntry",
    "MxRecord",
    "Problem",
    "Role",
    "Scenario",
    "ScenarioError",
    "Submission",
    "TxtRecord",
    "User",
    "UserEntry",
    "format_bandwidth",
    "format_duration",
    "load_scenario",
    "parse_bandwidth",
    "parse_duration",
    "scenario_json_schema",
    "validate_scenario",
]


__getattr__ = lazy_names(__name__, _HOMES)
