"""The mail system's actors as thin SimPy processes: MTA, MDA and MUA.

Each agent is a small class whose constructor starts its processes.  An
agent moves bytes between a network `Endpoint` and a sans-I/O protocol
machine (`session.pump`, which also records every protocol line sent, see
`recording`), takes the policy decisions the machine hands out (relay or
refuse? known user? right password?) in small named methods, and records
what happened in the trace.  Decisions rest on reply codes, enhanced
status codes and event types, never on a reply's text.  Agents keep their
state in plain objects (queues, mailboxes), so a later fault model can
crash and restart them without touching protocol code.
"""
