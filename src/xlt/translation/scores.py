"""Corpus-level sacreBLEU BLEU and chrF++ with their signatures (what the sacrebleu command
line prints for the same files: `sacrebleu REF -i HYP -m bleu chrf --chrf-word-order 2`)."""
from __future__ import annotations

from sacrebleu.metrics import BLEU, CHRF


def scores(hypotheses: list[str], references: list[str]) -> dict:
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    bleu, chrf = BLEU(), CHRF(word_order=2)          # word_order=2: chrF++
    b = bleu.corpus_score(hypotheses, [references])
    c = chrf.corpus_score(hypotheses, [references])
    return {"bleu": b.score, "chrf": c.score, "sentences": len(references),
            "signature": {"bleu": str(bleu.get_signature()), "chrf": str(chrf.get_signature())}}
