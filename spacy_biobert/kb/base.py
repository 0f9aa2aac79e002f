"""The knowledge base: concepts (id, labels, names with counts), merged from sources, saved to a folder.

* A concept id is one plain id (``D008094``) or a **composite** of several joined by ``|`` (``D008750|D007022``,
  a corpus's coordinated mention such as "renal and hepatic injury"): the linker writes it to ``kb_id_`` as it
  is, so the mention refers to every id it names (:func:`spacy_biobert.concepts.split_ids`).
* Labels are the entity types a concept may carry (``Chemical``, ``Disease``); an empty set means unknown
  (e.g. MeSH-lite descriptors), and such a concept may link to a mention of any label.
* Adding an id twice merges: names are united (counts summed) and labels united; an id seen with two labels
  keeps both (:meth:`KnowledgeBase.conflicts` lists them; builders report them).
* Names are stored raw; lookup keys are made by the matcher's :class:`~.normalize.Normalizer`, so one KB
  serves every normalisation setting.

On disk a KB is a folder: ``kb.msgpack`` (``{"version": 1, "concepts": [[id, [labels], [[name, count], ...]],
...]}``, names in the order they were added) and ``meta.json`` (counts and sources, for people).

``kb.get(id)`` gives a :class:`Concept`: ``.name`` (most frequent name, the preferred one on a tie), ``.aliases``,
``.labels``.
"""
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Set, Union

import srsly

from ..errors import FileFormatError

FORMAT_VERSION = 1
DATA_FILE = "kb.msgpack"
META_FILE = "meta.json"


class KBFormatError(FileFormatError):
    """Malformed knowledge-base input. The message names the file and the line or record."""


@dataclass
class Concept:
    """One concept: its id, the labels it may carry (empty: unknown) and its names with counts."""

    id: str
    labels: Set[str] = field(default_factory=set)
    names: Counter = field(default_factory=Counter)

    @property
    def name(self) -> Optional[str]:
        """The concept's name: its most frequent name, a tie going to the name added first (a vocabulary's
        preferred name: TSV/JSONL ``name``, MeSH's descriptor name); ``None`` without names."""
        return max(self.names, key=self.names.__getitem__) if self.names else None

    @property
    def aliases(self) -> List[str]:
        """Every other name, most frequent first."""
        return [name for name, _ in self.names.most_common() if name != self.name]


def _check_id(cid: str) -> str:
    parts = cid.strip().split("|") if isinstance(cid, str) else [""]
    if not all(part and part == part.strip() and part != "-1" for part in parts) or len(set(parts)) < len(parts):
        raise ValueError(f"A concept id is a non-empty string, or distinct ones joined by '|', got {cid!r}")
    return cid.strip()


class KnowledgeBase:
    """Concepts by id. See the module docstring for the merge rules."""

    def __init__(self) -> None:
        self._concepts: Dict[str, Concept] = {}
        self.sources: List[str] = []

    def __len__(self) -> int:
        return len(self._concepts)

    def __contains__(self, cid: object) -> bool:
        return cid in self._concepts

    def __iter__(self) -> Iterator[Concept]:
        return iter(self._concepts.values())

    def get(self, cid: str) -> Optional[Concept]:
        """The concept ``cid``, or ``None``."""
        return self._concepts.get(cid)

    @property
    def labels(self) -> Set[str]:
        """Every label some concept carries."""
        return {label for concept in self for label in concept.labels}

    @property
    def n_names(self) -> int:
        """Number of (concept, name) entries."""
        return sum(len(c.names) for c in self)

    def add(
        self, cid: str, names: Union[Iterable[str], Mapping[str, int]] = (), label: Optional[str] = None
    ) -> Concept:
        """Add (or merge into) concept ``cid``: names (an iterable counts 1 each, a mapping gives counts) and a label.

        Raises:
            ValueError: for an empty id, or a composite one with an empty, missing (``-1``) or repeated part.
        """
        cid = _check_id(cid)
        concept = self._concepts.setdefault(cid, Concept(cid))
        counts = names if isinstance(names, Mapping) else Counter(names)
        for name, count in counts.items():
            name = " ".join(str(name).split())
            if name:
                concept.names[name] += int(count)
        if label:
            concept.labels.add(label)
        return concept

    def merge(self, other: "KnowledgeBase") -> "KnowledgeBase":
        """Add every concept of ``other`` to this KB (merge rules above); returns ``self``."""
        for concept in other:
            self.add(concept.id, concept.names)
            self._concepts[concept.id].labels |= concept.labels
        self.sources.extend(s for s in other.sources if s not in self.sources)
        return self

    def conflicts(self) -> Dict[str, Set[str]]:
        """Ids carrying more than one label."""
        return {c.id: set(c.labels) for c in self if len(c.labels) > 1}

    def meta(self) -> Dict[str, object]:
        """Counts and sources."""
        per_label = Counter(label for c in self for label in c.labels)
        per_label["(unknown)"] = sum(1 for c in self if not c.labels)
        return {"version": FORMAT_VERSION, "concepts": len(self), "names": self.n_names,
                "per_label": dict(sorted(per_label.items())), "conflicting_ids": len(self.conflicts()),
                "sources": list(self.sources)}

    def to_disk(self, path: Union[str, Path]) -> Path:
        """Write the KB into the folder ``path`` (created if missing)."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / DATA_FILE).write_bytes(self.to_bytes())
        (folder / META_FILE).write_text(json.dumps(self.meta(), indent=2), encoding="utf8")
        return folder

    def to_bytes(self) -> bytes:
        """The KB as msgpack bytes (the content of ``kb.msgpack``)."""
        records = [[c.id, sorted(c.labels), list(c.names.items())] for c in self]  # names in order: see Concept.name
        return srsly.msgpack_dumps({"version": FORMAT_VERSION, "concepts": records, "sources": self.sources})

    @classmethod
    def from_disk(cls, path: Union[str, Path]) -> "KnowledgeBase":
        """Read a KB folder written by :meth:`to_disk`.

        Raises:
            KBFormatError: if the data file is missing, not msgpack, of another version, or has a malformed
                record (named by its index).
        """
        data_file = Path(path) / DATA_FILE
        source = str(data_file)
        if not data_file.is_file():
            raise KBFormatError(source, None, "no knowledge base here (build one with `spacy biobert kb build`)")
        return cls.from_bytes(data_file.read_bytes(), source=source)

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "<bytes>") -> "KnowledgeBase":
        """Read a KB from :meth:`to_bytes` output (errors name ``source``, see :meth:`from_disk`)."""
        try:
            data = srsly.msgpack_loads(data)
        except Exception as err:  # msgpack raises several unrelated types
            raise KBFormatError(source, None, f"not a msgpack knowledge base ({err})") from err
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            raise KBFormatError(source, None, f"unsupported format (expected version {FORMAT_VERSION})")
        kb = cls()
        for index, record in enumerate(data.get("concepts", [])):
            _load_record(kb, record, source, index)
        kb.sources = [str(s) for s in data.get("sources", [])]
        return kb


def _load_record(kb: KnowledgeBase, record: object, source: str, index: int) -> None:
    where = f"record {index}"
    try:
        cid, labels, names = record  # type: ignore[misc]
        concept = kb.add(cid, {str(n): int(c) for n, c in names})
        concept.labels.update(str(label) for label in labels)
    except (TypeError, ValueError) as err:
        raise KBFormatError(source, where, f"malformed concept record {str(record)[:80]!r} ({err})") from err
