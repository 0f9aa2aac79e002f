"""Encoder names (embedded package, local folder, hub id) and when the transformer weights load."""
from pathlib import Path

import pytest
import spacy
from spacy.training import Example

from spacy_biobert.models.encoder import EMBEDDED_ENCODER, EncoderNotFoundError, resolve_encoder_name
from tests.util import LISTENER, transformer_nlp


def test_embedded_encoder_resolves_to_checkpoint_folder():
    path = resolve_encoder_name(EMBEDDED_ENCODER)
    assert path.endswith("model")
    assert (Path(path) / "config.json").is_file()


def test_local_folder_and_hub_id(tiny_bert):
    assert resolve_encoder_name(tiny_bert) == str(Path(tiny_bert).resolve())
    assert resolve_encoder_name("dmis-lab/biobert-base-cased-v1.2") == "dmis-lab/biobert-base-cased-v1.2"


@pytest.mark.parametrize(
    "name, needle",
    [("pkg:no_such_package_xyz", "no_such_package_xyz"), ("./no/such/folder", "no/such/folder"), ("", "empty")],
)
def test_bad_names_are_named_in_the_error(name, needle):
    with pytest.raises(EncoderNotFoundError, match=needle):
        resolve_encoder_name(name)


def test_folder_without_checkpoint(tmp_path):
    with pytest.raises(EncoderNotFoundError, match="config.json"):
        resolve_encoder_name(str(tmp_path))


def test_weights_load_only_at_initialize(tiny_bert):
    nlp = transformer_nlp("pkg:no_such_package_xyz")  # building must not resolve or load anything
    with pytest.raises(EncoderNotFoundError, match="no_such_package_xyz"):
        nlp.initialize()
    nlp = transformer_nlp(tiny_bert)
    nlp.initialize()
    doc = nlp("Famotidine-associated delirium.")
    assert doc._.trf_data.tensors[0].shape[-1] == 32


def test_unknown_hub_id_gives_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    nlp = transformer_nlp("no-such-org/no-such-model")
    with pytest.raises(EncoderNotFoundError, match="no-such-org/no-such-model"):
        nlp.initialize()


def test_pipeline_used_before_initialize_says_what_to_do(tiny_bert):
    """Issue 12: not spacy-transformers' "'NoneType' object is not callable", but what to call."""
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config={"model": {"@architectures": "spacy_biobert.TransformerModel.v2", "name": tiny_bert}})
    nlp.add_pipe("biobert_ner", config={"model": {"tok2vec": LISTENER}})
    expected = r"not loaded: call nlp\.initialize\(\) \(or train the pipeline with `spacy train`\)"
    for run in (lambda: nlp("Lithium caused tremor."), lambda: list(nlp.pipe(["Lithium caused tremor."]))):
        with pytest.raises(ValueError, match=expected):
            run()
    nlp.initialize(lambda: [Example.from_dict(nlp.make_doc("Lithium ."), {"entities": [(0, 7, "Chemical")]})])
    assert len(nlp("Lithium caused tremor.")) == 4
