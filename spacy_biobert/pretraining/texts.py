"""In-domain text for masked-LM pretraining: reading it, and cutting it into encoder-sized blocks.

Accepted inputs (any number of them, read in the order given):

* a folder: every ``*.txt`` file in it (name order), one document each;
* a ``.txt`` file: one document;
* a ``.jsonl`` file: one ``{"text": ...}`` object per line (other keys ignored; blank lines skipped; a text that
  is not valid Unicode -- a lone surrogate escape such as ``"\\ud83d"`` -- is refused);
* a PubTator file (``.pubtator``, ``.pubtator.gz``, any other ``.gz``): title + " " + abstract of each document,
  read by :func:`spacy_biobert.corpus.pubtator.read_pubtator` (annotations are ignored);
* a BioC XML file (``.xml``, ``.bioc``): the text of each document, read by our BioC reader.

``fmt`` overrides the guess: ``text`` (a folder of ``.txt`` or one file), ``jsonl``, or a corpus format of
:data:`spacy_biobert.corpus.READERS` (``pubtator``, ``bioc``, ``brat`` -- a BRAT folder).

Problems (a missing path, a folder without ``.txt`` files, a malformed line, no text at all) raise
:class:`PretrainingInputError` naming the path.
"""
import json
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Sequence, Union

from ..corpus import READERS
from ..corpus.builder import CorpusFormatError
from ..errors import unicode_problem

PathLike = Union[str, Path]


class PretrainingInputError(ValueError):
    """The pretraining text could not be read (the message names the path and, where known, the line)."""


def _kind(path: Path) -> str:
    name = path.name.lower()
    if path.is_dir() or name.endswith(".txt"):
        return "text"
    if name.endswith(".jsonl"):
        return "jsonl"
    if name.endswith((".pubtator", ".gz")):
        return "pubtator"
    if name.endswith((".xml", ".bioc")):
        return "bioc"
    raise PretrainingInputError(
        f"{path}: unknown input type; give a folder of .txt files, a .txt, .jsonl, .pubtator(.gz) or BioC .xml "
        f"file (or name the format: {', '.join(FORMATS)})"
    )


def _read_text_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf8")
    except UnicodeDecodeError as err:
        raise PretrainingInputError(f"{path}: not valid UTF-8 at byte {err.start}") from err


def _read_jsonl(path: Path) -> Iterator[str]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw.decode("utf8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                raise PretrainingInputError(f"{path}:{number}: not a UTF-8 JSON object ({err})") from err
            text = obj.get("text") if isinstance(obj, dict) else None
            if not isinstance(text, str):
                raise PretrainingInputError(f"{path}:{number}: expected a JSON object with a string 'text'")
            problem = unicode_problem(text)
            if problem:
                raise PretrainingInputError(f"{path}:{number}: 'text' holds a {problem}")
            yield text


def _read_one(path: Path, fmt: Optional[str]) -> Iterator[str]:
    if not path.exists():
        raise PretrainingInputError(f"{path}: no such file or folder")
    kind = fmt or _kind(path)
    if kind not in FORMATS:
        raise PretrainingInputError(f"unknown input format {kind!r}; choose one of {', '.join(FORMATS)}")
    if kind == "text" and path.is_dir():
        files = sorted(path.glob("*.txt"))
        if not files:
            raise PretrainingInputError(f"{path}: the folder has no .txt files")
        for file in files:
            yield _read_text_file(file)
    elif kind == "text":
        yield _read_text_file(path)
    elif kind == "jsonl":
        yield from _read_jsonl(path)
    else:
        try:
            for doc in READERS[kind](path):
                yield doc.text
        except CorpusFormatError as err:
            raise PretrainingInputError(str(err)) from err


#: Input formats: plain text, JSONL, and the corpus formats.
FORMATS = ("text", "jsonl", *READERS)


def read_texts(paths: Union[PathLike, Sequence[PathLike]], fmt: Optional[str] = None) -> List[str]:
    """The documents of ``paths`` (one path or several), blank documents left out.

    Args:
        paths: input files or folders.
        fmt: one of :data:`FORMATS` for every path; default: guessed per path from its suffix.

    Raises:
        PretrainingInputError: a path is missing, unreadable or of unknown type, or there is no text at all.
    """
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not paths:
        raise PretrainingInputError("no input path given")
    texts = [text for path in paths for text in _read_one(Path(path), fmt) if text.strip()]
    if not texts:
        raise PretrainingInputError(f"no text in {', '.join(str(p) for p in paths)}")
    return texts


def chunk_texts(texts: Iterable[str], tokenizer, max_length: int) -> List[List[int]]:
    """Cut ``texts`` into blocks of at most ``max_length`` wordpiece ids, special tokens included.

    The documents' wordpieces are concatenated, each document closed by the separator token (as in
    Hugging Face's ``run_mlm.py`` ``group_texts``), and the stream cut into windows of ``max_length - 2``
    pieces, each wrapped in ``[CLS] ... [SEP]`` by ``tokenizer.build_inputs_with_special_tokens``. The last,
    shorter block is kept (the collator pads it) unless it holds a single piece.

    Args:
        texts: the documents.
        tokenizer: a Hugging Face tokenizer of the encoder.
        max_length: block length in wordpieces (at least 8; at most the encoder's position limit).
    Returns:
        The blocks, in text order.
    """
    if max_length < 8:
        raise ValueError(f"max_length must be at least 8 wordpieces, got {max_length}")
    body = max_length - tokenizer.num_special_tokens_to_add(pair=False)
    stream: List[int] = []
    for text in texts:
        stream.extend(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])
        if tokenizer.sep_token_id is not None:
            stream.append(tokenizer.sep_token_id)
    pieces = [stream[start:start + body] for start in range(0, len(stream), body)]
    return [tokenizer.build_inputs_with_special_tokens(piece) for piece in pieces if len(piece) > 1]
