"""Old import names that still work: each names the module where the code lives now.

glassnet's modules moved into floors (``nn``, ``training``, ``files``); the old names (``glassnet.network``,
``glassnet.callbacks``, ...) are one-line modules that call :func:`alias`, which makes the old name *the same
module object* as the new one, so imports, ``isinstance`` checks and monkeypatching behave exactly as before.
"""

from __future__ import annotations

import importlib
import sys


def alias(old: str, new: str, submodules: tuple[str, ...] = ()) -> None:
    """Make ``import old`` (and ``old.<sub>`` for each of ``submodules``) give the module ``new``."""
    sys.modules[old] = importlib.import_module(new)
    for sub in submodules:
        sys.modules[f"{old}.{sub}"] = importlib.import_module(f"{new}.{sub}")
