"""The simulated Internet: hosts, links, routes, DNS and TCP connections.

A `Network` is a graph of `Host`s joined by `Link`s.  Propagation lives in
the links: bytes crossing a route take their serialisation time on the
slowest link (size / bandwidth) plus the latency of every link.  A
`Connection` is a pair of `Endpoint`s (SimPy stores) with a one-round-trip
handshake; every line an endpoint sends is recorded in the trace.  DNS
answers A, MX and TXT queries from the scenario's records, the way a
resolver would (records, or NXDOMAIN).
"""
