"""The near-free sentiment baseline: logistic regression on frozen sentence embeddings.

multilingual-e5 was trained to align sentences across languages; its embedding (the mean of the
last hidden states over the sentence's pieces, with e5's "query: " prefix) already carries
sentiment. A logistic regression fitted on English (+ k target) embeddings costs seconds.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from transformers import AutoModel, AutoTokenizer

PREFIX = "query: "   # e5's prefix for symmetric tasks such as classification


class Embedder:
    def __init__(self, encoder_dir: Path, max_length: int = 128):
        self.tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
        self.model = AutoModel.from_pretrained(encoder_dir).eval()
        self.max_length = max_length
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        todo = sorted({t for t in texts if t not in self._cache}, key=len)
        with torch.inference_mode():
            for start in range(0, len(todo), batch_size):
                chunk = todo[start:start + batch_size]
                enc = self.tokenizer([PREFIX + t for t in chunk], padding=True, truncation=True,
                                     max_length=self.max_length, return_tensors="pt")
                hidden = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                mean = (hidden * mask).sum(1) / mask.sum(1)
                mean = torch.nn.functional.normalize(mean, dim=-1)
                for t, v in zip(chunk, mean.numpy()):
                    self._cache[t] = v
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 1))


def fit_predict(train_x: np.ndarray, train_y: list[str], test_x: np.ndarray, classes: list[str],
                C: float = 1.0) -> np.ndarray:
    """Logistic regression (balanced class weights) -> logits over `classes` for the test rows."""
    clf = LogisticRegression(C=C, max_iter=2000, class_weight="balanced")
    clf.fit(train_x, train_y)
    proba = clf.predict_proba(test_x)
    cols = [list(clf.classes_).index(c) for c in classes]
    return np.log(np.clip(proba[:, cols], 1e-12, None))
