"""`mailsim serve`: real mail programs (smtplib, poplib) talk to the simulated servers.

IMAP (imaplib) is in `test_serve_imap.py`, real TLS in `test_serve_tls.py`.

Every test serves on 127.0.0.1 only, on ports the system picks
(`port_base=0`), fast (`SPEED` simulated seconds per real second), and
stops the server it started.
"""

from __future__ import annotations

import json
import os
import poplib
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest

from simulator import catalog
from simulator.net.topology import Host
from simulator.scenario import Scenario, load_scenario
from simulator.serve import ServedPort, ServeError, Server, check_bind, write_ports_json
from simulator.simulation import Simulation
from simulator.trace import Kind, TraceRecord, read_jsonl

REPO = Path(__file__).resolve().parents[1]
#: Simulated seconds per real second: the relay's few simulated seconds pass at once,
#: and the servers' 5-minute patience still lasts 15 real seconds.
SPEED = 20.0
#: Real seconds a test waits for something the simulation does.
PATIENCE = 10.0
ORG, NET = "mail.example.org", "mail.example.net"
SUBMISSION, RELAY, POP3 = 587, 25, 110


def hourly_bob(scenario: Scenario) -> Scenario:
    """Scenario 01 with bob's own client checking hourly, so it leaves his mail to poplib."""
    net = scenario.domains["example.net"]
    bob = net.users["bob"].model_copy(update={"check_every": 3600.0})
    net = net.model_copy(update={"users": {**net.users, "bob": bob}})
    return scenario.model_copy(update={"domains": {**scenario.domains, "example.net": net}})




def real_port(server: Server, host: str, port: int) -> int:
    (served,) = [p for p in server.ports if (p.host, p.port) == (host, port)]
    return served.real_port


def smtp(server: Server, host: str, port: int) -> smtplib.SMTP:
    return smtplib.SMTP("127.0.0.1", real_port(server, host, port), local_hostname="student-pc",
                        timeout=PATIENCE)


def pop3(server: Server) -> poplib.POP3:
    return poplib.POP3("127.0.0.1", real_port(server, NET, POP3), timeout=PATIENCE)


def letter(message_id: str, to: str = "bob@example.net") -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = "alice@example.org", to
    message["Subject"], message["Message-ID"] = "Sent by smtplib", message_id
    message.set_content("Hello Bob,\n.a line with a dot\n")
    return message


def delivered(message_id: str) -> Callable[[Simulation], bool]:
    return lambda sim: any(r.message == message_id for r in sim.trace.select(Kind.MAIL_DELIVERED))


def real_records(server: Server) -> list[TraceRecord]:
    return [r for r in server.simulation.trace if r.data.get("real")]


def test_submitted_mail_is_relayed_delivered_and_fetched_with_poplib(server: Server) -> None:
    with smtp(server, ORG, SUBMISSION) as client:
        client.login("alice@example.org", "wonderland")
        client.send_message(letter("<real.1@example.org>"))
    assert server.wait_until(delivered("<real.1@example.org>"), PATIENCE)
    mailbox = pop3(server)
    assert mailbox.getwelcome().startswith(b"+OK")
    mailbox.user("bob@example.net")
    mailbox.pass_("builder")
    _, listing, _ = mailbox.list()
    numbers = [int(line.split()[0]) for line in listing]
    texts = {n: mailbox.retr(n)[1] for n in numbers}
    (mine,) = [n for n, lines in texts.items() if b"Message-ID: <real.1@example.org>" in lines]
    received = texts[mine].index(b"Received: from student-pc (real-pc [127.0.0.1])")
    assert texts[mine][received + 1].startswith(b"\tby mail.example.org (Postfix) with ESMTPA")
    assert b".a line with a dot" in texts[mine]  # dot-stuffed on the way, and back
    assert mailbox.dele(mine).startswith(b"+OK")
    assert mailbox.quit().startswith(b"+OK")
    assert server.wait_until(
        lambda sim: all(m.message_id != "<real.1@example.org>"
                        for m in sim.mailbox("bob@example.net")), PATIENCE)
    server.close()
    (fate,) = [f for f in server.simulation.fates() if f.message_id == "<real.1@example.org>"]
    assert (fate.recipient, fate.fate.value, fate.hops) == ("bob@example.net", "delivered", 2)
    connects = [r for r in real_records(server) if r.kind is Kind.TCP_CONNECT]
    assert [(r.host, r.peer, r.data["port"]) for r in connects] == [
        ("real-pc", ORG, SUBMISSION), ("real-pc", NET, POP3)]
    assert "from 127.0.0.1:" in connects[0].text
    sessions = {r.session for r in connects}
    lines = server.simulation.trace.select(Kind.LINE)
    assert all(r.data.get("real") for r in lines if r.session in sessions)
    assert not any(r.data.get("real") for r in lines if r.session not in sessions)
    said = [r.text for r in lines if r.session in sessions and r.host == "real-pc"]
    assert said[:2] == ["ehlo student-pc", "AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHdvbmRlcmxhbmQ="]
    assert {"USER bob@example.net", "PASS builder", "QUIT"} <= set(said)


