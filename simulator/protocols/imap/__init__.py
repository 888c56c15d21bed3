"""IMAP4rev2 (RFC 9051) as sans-I/O machines.

`wire` is the format both sides share: the tokenizer for commands and
responses (atoms, quoted strings, parenthesised lists, ``{n}``/``{n+}``
literals), sequence sets, and the helpers that quote values and write
literals.
"""

from simulator.protocols.imap import wire

IMAP_PORT = 143  # RFC 9051 §1.5 (IANA)

__all__ = ["IMAP_PORT", "wire"]
