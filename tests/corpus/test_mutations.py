"""Mutation tests of the PubTator reader over real CDR documents: every mutant is read exactly or refused.

See ``tests/corpus/mutations.py`` for the oracle. Seeds are fixed (``random.Random(seed)``, hypothesis with
``derandomize=True``): the same mutants in every run.
"""
import gzip
import random
from pathlib import Path
from typing import List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spacy_biobert.corpus import CorpusFormatError, SourceDoc, read_pubtator
from tests.corpus.mutations import (
    assert_names_place, canon, check_exact, check_free_change, flips, insertions, read, truncations,
)

N_DOCS = 4
# a non-ASCII document whose non-ASCII characters all precede a mention (a re-encoding shifts its offsets)
CAFE = "9|t|Café naïve rats.\n9|a|Caffeine harms.\n9\t0\t4\tCafé\tChemical\tD1\n9\t17\t25\tCaffeine\tChemical\tD2\n"


@pytest.fixture(scope="module")
def sample(cdr_dir, tmp_path_factory):
    """(path, bytes, documents, blocks) of the first ``N_DOCS`` documents of CDR dev, as a plain file."""
    text = gzip.decompress((cdr_dir / "dev.pubtator.gz").read_bytes()).decode("utf8")
    blocks = text.split("\n\n")[:N_DOCS]
    data = ("\n\n".join(blocks) + "\n\n").encode("utf8")
    path = tmp_path_factory.mktemp("pristine") / "dev4.pubtator"
    path.write_bytes(data)
    docs = list(read_pubtator(path))
    assert [d.doc_id for d in docs] == [b.split("|", 1)[0] for b in blocks] and all(d.mentions for d in docs)
    return path, data, docs, blocks


def _read(tmp_path, data: bytes, name: str = "m.pubtator"):
    path = tmp_path / name
    path.write_bytes(data)
    return path, read(read_pubtator, path)


def _refused(tmp_path, data: bytes, what: str, name: str = "m.pubtator", n_lines: int = 0) -> CorpusFormatError:
    path, outcome = _read(tmp_path, data, name)
    assert isinstance(outcome, CorpusFormatError), f"{what}: accepted"
    assert_names_place(outcome, path, n_lines or data.count(b"\n") + 1)
    return outcome


def _judge_free(path, data: bytes, outcome, docs: List[SourceDoc], what: str) -> None:
    if isinstance(outcome, CorpusFormatError):
        assert_names_place(outcome, path, data.count(b"\n") + 1)
        return
    text = data.decode("utf8", errors="replace")
    lines = {line.rstrip("\r") for line in text.split("\n")}

    def text_of(doc: SourceDoc) -> bool:
        cuts = [k for k, char in enumerate(doc.text) if char == " "]
        return any({f"{doc.doc_id}|t|{doc.text[:k]}", f"{doc.doc_id}|a|{doc.text[k + 1:]}"} <= lines for k in cuts)

    check_free_change(outcome, docs, lambda value: value in text, text_of, what)


def test_truncation_is_refused_unless_at_a_line_end(sample, tmp_path):
    path0, data, docs, _ = sample
    for cut, mutant in truncations(data, random.Random(1), 300):
        path, outcome = _read(tmp_path, mutant)
        if cut == 0 or not mutant.endswith(b"\n"):
            assert isinstance(outcome, CorpusFormatError), f"cut at {cut} accepted"
            assert_names_place(outcome, path, mutant.count(b"\n") + 1)
            continue
        # a cut at a line end is a shorter file: whole documents, the last one with its first lines only
        kept = [b.split("\n") for b in mutant.decode("utf8").split("\n\n") if b.strip("\n")]
        last = [line for line in kept[-1] if line]
        if len(last) < 2:
            assert isinstance(outcome, CorpusFormatError), f"cut at {cut}: title without abstract accepted"
            continue
        assert not isinstance(outcome, CorpusFormatError), f"cut at {cut}: {outcome}"
        assert [canon(d) for d in outcome[:-1]] == [canon(d) for d in docs[: len(kept) - 1]], f"cut at {cut}"
        new, old = outcome[-1], docs[len(kept) - 1]
        m, r = len(new.mentions), len(new.concept_relations)
        assert (new.doc_id, new.text, m + r) == (old.doc_id, old.text, len(last) - 2), f"cut at {cut}"
        assert canon(new)[2:4] == (canon(old)[2][:m], canon(old)[3][:r]), f"cut at {cut}"


@pytest.mark.parametrize("kind, count, seed", [("flip", 700, 2), ("insert", 500, 3)])
def test_changed_bytes_are_refused_or_read_literally(sample, tmp_path, kind, count, seed):
    _, data, docs, _ = sample
    mutate = flips if kind == "flip" else insertions
    for what, mutant in mutate(data, random.Random(seed), count):
        path, outcome = _read(tmp_path, mutant)
        _judge_free(path, mutant, outcome, docs, what)


