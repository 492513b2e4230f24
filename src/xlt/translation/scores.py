"""Corpus-level sacreBLEU BLEU and chrF++ with their signatures (what the sacrebleu command
line prints for the same files: `sacrebleu REF -i HYP -m bleu chrf --chrf-word-order 2`), and
two checks that expose a model which does not translate: the share of distinct hypotheses
(one sentence written for every input scores near 0) and the share written in the expected
script (at least half of a hypothesis's letters in it; an empty one is not)."""
from __future__ import annotations

from sacrebleu.metrics import BLEU, CHRF

from xlt.translation.data import script_fraction

IN_SCRIPT = 0.5


def scores(hypotheses: list[str], references: list[str], lang: str | None = None) -> dict:
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    if not references:
        raise ValueError("no sentences to score")
    bleu, chrf = BLEU(), CHRF(word_order=2)          # word_order=2: chrF++
    b = bleu.corpus_score(hypotheses, [references])
    c = chrf.corpus_score(hypotheses, [references])
    out = {"bleu": b.score, "chrf": c.score, "sentences": len(references),
           "distinct": len(set(h.strip() for h in hypotheses)) / len(hypotheses)}
    if lang is not None:
        out["in_script"] = sum(script_fraction(h, lang) >= IN_SCRIPT for h in hypotheses) / len(hypotheses)
    out["signature"] = {"bleu": str(bleu.get_signature()), "chrf": str(chrf.get_signature())}
    return out
