"""Sentiment analysis: sentence classification, scored by accuracy and macro P/R/F1."""
from __future__ import annotations

import numpy as np
from datasets import Dataset
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding

auto_model = AutoModelForSequenceClassification
headline = "accuracy"


def label_list(train_records: list[dict]) -> list[str]:
    return sorted({r["label"] for r in train_records})


def encode(records: list[dict], tokenizer, label2id: dict, max_length: int) -> Dataset:
    ds = Dataset.from_dict({"text": [r["text"] for r in records],
                            "labels": [label2id[r["label"]] for r in records]})
    return ds.map(lambda b: tokenizer(b["text"], truncation=True, max_length=max_length),
                  batched=True, remove_columns=["text"], desc="tokenising")


def collator(tokenizer):
    return DataCollatorWithPadding(tokenizer)


def decode(logits: np.ndarray, encoded: Dataset, id2label: dict, records: list[dict]) -> list[str]:
    return [id2label[int(i)] for i in np.asarray(logits).argmax(-1)]


def scores(gold: list[str], pred: list[str], labels: list[str] | None = None) -> dict:
    labels = labels or sorted(set(gold) | set(pred))
    p, r, f, _ = precision_recall_fscore_support(gold, pred, labels=labels, average="macro", zero_division=0)
    per_p, per_r, per_f, support = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    return {"accuracy": float(accuracy_score(gold, pred)), "precision": float(p), "recall": float(r),
            "f1": float(f), "n": len(gold),
            "per_class": {lab: {"precision": float(a), "recall": float(b), "f1": float(c), "support": int(s)}
                          for lab, a, b, c, s in zip(labels, per_p, per_r, per_f, support)}}


def dev_metrics(eval_pred, id2label: dict) -> dict:
    """Trainer's compute_metrics on the dev set (for choosing the best epoch)."""
    logits, label_ids = eval_pred
    pred = np.asarray(logits).argmax(-1)
    s = scores([id2label[int(i)] for i in label_ids], [id2label[int(i)] for i in pred])
    return {"accuracy": s["accuracy"], "f1": s["f1"]}


def confusion_rows(gold: list[str], pred: list[str]) -> list[dict]:
    """One row per test example, as DVC's confusion template expects."""
    return [{"actual": g, "predicted": p} for g, p in zip(gold, pred)]


def confusion(gold: list[str], pred: list[str], labels: list[str]) -> list[list[int]]:
    return confusion_matrix(gold, pred, labels=labels).tolist()
