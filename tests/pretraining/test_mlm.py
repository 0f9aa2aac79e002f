"""Masked-LM pretraining (spacy_biobert/pretraining) on the tiny random BERT: runs, learns, saves a usable encoder."""
import json
import math

import pytest

from spacy_biobert.models.encoder import EncoderNotFoundError
from spacy_biobert.pretraining import MLMConfig, PretrainingInputError, chunk_texts, pretrain_mlm, read_texts
from spacy_biobert.pretraining.mlm import LOG_FILE
from tests.util import TOY_PUBTATOR, transformer_nlp, write_text

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TEXT = "Famotidine induced delirium in rats . Patients with cocaine were treated for acute renal failure ."
FAST = dict(batch_size=4, max_length=24, learn_rate=1e-3)


@pytest.fixture(scope="module")
def pretrained(tiny_bert, tmp_path_factory):
    output = tmp_path_factory.mktemp("mlm") / "encoder"
    return pretrain_mlm([TEXT] * 4, tiny_bert, output, MLMConfig(steps=4, **FAST), from_paths=False), output


def test_a_few_steps_give_finite_loss_and_a_log(pretrained):
    result, output = pretrained
    assert [step for step, _ in result.losses] == [1, 2, 3, 4]
    assert all(math.isfinite(loss) for _, loss in result.losses)
    assert result.head_initialised  # the tiny BERT is a bare BertModel: a new MLM head
    log = json.loads((output / LOG_FILE).read_text(encoding="utf8"))
    assert log["config"]["steps"] == 4 and log["losses"][-1][0] == 4 and log["seconds"] >= 0
    assert log["blocks"] == result.blocks > 1


def test_saved_checkpoint_loads_with_automodel(pretrained, tiny_bert):
    import torch
    from transformers import AutoModel, AutoModelForMaskedLM

    _, output = pretrained
    adapted, base = AutoModel.from_pretrained(str(output)), AutoModel.from_pretrained(tiny_bert)
    assert adapted.config.hidden_size == 32
    # the encoder's own weights are the trained ones (the unused pooler is the only newly initialised part)
    assert not torch.equal(adapted.embeddings.word_embeddings.weight, base.embeddings.word_embeddings.weight)
    _, info = AutoModelForMaskedLM.from_pretrained(str(output), output_loading_info=True)
    assert not [k for k in info["missing_keys"] if k.startswith("cls.")]  # the trained head is saved too


def test_saved_checkpoint_is_a_spacy_encoder_name(pretrained):
    _, output = pretrained
    nlp = transformer_nlp(str(output))
    nlp.initialize()
    doc = nlp("Famotidine induced delirium .")
    assert doc._.trf_data.tensors[0].shape[-1] == 32


def test_loss_goes_down_on_a_repeated_text(tiny_bert, tmp_path):
    result = pretrain_mlm([TEXT] * 8, tiny_bert, tmp_path / "enc", MLMConfig(steps=30, **FAST), from_paths=False)
    losses = [loss for _, loss in result.losses]
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.3, losses


def test_same_seed_same_losses(tiny_bert, tmp_path):
    runs = [pretrain_mlm([TEXT], tiny_bert, tmp_path / str(i), MLMConfig(steps=3, **FAST), from_paths=False)
            for i in range(2)]
    assert runs[0].losses == runs[1].losses


def test_chunks_respect_max_length_and_keep_every_piece(tiny_bert):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    blocks = chunk_texts([TEXT, TEXT], tokenizer, 16)
    assert all(len(b) <= 16 and b[0] == tokenizer.cls_token_id and b[-1] == tokenizer.sep_token_id for b in blocks)
    pieces = len(tokenizer(TEXT, add_special_tokens=False)["input_ids"])
    assert sum(len(b) - 2 for b in blocks) == 2 * (pieces + 1)  # every piece, one separator per document


def test_read_texts_from_folder_txt_jsonl_and_pubtator(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    write_text(folder / "b.txt", "second")
    write_text(folder / "a.txt", "first")
    write_text(folder / "blank.txt", "  \n")
    jsonl = write_text(tmp_path / "d.jsonl", '{"id": 1, "text": "third"}\n\n{"text": "fourth"}\n')
    pubtator = write_text(tmp_path / "c.pubtator", TOY_PUBTATOR)
    texts = read_texts([folder, jsonl, pubtator])
    assert texts == ["first", "second", "third", "fourth",
                     "Famotidine-associated delirium. Famotidine is used in patients."]


@pytest.mark.parametrize("setup, problem", [
    (lambda p: p / "missing.txt", "no such file or folder"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "empty: no document in it"),
    (lambda p: write_text(p / "blank.txt", "\n\n"), "no text in"),
    (lambda p: write_text(p / "bad.jsonl", '{"text": 3}\n'), "bad.jsonl:1: 'text' must be a string"),
    (lambda p: write_text(p / "bad.jsonl", '{"text": "ok"}\n\n{"text": "bad \\ud83d"}\n'),
     r"bad.jsonl:3: 'text' holds a lone surrogate '\\ud83d' at character 4"),
    (lambda p: write_text(p / "bad.pubtator", "1|t|x\n"), "bad.pubtator"),
    (lambda p: write_text(p / "data.csv", "a,b\n"), "data.csv: cannot tell the format"),
])
def test_bad_input_gives_a_clear_error(tmp_path, setup, problem):
    with pytest.raises(PretrainingInputError, match=problem):
        read_texts(setup(tmp_path))


def test_bad_input_fails_before_loading_the_encoder(tmp_path):
    with pytest.raises(PretrainingInputError):
        pretrain_mlm(tmp_path / "missing", "no-such/encoder-anywhere", tmp_path / "out")


def test_missing_encoder_folder(tmp_path):
    with pytest.raises(EncoderNotFoundError):
        pretrain_mlm([TEXT], str(tmp_path / "nothing"), tmp_path / "out", from_paths=False)


def test_bad_settings(tiny_bert, tmp_path):
    with pytest.raises(ValueError, match="mlm_probability"):
        pretrain_mlm([TEXT], tiny_bert, tmp_path / "o", MLMConfig(mlm_probability=0.0), from_paths=False)
    with pytest.raises(ValueError, match="exceeds"):
        pretrain_mlm([TEXT], tiny_bert, tmp_path / "o", MLMConfig(max_length=1024), from_paths=False)


def test_format_can_be_named(tmp_path):
    data = write_text(tmp_path / "corpus.data", TOY_PUBTATOR)
    assert read_texts(data, "pubtator") == ["Famotidine-associated delirium. Famotidine is used in patients."]
    with pytest.raises(PretrainingInputError, match="unknown input format 'csv'"):
        read_texts(data, "csv")
