"""mailsim: a discrete-event simulator that teaches how e-mail really works.

A scenario file describes a small Internet.  SimPy plays it out: MUAs submit
mail to MTAs, MTAs relay it by MX lookup over SMTP and hand it to MDAs over
LMTP, MDAs store it in mailboxes and serve it over POP3 and IMAP.  Every
happening lands in one trace (`simulator.trace`), which the views, the CLI
and the tests read.
"""

__version__ = "0.1.0"

__all__ = ["Simulation", "run"]


def __getattr__(name: str) -> object:
    """`simulator.Simulation` and `simulator.run`, imported on first use (quick start-up)."""
    if name in __all__:
        from simulator import simulation

        return getattr(simulation, name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
