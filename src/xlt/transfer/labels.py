"""The label spaces English shares with Hindi and Telugu, declared in params.yaml (`transfer.labels`).

Sentiment: the classes both sides have ({negative, positive}). SST-2 has no neutral class, so a
target item whose gold label is neutral is either dropped from transfer scoring (`neutral: drop`,
counted) or kept as a third gold class that a model predicts when its largest shared-class
probability is below a threshold fixed in advance (`neutral: threshold`).

NER: PER/LOC/ORG. Each dataset's own types map onto them (CoNLL PER/LOC/ORG; IL-NER NEP/NEL/NEO);
every other type (CoNLL MISC; IL-NER numbers, times, artefacts, units) becomes O. The mapping
works on decoded spans, not on single tags, so a broken sequence such as `B-ORG I-MISC` is split
into its spans first and treated identically in gold and predictions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from seqeval.metrics.sequence_labeling import get_entities

NEUTRAL = "neutral"


@dataclass(frozen=True)
class SentimentSpace:
    classes: tuple[str, ...]             # the shared classes, in the models' label order
    neutral: str = "drop"                # drop | threshold
    neutral_threshold: float = 0.6       # used with neutral: threshold

    @classmethod
    def from_params(cls, section: dict) -> "SentimentSpace":
        """transfer.labels.sentiment, checked by xlt.config.SentimentLabels."""
        from xlt import config
        s = config.check(config.SentimentLabels, section, "transfer.labels.sentiment")
        return cls(tuple(s.classes), s.neutral, s.neutral_threshold)

    def keep_gold(self, label: str) -> bool:
        """Whether a gold item is scored (neutral only under the threshold policy)."""
        return label in self.classes or (label == NEUTRAL and self.neutral == "threshold")

    def predict(self, logits: np.ndarray, model_labels: list[str]) -> list[str]:
        """Predictions from a model's logits: argmax over the shared classes only (a 3-class
        in-language model's neutral is not a shared class), and neutral below the threshold."""
        missing = [c for c in self.classes if c not in model_labels]
        if missing:
            raise ValueError(f"the model has no class {missing} (its classes: {model_labels})")
        cols = [model_labels.index(c) for c in self.classes]
        z = np.asarray(logits, dtype=np.float64)[:, cols]
        prob = np.exp(z - z.max(1, keepdims=True))
        prob /= prob.sum(1, keepdims=True)
        out = [self.classes[i] for i in prob.argmax(1)]
        if self.neutral == "threshold":
            out = [NEUTRAL if p < self.neutral_threshold else o for o, p in zip(out, prob.max(1))]
        return out


@dataclass(frozen=True)
class NerSpace:
    types: tuple[str, ...]               # the shared types
    mapping: dict                        # lang -> {dataset type: shared type}; others -> O

    @classmethod
    def from_params(cls, section: dict) -> "NerSpace":
        """transfer.labels.ner, checked by xlt.config.NerLabels."""
        from xlt import config
        s = config.check(config.NerLabels, section, "transfer.labels.ner")
        return cls(tuple(s.types), {lang: dict(m) for lang, m in s.map.model_dump(exclude_unset=True).items()
                                    if m is not None})

    def labels(self) -> list[str]:
        """The shared tag set in model order: O, then B-/I- per type."""
        return ["O"] + [f"{p}-{t}" for t in self.types for p in ("B", "I")]

    def map_tags(self, tags: list[str], lang: str) -> list[str]:
        """IOB tags of one sentence -> IOB2 tags in the shared space (span level)."""
        if lang not in self.mapping:
            raise ValueError(f"transfer.labels.ner.map has no entry for '{lang}'")
        return map_spans(tags, self.mapping[lang])


def map_spans(tags: list[str], mapping: dict) -> list[str]:
    """Decode spans (seqeval's rules: an I- after O or after another type starts a span),
    rename each span's type through `mapping`, drop spans whose type is not mapped, re-encode IOB2."""
    out = ["O"] * len(tags)
    for etype, start, end in get_entities(list(tags)):
        new = mapping.get(etype)
        if new is None:
            continue
        out[start] = f"B-{new}"
        for i in range(start + 1, end + 1):
            out[i] = f"I-{new}"
    return out


def spans(tags: list[str]) -> list[tuple[str, int, int]]:
    """(type, first, last) of every entity (inclusive ends), seqeval's decoding."""
    return [(t, s, e) for t, s, e in get_entities(list(tags))]


def space_from_params(task: str, labels_section: dict):
    """The label space of `task` from transfer.labels (checked by xlt.config.Labels)."""
    from xlt import config
    labels = config.check(config.Labels, labels_section, "transfer.labels")
    return SentimentSpace.from_params(labels.sentiment.model_dump()) if task == "sentiment" \
        else NerSpace.from_params(labels.ner.model_dump(exclude_unset=True))
