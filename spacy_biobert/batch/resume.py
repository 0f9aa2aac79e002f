"""Resuming a partly written output: which ids it holds, after cutting off a record cut short by a crash.

JSONL and PubTator outputs are appended to: the complete records already there are kept (a trailing partial
line or block is removed) and their ids are passed over. A BioC XML collection cannot be appended to:
resuming one is refused (write a new file or pass ``--overwrite``).
"""
import json
from pathlib import Path
from typing import Set


def _cut(path: Path, keep: int) -> None:
    with path.open("r+b") as handle:
        handle.truncate(keep)


def jsonl_done(path: Path) -> Set[str]:
    """Ids of the complete records of a JSONL output; a last line without newline (or not JSON) is cut off."""
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1
    done: Set[str] = set()
    for line in data[:keep].splitlines():
        if line.strip():
            done.add(str(json.loads(line)["id"]))
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
