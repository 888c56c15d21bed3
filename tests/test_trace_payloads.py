"""Typed trace payloads: one class per kind, held to it on emit, the same JSON as documented."""

from __future__ import annotations

import dataclasses
import io
import re
from functools import cache
from pathlib import Path

import pytest

from simulator import catalog
from simulator.simulation import Simulation
from simulator.trace import PAYLOADS, Kind, Trace, TraceRecord, read_jsonl
from simulator.trace_data import (
    ElidedLines,
    MailBounced,
    MailComposed,
    MailDelivered,
    Note,
    Payload,
    ProtocolLine,
    SimEnd,
    TcpConnect,
)

README = Path(__file__).parent.parent / "README.md"


@cache
def bundled_run(name: str) -> tuple[TraceRecord, ...]:
    simulation = Simulation.load(name)
    simulation.run()
    return simulation.trace.records


def test_every_kind_has_a_payload_class_of_its_own() -> None:
    assert set(PAYLOADS) == set(Kind)
    assert len(set(PAYLOADS.values())) == len(Kind)
    for cls in PAYLOADS.values():
        assert issubclass(cls, Payload) and dataclasses.is_dataclass(cls)
        assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        assert all(f.kw_only for f in dataclasses.fields(cls))
        assert "__slots__" in vars(cls)


def test_emit_holds_each_kind_to_its_payload() -> None:
    trace = Trace(clock=lambda: 0.0)
    with pytest.raises(TypeError, match=r"tcp\.connect record carries TcpConnect, not Note"):
        trace.emit(Kind.TCP_CONNECT, "pc", "", Note())
    with pytest.raises(TypeError, match="ProtocolLine, not ElidedLines"):
        trace.emit(Kind.LINE, "pc", "", ElidedLines(role="client", port=25, elided=3))
    record = trace.emit(Kind.TCP_CONNECT, "pc", "", TcpConnect(port=25, rtt=0.004), peer="mx")
    assert record.payload_as(TcpConnect).rtt == 0.004
    with pytest.raises(TypeError, match="not MailDelivered"):
        record.payload_as(MailDelivered)


@pytest.mark.parametrize("name", [p.stem for p in catalog.bundled()])
def test_every_record_of_a_bundled_run_carries_its_kinds_payload(name: str) -> None:
    records = bundled_run(name)
    assert {r.kind for r in records} >= {Kind.SIM_START, Kind.LINE, Kind.MAIL_DELIVERED}
    assert all(type(r.payload) is PAYLOADS[r.kind] for r in records)


@pytest.mark.parametrize("name", [p.stem for p in catalog.bundled()])
def test_records_read_back_from_jsonl_are_equal(name: str) -> None:
    records = bundled_run(name)
    text = "".join(r.to_json() + "\n" for r in records)
    again = tuple(read_jsonl(io.StringIO(text)))
    assert [r.payload for r in again] == [r.payload for r in records]
    assert "".join(r.to_json() + "\n" for r in again) == text


def test_json_keys_follow_the_fields_and_leave_out_optional_defaults() -> None:
    composed = MailComposed(sender="a@x", recipients=("b@y",), subject="Hi", origin="user")
    assert composed.to_data() == {"from": "a@x", "to": ["b@y"], "subject": "Hi",
                                  "origin": "user"}
    assert SimEnd().to_data() == {}
    assert SimEnd(interrupted=True).to_data() == {"interrupted": True}
    refused = MailBounced(recipient="b@y", status="5.7.1", reply="554 5.7.1 no", bounce_id=None)
    assert list(refused.to_data()) == ["recipient", "status", "reply", "bounce_id", "expired"]
    assert MailBounced.from_data(refused.to_data()) == refused


def test_reading_data_that_is_not_the_payload_raises() -> None:
    with pytest.raises(ValueError, match="lacks 'port'"):
        ProtocolLine.from_data({"role": "client"})
    with pytest.raises(ValueError, match="unknown keys"):
        ProtocolLine.from_data({"role": "client", "port": 25, "colour": "red"})


def readme_kind_rows() -> dict[str, str]:
    """The README's table of kinds: each kind named in a row, to that row's `data` cell."""
    text = README.read_text(encoding="utf-8")
    table = text.split("| kind | `data` |", 1)[1].split("\n\n", 1)[0]
    rows: dict[str, str] = {}
    for line in table.splitlines()[2:]:
        kinds, data = line.strip("|").split("|", 1)
        for kind in re.findall(r"`([^`]+)`", kinds):
            rows[kind] = data
    return rows


def test_the_readme_names_every_kind_and_every_key_of_its_data() -> None:
    rows = readme_kind_rows()
    assert set(rows) == {kind.value for kind in Kind}
    missing = {
        kind.value: [key for key in cls.json_keys() if f"`{key}`" not in rows[kind.value]]
        for kind, cls in PAYLOADS.items()
    }
    assert not any(missing.values()), missing


def test_an_emitted_record_is_the_frozen_record_its_fields_make() -> None:
    trace = Trace(lambda: 1.5)
    emitted = trace.emit(Kind.NOTE, "mx", "hello", Note(), peer="pc", protocol="smtp",
                         session="s1", message="<m@x>")
    built = TraceRecord(0, 1.5, Kind.NOTE, "mx", "hello", "pc", "smtp", "s1", "<m@x>",
                        payload=Note())
    assert emitted == built and hash(emitted) == hash(built) and repr(emitted) == repr(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        emitted.text = "changed"  # type: ignore[misc]
