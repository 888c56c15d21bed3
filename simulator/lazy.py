"""A package's names, imported from their modules on first use (PEP 562).

`import simulator.views` or `simulator.scenario` then costs next to
nothing; `mailsim --help` and a run load only the modules they touch.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module


def lazy_names(package: str, homes: Mapping[str, str]) -> Callable[[str], object]:
    """The module `__getattr__` of `package`: each name in `homes` from its module there."""

    def __getattr__(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{home}"), name)
        setattr(sys.modules[package], name, value)  # found there from now on
        return value

    return __getattr__
