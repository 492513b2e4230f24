"""Named entity recognition: token classification over IOB2 tags, scored at entity
level by seqeval. Labels are aligned to subwords with `word_ids()`: the first subword
of each word carries the word's tag, the others are ignored (-100), and predictions
are read back from first subwords."""
from __future__ import annotations

import numpy as np
from datasets import Dataset
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from transformers import AutoModelForTokenClassification, DataCollatorForTokenClassification

auto_model = AutoModelForTokenClassification
headline = "f1"
IGNORE = -100


def label_list(train_records: list[dict]) -> list[str]:
    """O, then B-/I- for every entity type seen in training (both, even if I- is unseen)."""
    types = sorted({t[2:] for r in train_records for t in r["tags"] if t != "O"})
    return ["O"] + [f"{p}-{t}" for t in types for p in ("B", "I")]


def align_labels(word_ids: list[int | None], word_labels: list[int]) -> list[int]:
    """Label only the first subword of each word; special tokens and continuations get -100."""
    out, prev = [], None
    for w in word_ids:
        out.append(IGNORE if w is None or w == prev else word_labels[w])
        prev = w
    return out


def encode(records: list[dict], tokenizer, label2id: dict, max_length: int) -> Dataset:
    # A tag unseen in training (a type only in dev/test) cannot be predicted; it is
    # trained as O here and still counted as a miss by the test scorer.
    ds = Dataset.from_dict({"tokens": [r["tokens"] for r in records],
                            "tags": [[label2id.get(t, 0) for t in r["tags"]] for r in records]})

    def tokenize(batch):
        enc = tokenizer(batch["tokens"], is_split_into_words=True, truncation=True, max_length=max_length)
        enc["labels"] = [align_labels(enc.word_ids(i), tags) for i, tags in enumerate(batch["tags"])]
        return enc

    return ds.map(tokenize, batched=True, remove_columns=["tokens", "tags"], desc="tokenising")


def collator(tokenizer):
    return DataCollatorForTokenClassification(tokenizer)


def _word_predictions(logits, labels, id2label) -> list[list[str]]:
    pred_ids = np.asarray(logits).argmax(-1)
    out = []
    for p_row, l_row in zip(pred_ids, np.asarray(labels)):
        out.append([id2label[int(p)] for p, l in zip(p_row, l_row) if l != IGNORE])
    return out


def decode(logits: np.ndarray, encoded: Dataset, id2label: dict, records: list[dict]) -> list[list[str]]:
    """Tag per word. Words cut off by truncation get 'O' (so they count as misses)."""
    preds = _word_predictions(logits, _padded(encoded["labels"], np.asarray(logits).shape[1]), id2label)
    return [p + ["O"] * (len(r["tokens"]) - len(p)) for p, r in zip(preds, records)]


def _padded(rows, width: int) -> np.ndarray:
    out = np.full((len(rows), width), IGNORE)
    for i, row in enumerate(rows):
        out[i, :len(row)] = row
    return out


def scores(gold: list[list[str]], pred: list[list[str]]) -> dict:
    report = classification_report(gold, pred, output_dict=True, zero_division=0)
    per_type = {k: {"precision": float(v["precision"]), "recall": float(v["recall"]),
                    "f1": float(v["f1-score"]), "support": int(v["support"])}
                for k, v in report.items() if not k.endswith(" avg")}
    return {"precision": float(precision_score(gold, pred, zero_division=0)),
            "recall": float(recall_score(gold, pred, zero_division=0)),
            "f1": float(f1_score(gold, pred, zero_division=0)),
            "n": len(gold), "per_type": per_type}


def dev_metrics(eval_pred, id2label: dict) -> dict:
    logits, labels = eval_pred
    pred = _word_predictions(logits, labels, id2label)
    gold = [[id2label[int(l)] for l in row if l != IGNORE] for row in np.asarray(labels)]
    s = scores(gold, pred)
    return {"precision": s["precision"], "recall": s["recall"], "f1": s["f1"]}


def confusion_rows(gold: list[list[str]], pred: list[list[str]]) -> list[dict]:
    """Token-level entity-type confusion (B-/I- merged), for DVC's confusion template."""
    return [{"actual": g[2:] if g != "O" else "O", "predicted": p[2:] if p != "O" else "O"}
            for gs, ps in zip(gold, pred) for g, p in zip(gs, ps)]
