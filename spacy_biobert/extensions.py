"""Idempotent installation of custom ``Doc`` attributes.

Each attribute's name lives next to what owns it (the relation store in :mod:`spacy_biobert.relations`,
the source document id in :mod:`spacy_biobert.corpus.builder`); this module only installs them. Every
attribute stores msgpack-safe values (strings, numbers and tuples of them) in ``doc.user_data``, so
``DocBin``, ``Doc.to_bytes``, ``doc.copy()`` and ``nlp.pipe(n_process=2)`` keep them.
"""
from typing import Any, Callable, Optional

from spacy.tokens import Doc


class ExtensionConflictError(ValueError):
    """Raised when another package already registered one of our attribute names."""


def _ours(extension: tuple) -> bool:
    default, method, getter, setter = extension
    funcs = [f for f in (getter, setter, method) if f is not None]
    return bool(funcs) and all(getattr(f, "__module__", "").startswith("spacy_biobert") for f in funcs)


def install_extension(
    name: str,
    *,
    getter: Optional[Callable] = None,
    setter: Optional[Callable] = None,
    default: Any = None,
) -> None:
    """Register ``Doc._.<name>`` unless we already did; never overwrite someone else's attribute.

    Args:
        name: the attribute name.
        getter, setter: property functions (defined in a ``spacy_biobert`` module).
        default: the default value of a plain attribute (when no getter is given).
    Raises:
        ExtensionConflictError: if the name is taken by another package.
    """
    if Doc.has_extension(name):
        existing = Doc.get_extension(name)
        if getter is None and existing[0] is default and existing[2] is None:
            return
        if getter is not None and _ours(existing):
            return
        raise ExtensionConflictError(
            f"Doc._.{name} is already registered by another package; spacy-biobert will not overwrite it."
        )
    if getter is not None:
        Doc.set_extension(name, getter=getter, setter=setter)
    else:
        Doc.set_extension(name, default=default)
