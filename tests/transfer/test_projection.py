"""Annotation projection: words, the mutual-argmax alignment, span projection, the silver set, the
settings file, and both stages end to end on a tiny encoder."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoModelForTokenClassification, AutoTokenizer

from xlt import io, modelstore
from xlt.config import ParamsError
from xlt.layout import Layout
from xlt.transfer import projection as proj

SHARED = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
SETTINGS = """projection:
  targets: [te]
  pairs: 100
  min_words: 2
  max_words: 60
  layer: 1
  sentences: 4
  max_span_ratio: 2.0
  epochs: 1
"""


def test_target_words_split_punctuation_without_cutting_vowel_signs():
    assert proj.target_words("భారత్‌పై (విఏపి) 5.4 లక్షలు.") == ["భారత్‌పై", "(", "విఏపి", ")", "5.4", "లక్షలు", "."]
    assert proj.english_words("Jackson's U.S. tour") == ["Jackson", "'", "s", "U", ".", "S", ".", "tour"]


def test_alignment_keeps_mutual_best_matches_only():
    src = np.array([[1.0, 0.0], [0.0, 1.0], [0.7071, 0.7071]])
    tgt = np.array([[0.0, 1.0], [1.0, 0.0]])
    # source word 2 is nobody's best match: left out
    assert proj.argmax_alignment(src, tgt) == {(0, 1), (1, 0)}


def test_projection_carries_spans_and_refuses_what_it_cannot_place():
    tags = ["B-PER", "I-PER", "O", "B-LOC"]
    # a two-word name onto one fused word, a place onto the first word
    assert proj.project(tags, {(0, 2), (1, 2), (3, 0)}, 4) == ["B-LOC", "O", "B-PER", "O"]
    # the words between two aligned words are inside the entity
    assert proj.project(["B-ORG", "I-ORG", "I-ORG"], {(0, 0), (2, 2)}, 3) == ["B-ORG", "I-ORG", "I-ORG"]
    assert proj.project(tags, {(0, 2), (1, 2)}, 4) is None                 # the place found no word
    assert proj.project(tags, {(0, 1), (3, 1)}, 4) is None                 # two entities on one word
    assert proj.project(["B-PER", "O"], {(0, 0), (0, 5)}, 6) is None       # one word spread over six
    assert proj.project(["O", "O"], set(), 3) == ["O", "O", "O"]


def test_silver_set_holds_the_declared_share_of_sentences_with_an_entity():
    pairs = [{"en": ["Delhi", "is", "big"], "tgt": ["ఢిల్లీ", "పెద్దది"], "links": [[0, 0], [2, 1]]} for _ in range(5)]
    pairs += [{"en": ["Delhi", "is", "big"], "tgt": ["ఢిల్లీ", "పెద్దది"], "links": [[2, 1]]}]   # the place finds no word
    pairs += [{"en": ["it", "is", "big"], "tgt": ["అది", "పెద్దది"], "links": []} for _ in range(10)]
    tags = [["B-LOC", "O", "O"]] * 6 + [["O", "O", "O"]] * 10
    data, facts = proj.silver(pairs, tags, share=0.5, cap=8, seed=0)
    assert facts["projected"] == 5 and facts["projection_failed"] == 1
    assert facts["kept_with_entity"] == 4 and facts["kept_without"] == 4 and len(data) == 8
    assert facts["entities_by_type"] == {"LOC": 4}
    again, _ = proj.silver(pairs, tags, share=0.5, cap=8, seed=0)
    assert [r["tags"] for r in again] == [r["tags"] for r in data]


def test_word_vectors_are_the_layer_asked_for_averaged_over_pieces(tiny_encoder):
    tok = AutoTokenizer.from_pretrained(tiny_encoder)
    sentences = [["a", "good", "phone"], ["చాలా", "బాగుంది"]]
    with torch.inference_mode():
        enc = tok(sentences[1], is_split_into_words=True, return_tensors="pt")
        layer1 = AutoModel.from_pretrained(tiny_encoder)(**enc, output_hidden_states=True).hidden_states[1][0].numpy()
    ids = enc.word_ids(0)
    expected = np.stack([layer1[[i for i, w in enumerate(ids) if w == word]].mean(0) for word in range(2)])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    vectors = proj.word_vectors(AutoModel.from_pretrained(tiny_encoder).eval(), tok, sentences, layer=1)
    assert [v.shape for v in vectors] == [(3, 32), (2, 32)]
    np.testing.assert_allclose(vectors[1], expected, atol=1e-5)


def test_settings_name_the_file_and_the_key(tmp_path):
    (tmp_path / proj.PARAMS_FILE).write_text(SETTINGS)
    assert proj.settings(tmp_path)["max_span_ratio"] == 2.0
    (tmp_path / proj.PARAMS_FILE).write_text(SETTINGS.replace("epochs: 1", "epochs: '1e-00'"))
    assert proj.settings(tmp_path)["epochs"] == 1.0          # as `dvc exp run -S` may write it
    for bad, says in [(SETTINGS.replace("layer:", "layers:"), "projection.layers: unknown key"),
                      (SETTINGS.replace("targets: [te]", "targets: te"), "projection.targets: expected a list"),
                      (SETTINGS.replace("targets: [te]", "targets: [ta]"), r"projection.targets\[0\]: unknown value 'ta'"),
                      (SETTINGS.replace("pairs: 100", "pairs: -1"), "projection.pairs: expected an integer >= 1"),
                      (SETTINGS.replace("min_words: 2", "min_words: 99"), "projection.min_words: 99 is above")]:
        (tmp_path / proj.PARAMS_FILE).write_text(bad)
        with pytest.raises(ParamsError, match=says) as e:
            proj.settings(tmp_path)
        assert proj.PARAMS_FILE in str(e.value)
    (tmp_path / proj.PARAMS_FILE).unlink()
    with pytest.raises(ParamsError, match="not found"):
        proj.settings(tmp_path)


P = {"transfer": {"encoder": "tiny", "tasks": ["ner"], "targets": ["te"], "seeds": [1],
                  "labels": {"ner": {"types": ["PER", "LOC", "ORG"],
                                     "map": {"en": {"PER": "PER", "LOC": "LOC", "ORG": "ORG"},
                                             "te": {"NEP": "PER", "NEL": "LOC", "NEO": "ORG"}}},
                             "sentiment": {"classes": ["negative", "positive"], "neutral": "drop",
                                           "neutral_threshold": 0.75}},
                  "fewshot": {"learning_rate": {"ner": 1e-4}, "batch_size": 8, "bf16": False, "entity_share": 0.5},
                  "bootstrap": {"samples": 20, "seed": 0}, "predict_bf16": False}}


@pytest.fixture()
def root(tiny_encoder, tmp_path):
    """A source model that calls every word a person; pairs whose two sides are the same words (so
    the alignment is the identity whatever the encoder's weights)."""
    paths = Layout(tmp_path)
    (tmp_path / proj.PARAMS_FILE).write_text(SETTINGS)
    shutil.copytree(tiny_encoder, paths.pretrained("tiny"))
    model = AutoModelForTokenClassification.from_pretrained(
        tiny_encoder, num_labels=len(SHARED), id2label=dict(enumerate(SHARED)), label2id={l: i for i, l in enumerate(SHARED)})
    model.config.architectures = [type(model).__name__]
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.zero_()
        model.classifier.bias[SHARED.index("B-PER")] = 10.0
    modelstore.save(model, AutoTokenizer.from_pretrained(tiny_encoder), paths.source_model("ner", 1),
                    pretrained_dir=tiny_encoder)
    words = ["good", "phone", "sentence", "number", "a"]     # Latin on both sides: split alike
    io.write_jsonl(tmp_path / "data/translation/te/train.jsonl",
                   [{"en": " ".join(words[i:i + 2]), "tgt": " ".join(words[i:i + 2]), "source": f"x:{i}"} for i in range(4)]
                   + [{"en": "one", "tgt": "ఒకటి", "source": "x:9"}])      # too short: not read
    io.write_jsonl(paths.transfer_data("ner", "te") / "test.jsonl",
                   [{"tokens": ["చాలా", "బాగుంది"], "tags": ["B-PER", "O"]}])
    return tmp_path


def test_align_then_project_end_to_end(root):
    out = proj.align(P, "te", root)
    aligned = io.read_jsonl(proj.aligned_path(root, "te"))
    assert out["pairs"] == len(aligned) == 4
    assert all(r["links"] == [[0, 0], [1, 1]] for r in aligned)       # identical sides: the identity
    result = proj.project_stage(P, "te", root)
    assert [r["seed"] for r in result["runs"]] == [1] and result["runs"][0]["train_sentences"] == 2
    # every word called a person: 1 of 2 predicted spans right, the gold one found
    assert result["zeroshot"]["f1"]["mean"] == pytest.approx(2 / 3)
    assert io.read_json(proj.metrics_path(root, "te")) == result
    silver = io.read_json(proj.silver_path(root, "te"))["seed1"]
    assert silver["kept_with_entity"] == 2 and silver["entities_by_type"] == {"PER": 4}
    assert silver["samples"][0]["te"].count("/B-PER") == 2


def test_nothing_projected_trains_nothing_and_writes_no_metrics(root):
    proj.align(P, "te", root)
    aligned = io.read_jsonl(proj.aligned_path(root, "te"))
    io.write_jsonl(proj.aligned_path(root, "te"), [{**r, "links": []} for r in aligned])
    with pytest.raises(RuntimeError, match="no sentence could be projected"):
        proj.project_stage(P, "te", root)
    assert not proj.metrics_path(root, "te").exists()


def test_a_target_the_transfer_stages_do_not_have_is_refused_by_name(root):
    for p, says in [({"transfer": {**P["transfer"], "tasks": ["sentiment"]}}, "needs ner in params.yaml transfer.tasks"),
                    ({"transfer": {**P["transfer"], "targets": ["hi"]}}, "te in transfer.targets")]:
        for stage in (proj.align, proj.project_stage):
            with pytest.raises(ParamsError, match=says):
                stage(p, "te", root)
    with pytest.raises(ParamsError, match="hi is not one of"):
        proj.align(P, "hi", root)


def test_the_report_reads_the_file_the_stage_writes(tmp_path):
    from xlt.transfer.report import _projection_section, projection_metrics
    assert projection_metrics(tmp_path, "te") == proj.metrics_path(tmp_path, "te")
    p = {"transfer": {"targets": ["hi", "te"]}}
    assert _projection_section(tmp_path, p) == []                      # nothing run: no section

    def run(z, q):
        return {"zeroshot": {"f1": z}, "projected": {"f1": q, "overlap": {"f1": q + 0.05}}, "train_sentences": 4000}
    io.write_json(proj.metrics_path(tmp_path, "te"), {"runs": [run(0.5, 0.6), run(0.52, 0.58), run(0.46, 0.56)]})
    text = "\n".join(_projection_section(tmp_path, p))
    assert "| Hindi | not run |" in text
    assert "| Telugu | 49.3 ± 3.1 (46.0–52.0) | **58.0 ± 2.0 (56.0–60.0)** |" in text and "+10.0, +6.0, +10.0" in text
    assert "- Telugu: +8.7 points on the mean; it gains on every seed." in text
    io.write_json(proj.metrics_path(tmp_path, "hi"), {"runs": [run(0.58, 0.60), run(0.59, 0.57)]})
    assert "- Hindi: +0.0 points on the mean; it moves both ways over the seeds (within the zero-shot seed spread" \
        in "\n".join(_projection_section(tmp_path, p))
