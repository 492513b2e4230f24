"""Scores on the shared label spaces, with bootstrap 95% intervals over test items.

Sentiment: accuracy and macro-F1 (scikit-learn) over the scored classes, with the majority-class
baseline beside them (IITP's positive/negative test subset is 78% positive: accuracy alone misleads).
NER: strict entity F1 (seqeval: type and both boundaries exact) and overlap F1 (type equal, spans
overlap, each gold span matched at most once), so that boundary conventions (honorifics, fused case
suffixes, postpositions) can be told apart from entities not found.

The bootstrap resamples test items (sentences for NER) with replacement; the interval is the 2.5th
and 97.5th percentile of the resampled scores. `worth` says what one item (one entity) is worth.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from sklearn.metrics import accuracy_score, f1_score as sk_f1

from xlt.transfer.labels import spans


def sentiment_scores(gold: list[str], pred: list[str], classes: list[str]) -> dict:
    """Accuracy and macro-F1 over `classes` (the shared ones, plus neutral under the threshold
    policy), the majority-class baseline, and per-class F1."""
    if not gold:
        raise ValueError("no test items to score")
    majority, count = Counter(gold).most_common(1)[0]
    per = sk_f1(gold, pred, labels=classes, average=None, zero_division=0)
    return {"accuracy": float(accuracy_score(gold, pred)),
            "f1": float(sk_f1(gold, pred, labels=classes, average="macro", zero_division=0)),
            "majority": {"class": majority, "accuracy": count / len(gold),
                         # always predicting the majority class: macro-F1 of one non-zero class
                         "f1": float(sk_f1(gold, [majority] * len(gold), labels=classes,
                                           average="macro", zero_division=0))},
            "n": len(gold), "per_class": {c: float(f) for c, f in zip(classes, per)},
            "gold_counts": dict(sorted(Counter(gold).items()))}


def overlap_counts(gold: list[str], pred: list[str]) -> tuple[int, int, int]:
    """(gold spans matched, predicted spans matched, -) under overlap matching: a predicted span
    matches an unmatched gold span of the same type that it overlaps (one to one, left to right)."""
    g_spans, p_spans = spans(gold), spans(pred)
    used: set[int] = set()
    matched = 0
    for t, s, e in p_spans:
        for j, (gt, gs, ge) in enumerate(g_spans):
            if j not in used and gt == t and s <= ge and gs <= e:
                used.add(j)
                matched += 1
                break
    return matched, len(p_spans), len(g_spans)


def _prf(tp: float, n_pred: float, n_gold: float) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def ner_scores(gold: list[list[str]], pred: list[list[str]]) -> dict:
    """Strict (seqeval) and overlap P/R/F1, per-type strict scores, entity counts."""
    if not gold:
        raise ValueError("no test sentences to score")
    report = classification_report(gold, pred, output_dict=True, zero_division=0)
    per_type = {k: {"precision": float(v["precision"]), "recall": float(v["recall"]),
                    "f1": float(v["f1-score"]), "support": int(v["support"])}
                for k, v in report.items() if not k.endswith(" avg")}
    counts = np.array([overlap_counts(g, p) for g, p in zip(gold, pred)]).sum(0)
    op, orr, of = _prf(*counts)
    return {"f1": float(f1_score(gold, pred, zero_division=0)),
            "precision": float(precision_score(gold, pred, zero_division=0)),
            "recall": float(recall_score(gold, pred, zero_division=0)),
            "overlap": {"precision": op, "recall": orr, "f1": of},
            "n": len(gold), "entities": int(counts[2]), "per_type": per_type}


# --------------------------------------------------------------------------- bootstrap


def _strict_counts(gold: list[str], pred: list[str]) -> tuple[int, int, int]:
    g, p = set(spans(gold)), set(spans(pred))
    return len(g & p), len(p), len(g)


def bootstrap(task: str, gold: list, pred: list, classes: list[str] | None = None,
              samples: int = 1000, seed: int = 0) -> dict:
    """95% percentile intervals of the headline scores, resampling test items.

    Per-item statistics are summed over each resample, so 1,000 resamples take milliseconds:
    sentiment: the (gold, pred) cell of each item; NER: strict and overlap (tp, predicted, gold)."""
    rng = np.random.default_rng(seed)
    n = len(gold)
    idx = rng.integers(0, n, size=(samples, n))
    if task == "sentiment":
        classes = list(classes)
        pos = {c: i for i, c in enumerate(classes)}
        extra = len(classes)          # a prediction outside the scored classes
        g = np.array([pos[x] for x in gold])
        p = np.array([pos.get(x, extra) for x in pred])
        acc = (g == p)[idx].mean(1)
        f1s = []
        for c in range(len(classes)):
            tp = ((g == c) & (p == c))[idx].sum(1)
            fp = ((g != c) & (p == c))[idx].sum(1)
            fn = ((g == c) & (p != c))[idx].sum(1)
            denom = 2 * tp + fp + fn
            f1s.append(np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0))
        out = {"accuracy": acc, "f1": np.mean(f1s, axis=0)}
    else:
        strict = np.array([_strict_counts(a, b) for a, b in zip(gold, pred)])[idx].sum(1)
        over = np.array([overlap_counts(a, b) for a, b in zip(gold, pred)])[idx].sum(1)
        out = {"f1": _f1_rows(strict), "overlap_f1": _f1_rows(over)}
    return {k: [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))] for k, v in out.items()} \
        | {"samples": samples, "seed": seed}


def _f1_rows(c: np.ndarray) -> np.ndarray:
    tp, n_pred, n_gold = c[:, 0].astype(float), c[:, 1], c[:, 2]
    denom = n_pred + n_gold
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def worth(task: str, scores: dict) -> dict:
    """What one more or one fewer correct item is worth, in points: of accuracy (sentiment),
    of recall overall and per type (NER: one entity)."""
    if task == "sentiment":
        return {"one_item_accuracy_points": 100 / scores["n"]}
    out = {"one_entity_recall_points": 100 / max(scores["entities"], 1)}
    out["per_type"] = {t: 100 / v["support"] for t, v in scores["per_type"].items() if v["support"]}
    return out
