"""Classical baselines on the same splits, so every table shows what the transformer adds.

sentiment: TF-IDF (word 1-2-grams + character 2-5-grams) + logistic regression (scikit-learn)
ner:       linear-chain CRF (sklearn-crfsuite) over word, affix, shape and context features
"""
from __future__ import annotations

import time
import unicodedata
from pathlib import Path

import joblib
import sklearn_crfsuite
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline

from xlt import io
from xlt.layout import Layout
from xlt.tasks import ner, sentiment
from xlt.training import subsample


def sentiment_model(cfg: dict):
    features = FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1,
                                  max_features=int(cfg["max_features"]))),
        # Character n-grams carry Hindi/Telugu morphology that whole words miss.
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                  max_features=int(cfg["max_features"]))),
    ])
    return make_pipeline(features, LogisticRegression(C=float(cfg["C"]), max_iter=2000,
                                                      class_weight="balanced"))


def _shape(word: str) -> str:
    """Xxx-style word shape; Indic vowel signs and viramas (category M) are skipped so that
    the shape of a Hindi/Telugu word is not the word itself."""
    out = []
    for ch in word:
        if unicodedata.category(ch).startswith("M"):
            continue
        c = "X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else ch if not ch.isalpha() else "a"
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


def token_features(tokens: list[str], i: int) -> dict:
    w = tokens[i]
    f = {"bias": 1.0, "w": w.lower(), "suf2": w[-2:], "suf3": w[-3:], "pre2": w[:2], "pre3": w[:3],
         "shape": _shape(w), "title": w.istitle(), "upper": w.isupper(), "digit": w.isdigit(),
         "len": min(len(w), 10)}
    for off in (-2, -1, 1, 2):
        j = i + off
        if 0 <= j < len(tokens):
            f[f"{off}:w"] = tokens[j].lower()
            f[f"{off}:shape"] = _shape(tokens[j])
            f[f"{off}:suf3"] = tokens[j][-3:]
        else:
            f[f"{off}:edge"] = True
    return f


def sentence_features(tokens: list[str]) -> list[dict]:
    return [token_features(tokens, i) for i in range(len(tokens))]


def run(task: str, lang: str, cfg: dict, data_dir: Path, model_path: Path, metrics_path: Path,
        confusion_path: Path | None = None, seed: int = 42) -> dict:
    train = subsample(io.read_jsonl(data_dir / "train.jsonl"), cfg.get("max_train_samples"), seed)
    test = io.read_jsonl(data_dir / "test.jsonl")
    start = time.time()
    if task == "sentiment":
        model = sentiment_model(cfg).fit([r["text"] for r in train], [r["label"] for r in train])
        gold, pred = [r["label"] for r in test], list(model.predict([r["text"] for r in test]))
        result = sentiment.scores(gold, pred, sentiment.label_list(train))
    else:
        model = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=float(cfg["c1"]), c2=float(cfg["c2"]),
                                     max_iterations=int(cfg["max_iterations"]), all_possible_transitions=True)
        model.fit([sentence_features(r["tokens"]) for r in train], [r["tags"] for r in train])
        pred = model.predict([sentence_features(r["tokens"]) for r in test])
        gold, pred = [r["tags"] for r in test], [list(p) for p in pred]
        result = ner.scores(gold, pred)
    if confusion_path is not None:
        task_module = sentiment if task == "sentiment" else ner
        io.write_json(confusion_path, task_module.confusion_rows(gold, pred), indent=None)
    facts = {"train": {"examples": len(train), "seconds": round(time.time() - start, 1)}}
    with io.atomic_path(model_path) as tmp:
        joblib.dump(model, tmp)
    io.write_json(Layout.run_facts(metrics_path), facts)
    io.write_json(metrics_path, result)
    return result