def test_pythons_lmtp_client_hands_mail_straight_to_the_mda(server: Server) -> None:
    """smtplib.LMTP speaks RFC 2033 to the simulated Dovecot, as Postfix's lmtp does."""
    with smtplib.LMTP("127.0.0.1", real_port(server, NET, 24), local_hostname="student-pc",
                      timeout=PATIENCE) as client:
        client.ehlo_or_helo_if_needed()  # smtplib.LMTP says LHLO
        assert client.does_esmtp and client.has_extn("pipelining")  # LHLO's answer
        refused = client.sendmail("alice@example.org", ["bob@example.net"],
                                  letter("<real.lmtp@example.org>").as_bytes())
        assert refused == {}
        with pytest.raises(smtplib.SMTPRecipientsRefused) as unknown:
            client.sendmail("alice@example.org", ["nobody@example.net"], b"Subject: x\r\n\r\nx")
    (code, text), = unknown.value.recipients.values()
    assert (code, text) == (550, b"5.1.1 <nobody@example.net> User doesn't exist: "
                                 b"nobody@example.net")
    assert server.wait_until(delivered("<real.lmtp@example.org>"), PATIENCE)
    server.close()
    said = [r.text for r in real_records(server) if r.kind is Kind.LINE]
    assert said[:2] == ["220 mail.example.net Dovecot ready.", "lhlo student-pc"]
    assert any(t.startswith("250 2.0.0 <bob@example.net> ") and t.endswith(" Saved")
               for t in said)


def test_wrong_passwords_are_refused(server: Server) -> None:
    with smtp(server, ORG, SUBMISSION) as client, pytest.raises(
            smtplib.SMTPAuthenticationError) as refused:
        client.login("alice@example.org", "looking-glass")
    assert refused.value.smtp_code == 535
    mailbox = pop3(server)
    mailbox.user("bob@example.net")
    with pytest.raises(poplib.error_proto, match=r"^b'-ERR"):
        mailbox.pass_("bricklayer")
    mailbox.quit()


def test_no_open_relay_and_no_submission_without_auth(server: Server) -> None:
    with smtp(server, ORG, RELAY) as client, pytest.raises(
            smtplib.SMTPRecipientsRefused) as refused:
        client.sendmail("eve@example.com", ["carol@example.com"], b"Subject: spam\r\n\r\nhi\r\n")
    code, text = refused.value.recipients["carol@example.com"]
    assert code == 554 and text.startswith(b"5.7.1 ") and b"Relay access denied" in text
    with smtp(server, ORG, SUBMISSION) as client, pytest.raises(
            smtplib.SMTPSenderRefused) as unauthenticated:
        client.sendmail("alice@example.org", ["bob@example.net"], b"Subject: hi\r\n\r\nhi\r\n")
    assert unauthenticated.value.smtp_code == 530


def test_real_sessions_leave_the_simulated_routes_alone(server: Server) -> None:
    """The scenario's own mail takes the same routes, with the same round trips, as in
    a plain run, while a real client talks to both servers."""
    for host in (ORG, NET):
        with smtp(server, host, RELAY) as client:
            assert client.noop()[0] == 250
    assert server.wait_until(lambda sim: bool(sim.trace.select(Kind.MAIL_DELIVERED)), PATIENCE)
    server.close()
    plain = Simulation(hourly_bob(load_scenario(catalog.resolve("01-first-email"))))
    plain.run()

    def round_trips(records: list[TraceRecord]) -> list[tuple[str, str, int, float]]:
        return [(r.host, r.peer or "", r.data["port"], r.data["rtt"]) for r in records
                if r.kind is Kind.TCP_CONNECT and not r.data.get("real")][:2]

    served = round_trips(list(server.simulation.trace))
    assert served == round_trips(list(plain.trace)) != []
    network = server.simulation.world.ctx.network
    assert network.transit_time("real-pc", ORG, 1000) == 0.0
    assert network.topology.route("alice-pc", "real-pc") is None  # no link to it


def test_an_attached_host_is_no_shortcut() -> None:
    """A host attached beside two others joins no route between them."""
    simulation = Simulation.load("01-first-email")
    network = simulation.world.ctx.network
    before = network.transit_time(ORG, NET, 1500)
    network.attach(Host("real-pc", "127.0.0.1"))
    assert network.transit_time(ORG, NET, 1500) == before
    assert network.transit_time(NET, "real-pc", 1500) == 0.0


def test_serving_outlasts_the_scenario_and_the_run_ends_when_it_stops() -> None:
    simulation = Simulation.load("01-first-email")
    duration = simulation.duration
    with Server(simulation, port_base=0, speed=1000.0) as server:
        server.serve_in_thread()
        assert server.wait_until(lambda sim: sim.now > duration + 60, PATIENCE)
        with smtp(server, NET, SUBMISSION) as client:
            assert client.noop()[0] == 250  # still answering after the scenario's end
    end = simulation.trace.records[-1]
    assert end.kind is Kind.SIM_END and not end.data.get("interrupted")
    assert end.time > duration + 60 and simulation.finished
    assert simulation.trace.records[0].data["duration"] == duration  # the scenario's own


