"""Look a name up in one of the package's registries, with one wording for an unknown name.

Every registry of the package (losses, models, data sets, attacks, objectives...) is a plain
mapping from name to entry. A name that is not there gets the same one-line message
everywhere, listing the valid names, so a user never has to guess them.

>>> lookup({"ce": 1, "ms": 2}, "ms", kind="loss")
2
>>> lookup({"ce": 1, "ms": 2}, "mse", kind="loss")
Traceback (most recent call last):
...
ValueError: unknown loss 'mse'; choose one of: ce, ms
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

__all__ = ["lookup", "unknown_name"]

V = TypeVar("V")


def unknown_name(name: object, choices: Iterable[str], *, kind: str, alternative: str = "") -> str:
    """The message for a ``kind`` called ``name`` that is none of ``choices``.

    Args:
      name: what was asked for (shown with repr, so an empty or odd name is visible).
      choices: the valid names, in the registry's order.
      kind: what a name names, e.g. "loss", "training loss", "dataset".
      alternative: appended after the list, e.g. " or pass a callable".

    Returns:
      "unknown KIND 'name'; choose one of: a, b, c" plus ``alternative``.
    """
    return f"unknown {kind} {name!r}; choose one of: {', '.join(choices)}{alternative}"


def lookup(registry: Mapping[str, V], name: str, *, kind: str, alternative: str = "") -> V:
    """``registry[name]``, or a ValueError whose message lists the valid names.

    Args:
      registry: name -> entry.
      name: the name asked for.
      kind: what a name names, for the message (see :func:`unknown_name`).
      alternative: appended to the message after the list of names.

    Returns:
      The entry.

    Raises:
      ValueError: ``name`` is not in ``registry``.
    """
    try:
        return registry[name]
    except KeyError:
        raise ValueError(unknown_name(name, registry, kind=kind, alternative=alternative)) from None
