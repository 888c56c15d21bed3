"""The simulated Internet: hosts, links, routes, DNS and TCP connections.

A `Network` is a graph of `Host`s joined by `Link`s.  Propagation lives in
the links: a chunk of bytes crossing a route waits, on every link, its
serialisation time (size / bandwidth) plus the link's latency.  A
`Connection` is a pair of `Endpoint`s (SimPy stores) with a one-round-trip
handshake; every line an endpoint sends is recorded in the trace.  DNS
answers A and MX queries from the scenario's records, the way a resolver
would (implicit MX, NXDOMAIN).
"""
