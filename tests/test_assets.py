"""The CDR corpus shipped in assets/cdr: checksums as declared in project.yml and its README, official counts."""
import gzip
import hashlib
from pathlib import Path

import pytest
import srsly

from spacy_biobert.corpus import read_pubtator

ROOT = Path(__file__).resolve().parents[1]
CDR = ROOT / "assets" / "cdr"
# documents, Chemical mentions, Disease mentions, CID pairs (BioCreative V CDR, CDR.Corpus.v010516)
OFFICIAL = {"train": (500, 5203, 4182, 1038), "dev": (500, 5347, 4244, 1012), "test": (500, 5385, 4424, 1066)}
RELEASE_MD5 = {  # the members of the official CDR_Data.zip, as scripts/unpack_cdr.py checks them
    "train": "fae18e265fc7dc72790f5b53e259d0f8",
    "dev": "2dfda7a1dc66a5599417a9db2417084b",
    "test": "96b142b3cc1774d7437c285a88b9694c",
}


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.mark.parametrize("split", sorted(OFFICIAL))
def test_asset_is_the_official_release_file(split):
    path = CDR / f"{split}.pubtator.gz"
    assert md5(gzip.decompress(path.read_bytes())) == RELEASE_MD5[split]
    assets = {a["dest"]: a for a in srsly.read_yaml(ROOT / "project.yml")["assets"]}
    declared = assets[f"assets/cdr/{split}.pubtator.gz"]["checksum"]
    assert md5(path.read_bytes()) == declared  # what `spacy project assets` verifies
    readme = (CDR / "README.md").read_text(encoding="utf8")
    assert declared in readme and RELEASE_MD5[split] in readme


@pytest.mark.parametrize("split", sorted(OFFICIAL))
def test_asset_has_the_official_counts(split):
    docs = list(read_pubtator(CDR / f"{split}.pubtator.gz"))
    labels = [m.label for d in docs for m in d.mentions]
    pairs = sum(len(set(d.concept_relations)) for d in docs)
    assert (len(docs), labels.count("Chemical"), labels.count("Disease"), pairs) == OFFICIAL[split]
