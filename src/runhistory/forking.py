"""Objects that must start afresh in a forked child: threads, sockets, database connections.

A forked child has none of its parent's threads, and must not use the parent's open SQLite
connections or sockets. Objects register here and their reset method runs in the child right
after ``fork()``.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from typing import Any

_RESETS: weakref.WeakKeyDictionary[Any, Callable[[Any], None]] = weakref.WeakKeyDictionary()


def reset_in_child(instance: Any, reset: Callable[[Any], None]) -> None:
    """Call ``reset(instance)`` in a forked child (while ``instance`` is alive)."""
    _RESETS[instance] = reset


def _after_fork_in_child() -> None:
    for instance, reset in list(_RESETS.items()):
        reset(instance)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
