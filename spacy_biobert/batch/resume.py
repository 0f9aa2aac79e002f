"""Writing an output so that a crash never leaves a half-written file that looks finished, and resuming it.

A run writes to ``OUTPUT.partial`` beside ``OUTPUT`` and renames it to ``OUTPUT`` once every record is written
(:func:`resumable_writer`): ``OUTPUT`` is always absent or complete. JSONL and PubTator outputs are resumed: a
run goes on from the ``.partial`` file an interrupted run left (else from a copy of an existing ``OUTPUT``),
keeping its complete records (a trailing partial line or block is cut off) and passing over their ids. A BioC
XML collection cannot be appended to: an existing one is refused (write a new file or pass ``--overwrite``), and
a ``.partial`` one is started over.
"""
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Set, Tuple

from ..output.paths import partial_path
from ..output.writers import WRITERS, RecordWriter

#: Output formats that can be resumed (appended to).
RESUMABLE = ("jsonl", "pubtator")


def _cut(path: Path, keep: int) -> None:
    with path.open("r+b") as handle:
        handle.truncate(keep)


def _record_id(line: bytes, where: str) -> str:
    """The id of one complete JSONL output line; a line that is not a record raises naming ``where``."""
    try:
        record = json.loads(line.decode("utf8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{where}: not a JSON record ({err}); the output is damaged: repair or remove that line, "
                         "or pass --overwrite to start over") from None
    if not isinstance(record, dict) or record.get("id") is None:
        raise ValueError(f"{where}: a JSON line without an 'id' is not an output record; repair or remove that "
                         "line, or pass --overwrite to start over")
    return str(record["id"])


def jsonl_done(path: Path) -> Set[str]:
    """Ids of the complete records of a JSONL output; a last line without newline (a record cut off) is cut off.

    Raises:
        ValueError: naming file and line, for a complete line that is not a record with an id.
    """
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1
    done: Set[str] = set()
    for number, line in enumerate(data[:keep].split(b"\n"), start=1):
        if line.strip():
            done.add(_record_id(line, f"{path}:{number}"))
    if keep < len(data):
        _cut(path, keep)
    return done


def pubtator_done(path: Path) -> Set[str]:
    """Ids of the complete blocks of a PubTator output (each ends with a blank line); a partial last block is cut."""
    data = path.read_bytes()
    keep = data.rfind(b"\n\n") + 2 if b"\n\n" in data else 0
    done = {block.split(b"|", 1)[0].decode("utf8") for block in data[:keep].split(b"\n\n") if block.strip()}
    if keep < len(data):
        _cut(path, keep)
    return done


def done_ids(path: Path, fmt: str) -> Set[str]:
    """The ids an existing output already holds (empty when it does not exist or is empty).

    Raises:
        ValueError: for a non-empty BioC output (it cannot be resumed).
    """
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return set()
    if fmt == "jsonl":
        return jsonl_done(path)
    if fmt == "pubtator":
        return pubtator_done(path)
    raise ValueError(f"{path} exists and a {fmt} output cannot be resumed: pass --overwrite or a new file")


def _holds_data(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


@contextmanager
def resumable_writer(path: Path, fmt: str, overwrite: bool = False) -> Iterator[Tuple[RecordWriter, Set[str]]]:
    """A writer of ``fmt`` on ``path``'s partial file and the ids it already holds; renamed to ``path`` on success.

    Args:
        path: the output file.
        fmt: a key of :data:`~spacy_biobert.output.writers.WRITERS`.
        overwrite: start over (``path`` itself is replaced only when the new output is complete).
    Raises:
        ValueError: for an existing non-empty output of a format that cannot be resumed (without ``overwrite``).
    """
    path, partial = Path(path), partial_path(path)
    if not overwrite and fmt not in RESUMABLE and _holds_data(path):
        done_ids(path, fmt)  # raises: cannot be resumed
    if overwrite or fmt not in RESUMABLE:
        partial.unlink(missing_ok=True)
    elif not partial.exists() and _holds_data(path):
        shutil.copyfile(path, partial)
    done = done_ids(partial, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    with WRITERS[fmt](partial, append=bool(done)) as writer:
        yield writer, done
    os.replace(partial, path)
