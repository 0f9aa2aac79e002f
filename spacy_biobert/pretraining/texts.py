"""In-domain text for masked-LM pretraining: reading it, and cutting it into encoder-sized blocks.

The inputs (any number of them, read in the order given) are read by :mod:`spacy_biobert.corpus.documents`, as
``spacy biobert annotate`` reads its input: a folder of ``.txt`` files, a ``.txt``, ``.jsonl`` (the ``text`` of
each line; ``id`` not needed), PubTator or BioC XML file, any of them gzip-compressed, or a BRAT folder (named
with ``fmt``); the format follows the suffix unless ``fmt`` names it. Blank documents are left out.

Problems (a missing path, an input without documents, a bad record, no text at all) raise
:class:`PretrainingInputError` naming the path and, where there is one, the line.
"""
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Union

from ..corpus.builder import CorpusFormatError
from ..corpus.documents import BadInput, Skipped, read_documents
from ..corpus.files import PathLike


class PretrainingInputError(ValueError):
    """The pretraining text could not be read (the message names the path and, where known, the line)."""


def _texts(path: Path, fmt: Optional[str]) -> List[str]:
    texts = []
    for item in read_documents(path, fmt):
        if isinstance(item, Skipped):
            raise BadInput(item.where, item.problem)
        if item.text.strip():
            texts.append(item.text)
    return texts


def read_texts(paths: Union[PathLike, Sequence[PathLike]], fmt: Optional[str] = None) -> List[str]:
    """The documents of ``paths`` (one path or several), blank documents left out.

    Args:
        paths: input files or folders.
        fmt: one of :data:`spacy_biobert.corpus.documents.FORMATS` for every path; default: guessed per path from
            its suffix.

    Raises:
        PretrainingInputError: a path is missing, unreadable or of unknown type, holds a bad record, or there is
            no text at all.
    """
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not paths:
        raise PretrainingInputError("no input path given")
    try:
        texts = [text for path in paths for text in _texts(Path(path), fmt)]
    except (BadInput, CorpusFormatError) as err:
        raise PretrainingInputError(str(err)) from err
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
