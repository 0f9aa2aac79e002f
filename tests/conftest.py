"""Shared fixtures (a tiny randomly initialised BERT written to disk, the CDR corpus, a blank pipeline, one torch
thread) and the pytest options for marked tests. Helpers that are not fixtures live in tests/util.py."""
from pathlib import Path

import pytest
import spacy
import torch

from tests.util import CDR_DIR, make_joint_nlp, make_ner_nlp, ner_examples, train_joint, train_ner, write_tiny_bert


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")
    parser.addoption("--rungpu", action="store_true", default=False, help="run tests marked gpu")


def pytest_collection_modifyitems(config, items):
    for marker, option in (("slow", "--runslow"), ("gpu", "--rungpu")):
        if config.getoption(option):
            continue
        skip = pytest.mark.skip(reason=f"needs {option}")
        for item in items:
            if item.get_closest_marker(marker) is not None:  # not `in item.keywords`: folder names are keywords too
                item.add_marker(skip)


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> str:
    """Path of a tiny random BERT checkpoint (config.json, weights, vocab.txt)."""
    return str(write_tiny_bert(tmp_path_factory.mktemp("tiny_bert")))


@pytest.fixture(scope="session")
def saved_ner_model(tiny_bert, tmp_path_factory) -> Path:
    """A tiny transformer + biobert_ner pipeline, trained 30 steps on the toy NER data, saved to disk."""
    nlp = make_ner_nlp(tiny_bert)
    train_ner(nlp, ner_examples(nlp), steps=30)
    path = tmp_path_factory.mktemp("model") / "ner"
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="session")
def cdr_dir() -> Path:
    """The CDR corpus shipped with the project: ``assets/cdr/{train,dev,test}.pubtator.gz``."""
    return CDR_DIR


@pytest.fixture
def nlp():
    """A blank English pipeline."""
    return spacy.blank("en")


@pytest.fixture(scope="module")
def one_torch_thread():
    """Torch on one thread for a whole module (``pytestmark = pytest.mark.usefixtures("one_torch_thread")``).

    Tiny models run fastest single-threaded (OpenMP spinning on 2 busy cores makes steps 100x slower), and
    torch's OpenMP pool deadlocks in forked workers (``nlp.pipe(n_process=2)``) otherwise.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def joint_model(tiny_bert, tmp_path_factory) -> str:
    """Folder of a small NER + relation pipeline on the tiny BERT, trained on the toy relation corpus (seconds)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        nlp = train_joint(make_joint_nlp(tiny_bert))
    finally:
        torch.set_num_threads(threads)
    path = tmp_path_factory.mktemp("joint_model") / "model"
    nlp.to_disk(path)
    return str(path)