def test_content_keeping_changes_read_exactly(sample, tmp_path):
    _, data, docs, blocks = sample
    text = data.decode("utf8")
    keeping = {
        "CRLF": text.replace("\n", "\r\n").encode("utf8"),
        "one CRLF": text.replace("\n", "\r\n", 3).encode("utf8"),
        "UTF-8 BOM": b"\xef\xbb\xbf" + data,
        "latin-1 (ASCII text)": text.encode("latin-1"),
        "more blank lines": text.replace("\n\n", "\n\n\n \n").encode("utf8"),
        "no blank line at the end": data[:-1],
    }
    for what, mutant in keeping.items():
        check_exact(_read(tmp_path, mutant)[1], docs, what)
    order = [2, 0, 3, 1]
    reordered = ("\n\n".join(blocks[i] for i in order) + "\n").encode("utf8")
    check_exact(_read(tmp_path, reordered)[1], [docs[i] for i in order], "blocks reordered")
    rng = random.Random(4)
    for number, block in enumerate(blocks):
        lines = block.split("\n")
        block = "\n".join(lines[:2] + rng.sample(lines[2:], len(lines) - 2))
        shuffled = blocks[:number] + [block] + blocks[number + 1:]
        outcome = _read(tmp_path, ("\n\n".join(shuffled) + "\n").encode("utf8"))[1]
        check_exact(outcome, docs, f"annotation lines of document {number} shuffled", ordered=False)


def test_duplicates_encodings_and_swaps_are_refused(sample, tmp_path):
    _, data, docs, blocks = sample
    text = data.decode("utf8")
    for i in range(len(blocks)):
        copy = blocks[:] + [blocks[i]]
        err = _refused(tmp_path, ("\n\n".join(copy) + "\n").encode("utf8"), f"document {i} twice")
        assert "already read at line" in str(err)
        lines = blocks[i].split("\n")
        for j in (2, len(lines) - 1):  # a mention line, a relation line
            twice = "\n".join(lines[: j + 1] + lines[j:])
            mutant = "\n\n".join(blocks[:i] + [twice] + blocks[i + 1:]) + "\n"
            _refused(tmp_path, mutant.encode("utf8"), "line twice")
        swapped = "\n".join([lines[1], lines[0]] + lines[2:])
        _refused(tmp_path, ("\n\n".join(blocks[:i] + [swapped] + blocks[i + 1:]) + "\n").encode("utf8"), "t/a swap")
    for encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        _refused(tmp_path, text.encode(encoding), encoding)
    _refused(tmp_path, text.replace("\n", "\r").encode("utf8"), "CR line endings")
    for what, mutant in {
        "latin-1": CAFE.encode("latin-1"),
        "cp1252": CAFE.encode("cp1252"),
        "UTF-8 read as latin-1 and saved as UTF-8": CAFE.encode("utf8").decode("latin-1").encode("utf8"),
        "utf-16": CAFE.encode("utf-16"),
    }.items():
        _refused(tmp_path, mutant, what)
    (cafe,) = _read(tmp_path, CAFE.encode("utf8"))[1]
    assert [m.text for m in cafe.mentions] == ["Café", "Caffeine"]


def test_gzip_mutants_are_refused_or_exact(sample, tmp_path):
    _, data, docs, _ = sample
    packed = gzip.compress(data, mtime=0)
    rng = random.Random(5)
    n_lines = data.count(b"\n") * 2  # lines of the decompressed text (twice: two members)
    check_exact(_read(tmp_path, packed, "m.pubtator.gz")[1], docs, "gzip")
    check_exact(_read(tmp_path, packed + b"\0" * 8, "m.pubtator.gz")[1], docs, "zero padding after the member")
    for cut, mutant in truncations(packed, rng, 60):
        _refused(tmp_path, mutant, f"gzip cut at {cut}", "m.pubtator.gz", n_lines)
    _refused(tmp_path, packed + packed, "two copies of the member", "m.pubtator.gz", n_lines)
    _refused(tmp_path, packed + b"garbage", "garbage after the member", "m.pubtator.gz", n_lines)
    for what, mutant in [*flips(packed, rng, 150), *insertions(packed, rng, 100)]:
        path, outcome = _read(tmp_path, mutant, "m.pubtator.gz")
        if isinstance(outcome, CorpusFormatError):
            assert_names_place(outcome, path, n_lines)
        else:
            check_exact(outcome, docs, what)  # a header byte (mtime, OS) carries no content


# --- pipeline-free reading of arbitrary Unicode text ---------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40)


@settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=TEXT, abstract=TEXT, spans=st.lists(st.tuples(st.integers(0, 80), st.integers(1, 20)), max_size=6),
       crlf=st.booleans(), bom=st.booleans())
def test_unicode_text_with_valid_offsets_round_trips(tmp_path_factory, title, abstract, spans, crlf, bom):
    text = title + " " + abstract
    mentions = sorted({(s % len(text), min(len(text), s % len(text) + n)) for s, n in spans})
    lines = [f"7|t|{title}", f"7|a|{abstract}"]
    lines += [f"7\t{s}\t{e}\t{text[s:e]}\tChemical\tD{s}" for s, e in mentions]
    raw = ("\r\n" if crlf else "\n").join(lines + [""]).encode("utf8")
    path = tmp_path_factory.mktemp("unicode") / "u.pubtator"
    path.write_bytes(b"\xef\xbb\xbf" + raw if bom else raw)
    (doc,) = read_pubtator(path)
    assert (doc.doc_id, doc.text) == ("7", text)
    expected = [(s, e, text[s:e], f"D{s}") for s, e in mentions]
    assert [(m.start, m.end, m.text, m.kb_id) for m in doc.mentions] == expected
