"""One reader of raw documents (:mod:`spacy_biobert.corpus.documents`) behind batch annotation and pretraining:
the same inputs, gzip-compressed or not, give both the same texts, and both name a bad record's file and line."""
import gzip
from pathlib import Path
from typing import List

import pytest

from spacy_biobert.batch.inputs import read_inputs
from spacy_biobert.corpus.builder import CorpusFormatError
from spacy_biobert.corpus.documents import BadInput, guess_format, read_documents
from spacy_biobert.pretraining import PretrainingInputError, read_texts
from tests.util import TOY_PUBTATOR, write_text

BIOC = ('<?xml version="1.0" encoding="UTF-8"?>\n<collection><source>x</source><date>2024</date><key>k</key>\n'
        '<document><id>7</id><passage><infon key="type">title</infon><offset>0</offset><text>Lithium tremor.'
        '</text></passage></document>\n</collection>\n')
#: (id, text) of every document of :func:`inputs`, in order.
DOCUMENTS = [("a", "first"), ("b", "second"), ("1", "third"), ("2", "fourth"),
             ("1", "Famotidine-associated delirium. Famotidine is used in patients."), ("7", "Lithium tremor.")]


def compress(path: Path) -> Path:
    """``path`` replaced by its gzip copy ``path.gz``."""
    packed = path.with_name(path.name + ".gz")
    packed.write_bytes(gzip.compress(path.read_bytes()))
    path.unlink()
    return packed


def inputs(root: Path, compressed: bool) -> List[Path]:
    """A folder of two .txt files, a JSONL, a PubTator and a BioC file: each file gzip-compressed or not."""
    root.mkdir()
    (root / "texts").mkdir()
    files = [write_text(root / "texts" / "a.txt", "first"), write_text(root / "texts" / "b.txt", "second"),
             write_text(root / "d.jsonl", '{"id": 1, "text": "third"}\n\n{"id": 2, "text": "fourth"}\n'),
             write_text(root / "c.pubtator", TOY_PUBTATOR), write_text(root / "e.xml", BIOC)]
    if compressed:
        files = [compress(path) for path in files]
    return [root / "texts", *files[2:]]


def batch_documents(paths: List[Path]) -> list:
    return [(doc.id, doc.text) for path in paths for doc in read_inputs(path, guess_format(path))]


def test_batch_and_pretraining_read_the_same_texts_compressed_or_not(tmp_path):
    plain, packed = inputs(tmp_path / "plain", False), inputs(tmp_path / "packed", True)
    assert [p.name for p in packed[1:]] == ["d.jsonl.gz", "c.pubtator.gz", "e.xml.gz"]
    assert batch_documents(plain) == batch_documents(packed) == DOCUMENTS
    assert read_texts(plain) == read_texts(packed) == [text for _, text in DOCUMENTS]


def test_formats_of_compressed_names(tmp_path):
    names = ["a.txt.gz", "a.jsonl.gz", "a.pubtator.gz", "a.xml.gz", "bioconcepts2pubtatorcentral.offset.gz"]
    assert [guess_format(tmp_path / name) for name in names] == ["text", "jsonl", "pubtator", "bioc", "pubtator"]
    with pytest.raises(BadInput, match="a.csv: cannot tell the format"):
        guess_format(tmp_path / "a.csv")


def test_both_name_the_file_and_line_of_a_bad_record_in_a_compressed_file(tmp_path):
    path = compress(write_text(tmp_path / "in.jsonl", '{"id": 1, "text": "One."}\n{"id": 2, "text": \n'))
    with pytest.raises(BadInput, match=f"{path}:2: malformed JSON"):
        list(read_inputs(path, "jsonl"))
    with pytest.raises(PretrainingInputError, match=f"{path}:2: malformed JSON"):
        read_texts(path)


def test_corrupt_gzip_data_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"id": 1, "text": "One."}\n' * 200)[:-30])
    with pytest.raises(CorpusFormatError, match=r"cut.jsonl.gz:\d+: corrupt or truncated gzip data"):
        list(read_documents(path))
    with pytest.raises(PretrainingInputError, match=r"cut.jsonl.gz:\d+: corrupt or truncated gzip data"):
        read_texts(path)


def test_only_batch_needs_ids(tmp_path):
    path = write_text(tmp_path / "in.jsonl", '{"text": "no id"}\n')
    assert [(doc.id, doc.text) for doc in read_documents(path)] == [("", "no id")]
    assert read_texts(path) == ["no id"]
    with pytest.raises(BadInput, match=f"{path}:1: missing 'id'"):
        list(read_inputs(path, "jsonl"))


def test_a_brat_folder_is_read_by_both_when_named(tmp_path):
    folder = tmp_path / "brat"
    folder.mkdir()
    write_text(folder / "doc1.txt", "Lithium caused tremor.")
    write_text(folder / "doc1.ann", "T1\tChemical 0 7\tLithium\n")
    assert [(doc.id, doc.text) for doc in read_inputs(folder, "brat")] == [("doc1", "Lithium caused tremor.")]
    assert read_texts(folder, "brat") == ["Lithium caused tremor."]
