"""The classical baselines learn trivially learnable toy data end to end (xlt.baselines.run)."""
import random

import joblib
import pytest

from xlt import baselines, io

SENT_CFG = {"max_features": 5000, "C": 4.0, "max_train_samples": None}
CRF_CFG = {"c1": 0.05, "c2": 0.05, "max_iterations": 50, "max_train_samples": None}

FILLERS = ["the phone is", "this movie was", "my order arrived and it is", "honestly the food is",
           "overall the service was", "i think the book is", "the battery seems", "their app is"]
TAILS = ["today", "for me", "as expected", "again", "", "in my opinion", "really", "now"]


def sentiment_records(n, rng):
    out = []
    for i in range(n):
        label = "positive" if i % 2 == 0 else "negative"
        word = "good" if label == "positive" else "bad"
        out.append({"text": f"{rng.choice(FILLERS)} {word} {rng.choice(TAILS)}".strip(), "label": label,
                    "source": f"toy:{i}"})
    return out


PEOPLE = ["Ravi", "Sita", "John", "Maria", "Kiran", "Anil"]
PLACES = ["Delhi", "Paris", "Hyderabad", "London", "Chennai", "Tokyo"]


def ner_records(n, rng):
    out = []
    for _ in range(n):
        person, place = rng.choice(PEOPLE), rng.choice(PLACES)
        form = rng.randrange(3)
        if form == 0:
            tokens, tags = [person, "lives", "in", place, "."], ["B-PER", "O", "O", "B-LOC", "O"]
        elif form == 1:
            tokens, tags = ["yesterday", person, "went", "to", place], ["O", "B-PER", "O", "O", "B-LOC"]
        else:
            tokens, tags = [place, "welcomed", person, "Kumar"], ["B-LOC", "O", "B-PER", "I-PER"]
        out.append({"tokens": tokens, "tags": tags})
    return out


def write_splits(root, make, rng):
    root.mkdir()
    for name, n in (("train", 40), ("dev", 10), ("test", 30)):
        io.write_jsonl(root / f"{name}.jsonl", make(n, rng))
    return root


def test_sentiment_baseline_learns_toy_data(tmp_path):
    data = write_splits(tmp_path / "data", sentiment_records, random.Random(0))
    model_path = tmp_path / "out" / "model.joblib"
    metrics_path = tmp_path / "out" / "metrics.json"
    confusion_path = tmp_path / "out" / "confusion.json"
    result = baselines.run("sentiment", "en", SENT_CFG, data, model_path, metrics_path, confusion_path)
    assert result["accuracy"] >= 0.9 and result["f1"] >= 0.9  # chance is 0.5
    assert result["n"] == 30 and set(result["per_class"]) == {"negative", "positive"}

    written = io.read_json(metrics_path)
    assert written["accuracy"] == pytest.approx(result["accuracy"])
    # The run's facts sit beside the scores, not in them (`dvc metrics diff` shows only scores).
    assert "train" not in written
    assert io.read_json(tmp_path / "out" / "metrics.run.json")["train"]["examples"] == 40
    rows = io.read_json(confusion_path)
    assert len(rows) == 30 and set(rows[0]) == {"actual", "predicted"}

    model = joblib.load(model_path)
    assert list(model.predict(["the film is good", "the film is bad"])) == ["positive", "negative"]
    assert [p.name for p in model_path.parent.iterdir() if p.name.startswith(".")] == []


def test_sentiment_baseline_respects_max_train_samples(tmp_path):
    data = write_splits(tmp_path / "data", sentiment_records, random.Random(1))
    baselines.run("sentiment", "hi", {**SENT_CFG, "max_train_samples": 20}, data,
                  tmp_path / "m.joblib", tmp_path / "metrics.json")
    assert io.read_json(tmp_path / "metrics.run.json")["train"]["examples"] == 20


def test_crf_baseline_learns_toy_data(tmp_path):
    data = write_splits(tmp_path / "data", ner_records, random.Random(0))
    model_path = tmp_path / "out" / "crf.joblib"
    metrics_path = tmp_path / "out" / "metrics.json"
    result = baselines.run("ner", "en", CRF_CFG, data, model_path, metrics_path)
    assert result["f1"] >= 0.9  # an all-O or random tagger scores ~0
    assert set(result["per_type"]) == {"PER", "LOC"}
    assert io.read_json(tmp_path / "out" / "metrics.run.json")["train"]["examples"] == 40

    written = io.read_json(metrics_path)
    assert written["f1"] == pytest.approx(result["f1"])
    assert set(written["per_type"]) == {"PER", "LOC"}

    crf = joblib.load(model_path)
    pred = crf.predict([baselines.sentence_features(["Sita", "lives", "in", "Tokyo", "."])])
    assert list(pred[0]) == ["B-PER", "O", "O", "B-LOC", "O"]


def test_token_features_shape_and_context():
    f = baselines.token_features(["Ravi", "met", "IBM2"], 0)
    assert f["w"] == "ravi" and f["title"] is True and f["shape"] == "Xx"
    assert f["-1:edge"] is True and f["1:w"] == "met" and f["2:w"] == "ibm2"
    g = baselines.token_features(["Ravi", "met", "IBM2"], 2)
    assert g["shape"] == "Xd" and g["upper"] is True and g["-2:w"] == "ravi" and g["1:edge"] is True
    assert baselines._shape("New-York99") == "Xx-Xxd"


@pytest.mark.parametrize("word", ["दिल्ली", "హైదరాబాద్"])
def test_indic_word_shape_is_uncased_letters(word):
    assert baselines._shape(word) == "a"
