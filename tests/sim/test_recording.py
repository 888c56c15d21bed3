"""The session layer records protocol lines: each line once, by whoever sends it."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy
from simworld import (
    BOB,
    NET_MTA,
    SMTP_PORT,
    build,
    mail,
    mailbox,
    records,
    run_world,
    two_providers,
)

from simulator.agents.recording import LineRecorder, LineSource, Wire
from simulator.net.connection import EOF_MARK, Endpoint
from simulator.protocols.common import split_lines, unstuff_line
from simulator.trace import Kind, Trace

SOURCE = LineSource("pc", "mx", "smtp", "s1", "client", 25)


class Tag:
    message: str | None = "<m1@example.org>"


def test_a_line_split_across_sends_is_recorded_once_complete() -> None:
    trace = Trace(lambda: 0.0)
    recorder = LineRecorder(trace, SOURCE, Tag())
    for chunk in (b"EH", b"LO pc\r", b"\nNOOP\r\nQU", b"IT"):
        recorder.feed(chunk)
    assert [r.text for r in trace] == ["EHLO pc", "NOOP"]
    recorder.flush()  # the sender closes: the unfinished line is recorded as it is
    recorder.flush()
    assert [r.text for r in trace] == ["EHLO pc", "NOOP", "QUIT"]
    first = trace.records[0]
    assert (first.host, first.peer, first.protocol, first.session) == ("pc", "mx", "smtp", "s1")
    assert first.message == "<m1@example.org>"
    assert dict(first.data) == {"role": "client", "port": 25}


def test_bare_lf_stays_inside_a_line_as_sent() -> None:
    trace = Trace(lambda: 0.0)
    LineRecorder(trace, SOURCE).feed(b"a\nb\r\n\r\n")
    assert [r.text for r in trace] == ["a\nb", ""]
    assert trace.records[0].message is None


def test_a_raw_client_on_a_wire_is_recorded_like_a_simulated_one() -> None:
    """What a real-socket bridge does: its client's lines go through a `Wire`."""
    world = build(two_providers())

    def stranger() -> Generator[simpy.events.Event, Any, None]:
        yield world.env.timeout(1.0)
        endpoint = yield from world.ctx.network.connect("stranger", NET_MTA, SMTP_PORT)
        assert isinstance(endpoint, Endpoint)
        endpoint.message = "<raw.1@example.org>"
        wire = Wire(endpoint)
        for chunk in (b"EHLO stranger\r\nMAIL FROM:<x@example.com>\r\nRC", b"PT TO:<nobody",
                      b"@example.net>\r\nQUIT\r\n"):
            wire.send(chunk)
        while (yield wire.recv()) != EOF_MARK:
            pass
        wire.close()

    world.env.process(stranger())
    run_world(world)
    said = records(world.trace, Kind.LINE, session="s1")
    client = [r.text for r in said if r.data["role"] == "client"]
    assert client == ["EHLO stranger", "MAIL FROM:<x@example.com>", "RCPT TO:<nobody@example.net>",
                      "QUIT"]
    server = [r.text for r in said if r.data["role"] == "server"]
    assert server[0].startswith("220 ") and server[-1] == "221 2.0.0 Bye"
    assert any(text.startswith("550 5.1.1") for text in server)
    assert {r.message for r in said} == {"<raw.1@example.org>"}  # both directions tagged


def test_every_content_line_is_recorded_exactly_once() -> None:
    """The lines recorded between 354 and "." are the message as it arrived, no more."""
    world = run_world(two_providers(traffic=[mail("1s", BOB)]))
    relay = [r for r in records(world.trace, Kind.LINE, protocol="smtp")
             if r.data["port"] == SMTP_PORT]
    texts = [r.text for r in relay if r.data["role"] == "client"]
    body = texts[texts.index("DATA") + 1 : texts.index(".")]
    (stored,) = mailbox(world, NET_MTA, BOB)
    stored_lines = split_lines(stored)
    added = stored_lines[: len(stored_lines) - len(body)]  # by the receiving MTA and MDA
    assert [line.split(b":")[0] for line in added if not line.startswith(b"\t")] == [
        b"Return-Path", b"Delivered-To", b"Received",
    ]  # fmt: skip
    assert [unstuff_line(line.encode()) for line in body] == stored_lines[len(added) :]


def test_replies_after_the_soft_error_limit_wait_a_second() -> None:
    """Postfix smtpd_soft_error_limit (10): from the 10th error on, each reply waits
    smtpd_error_sleep_time (1 s) before it goes out."""
    world = build(two_providers())

    def stranger() -> Generator[simpy.events.Event, Any, None]:
        yield world.env.timeout(1.0)
        endpoint = yield from world.ctx.network.connect("stranger", NET_MTA, SMTP_PORT)
        assert isinstance(endpoint, Endpoint)
        wire = Wire(endpoint)
        yield wire.recv()  # the greeting
        for command in [b"BOGUS"] * 12 + [b"QUIT"]:
            wire.send(command + b"\r\n")
            yield wire.recv()
        while (yield wire.recv()) != EOF_MARK:
            pass
        wire.close()

    world.env.process(stranger())
    run_world(world)
    said = records(world.trace, Kind.LINE, session="s1")
    commands = [r for r in said if r.data["role"] == "client"]
    replies = [r for r in said if r.data["role"] == "server"][1:]  # after the greeting
    assert [r.text[:3] for r in replies] == ["500"] * 12 + ["221"]
    waits = [round(reply.time - command.time, 3) for command, reply in zip(commands, replies,
                                                                           strict=True)]
    transit = waits[0]
    assert waits[:10] == [transit] * 10  # errors 1-10 are answered at once
    assert waits[10:] == [round(transit + 1.0, 3)] * 3  # after the 10th error: 1 s each