def test_ports_follow_hosts_by_name_then_ports(server: Server) -> None:
    assert [(p.host, p.port, p.protocol) for p in server.ports] == [
        (NET, 24, "lmtp"), (NET, 25, "smtp"), (NET, 110, "pop3"), (NET, 143, "imap"),
        (NET, 587, "smtp"), (ORG, 24, "lmtp"), (ORG, 25, "smtp"), (ORG, 110, "pop3"),
        (ORG, 143, "imap"), (ORG, 587, "smtp"),
    ]
    assert all(p.address == "127.0.0.1" and p.real_port > 0 for p in server.ports)
    assert ServedPort(ORG, 587, "smtp", "127.0.0.1", 2505).to_json() == {
        "host": ORG, "port": 587, "protocol": "smtp", "address": "127.0.0.1", "real_port": 2505}


def test_a_port_in_use_stops_the_start_with_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = Server(Simulation.load("01-first-email"), port_base=port)
        refused = rf"port {port} for mail\.example\.net:24: .*--port-base 0"
        with pytest.raises(ServeError, match=refused):
            server.start()
        server.close()
        assert not server.simulation.started


def test_only_loopback_unless_remote_clients_are_allowed() -> None:
    assert check_bind("127.0.0.1", False) is None and check_bind("::1", False) is None
    with pytest.raises(ServeError, match="not a loopback address"):
        check_bind("0.0.0.0", False)
    with pytest.raises(ServeError, match="IP address"):
        check_bind("localhost; rm", False)
    assert "warning" in (check_bind("0.0.0.0", True) or "")
    with pytest.raises(ServeError):
        Server(Simulation.load("01-first-email"), bind="192.0.2.1")


# -- the command line ---------------------------------------------------------------


def mailsim(*args: str) -> list[str]:
    return [sys.executable, "-m", "simulator", *args]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100"}


def test_cli_serves_for_a_while_and_writes_the_port_table(tmp_path: Path) -> None:
    ports = tmp_path / "ports.json"
    done = subprocess.run(
        mailsim("serve", "01-first-email", "--port-base", "0", "--ports-json", str(ports),
                "--for", "2s", "--quiet"),
        cwd=REPO, env=environment(), capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    table = json.loads(ports.read_text(encoding="utf-8"))
    assert [(p["host"], p["port"], p["protocol"]) for p in table] == [
        (NET, 24, "lmtp"), (NET, 25, "smtp"), (NET, 110, "pop3"), (NET, 143, "imap"),
        (NET, 587, "smtp"), (ORG, 24, "lmtp"), (ORG, 25, "smtp"), (ORG, 110, "pop3"),
        (ORG, 143, "imap"), (ORG, 587, "smtp"),
    ]
    assert all(set(p) == {"host", "port", "protocol", "address", "real_port"} for p in table)
    assert all(p["address"] == "127.0.0.1" for p in table)
    assert f"127.0.0.1:{table[-1]['real_port']}" in done.stdout  # the printed table


def test_cli_refuses_a_remote_bind_address_in_one_line() -> None:
    done = subprocess.run(mailsim("serve", "--bind", "0.0.0.0"), cwd=REPO, env=environment(),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--allow-remote" in done.stderr


def test_cli_ctrl_c_closes_the_books(tmp_path: Path) -> None:
    ports, trace = tmp_path / "ports.json", tmp_path / "trace.jsonl"
    with subprocess.Popen(
        mailsim("serve", "01-first-email", "--port-base", "0", "--ports-json", str(ports),
                "--trace", str(trace), "--speed", str(SPEED)),
        cwd=REPO, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as process:
        deadline = time.monotonic() + 30
        while not ports.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        (pop3_port,) = [p["real_port"] for p in json.loads(ports.read_text(encoding="utf-8"))
                        if (p["host"], p["port"]) == (ORG, POP3)]
        mailbox = poplib.POP3("127.0.0.1", pop3_port, timeout=PATIENCE)
        mailbox.user("alice@example.org")
        mailbox.pass_("wonderland")
        mailbox.quit()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "real-pc" in out  # the live transcript shows the real session
    with trace.open(encoding="utf-8") as stream:
        records = list(read_jsonl(stream))
    assert records[-1].kind is Kind.SIM_END and not records[-1].data.get("interrupted")
    assert any(r.kind is Kind.LINE and r.data.get("real") and r.text == "PASS wonderland"
               for r in records)


def test_a_ports_json_that_cannot_be_written_is_named_as_given(tmp_path: Path) -> None:
    wanted = tmp_path / "missing" / "ports.json"
    with pytest.raises(OSError) as failed:
        write_ports_json(wanted, [ServedPort(ORG, 587, "smtp", "127.0.0.1", 2505)])
    assert failed.value.filename == str(wanted)  # not the temporary ports.json.part
