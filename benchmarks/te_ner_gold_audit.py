"""How much of Telugu zero-shot NER's low precision is names the gold standard leaves untagged.

Reading the spans the English source models tag on Telugu test text where IL-NER has no entity
(docs/transfer.md, *What the numbers say*) found persons, places and organisations the
annotation leaves as O. This script tags those names (listed below, as read by one reader: an
explanation, not a re-annotation) in a copy of the gold and prints each seed's strict F1 on PER /
LOC / ORG as annotated and with the names added. Needs the trained source models
(`dvc repro transfer-source` or `dvc pull models/transfer`); about a minute per seed here.

    python benchmarks/te_ner_gold_audit.py [--root .] [--seeds 1 2 3] [--spurious FILE]

--spurious FILE writes every span seed 1 tags where the gold has no entity at all (one JSON list)
for a reader to go through.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (words, shared type): names left untagged in IL-NER's Telugu test set, found among the
# spurious spans of the seed-1 English model (2026-12-02).
UNTAGGED_NAMES = [
    ("నరేంద్ర మోదీ", "PER"),              # Narendra Modi
    ("బల్వంత్ రాయ్ మెహతా", "PER"),         # Balwant Rai Mehta
    ("ఛబిల్ దాస్ మెహతా", "PER"),           # Chhabil Das Mehta
    ("ఎన్. ప్రభాకరన్", "PER"),             # N. Prabhakaran
    ("టి. డి. రామకృష్ణన్", "PER"),          # T. D. Ramakrishnan
    ("ఏలూరు", "LOC"),                     # Eluru
    ("రాజన్న సిరిసిల్ల జిల్లా", "LOC"),       # Rajanna Sircilla district
    ("ఈస్ట్ ఇండియా కంపెనీ", "ORG"),         # the East India Company
    ("వైస్రాయ్స్ కౌన్సిల్", "ORG"),          # the Viceroy's Council
    ("నీతి ఆయోగ్", "ORG"),                 # NITI Aayog
    ("జలశక్తి మంత్రిత్వ శాఖ", "ORG"),        # the Jal Shakti ministry
]


def with_names(records: list[dict], gold: list[list[str]]) -> tuple[list[list[str]], int]:
    """A copy of `gold` with every whole-phrase occurrence of UNTAGGED_NAMES tagged where the
    gold has only O; the number of spans added."""
    fixed, added = [list(g) for g in gold], 0
    for record, tags in zip(records, fixed):
        words = record["tokens"]
        for phrase, kind in UNTAGGED_NAMES:
            ph = phrase.split()
            for s in range(len(words) - len(ph) + 1):
                if words[s:s + len(ph)] == ph and all(t == "O" for t in tags[s:s + len(ph)]):
                    tags[s:s + len(ph)] = [f"B-{kind}"] + [f"I-{kind}"] * (len(ph) - 1)
                    added += 1
    return fixed, added


def spurious(records: list[dict], gold: list[list[str]], pred: list[list[str]]) -> list[dict]:
    """Predicted spans that overlap no gold entity (of any type), decoded as the scores decode them."""
    from xlt.transfer.labels import spans
    out = []
    for i, (record, g, p) in enumerate(zip(records, gold, pred)):
        gold_spans = spans(g)
        for kind, s, e in spans(p):
            if not any(s <= ge and gs <= e for _, gs, ge in gold_spans):
                out.append({"sentence": i, "type": kind, "span": " ".join(record["tokens"][s:e + 1]),
                            "context": " ".join(record["tokens"][max(0, s - 3):e + 4])})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=ROOT)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--spurious", type=Path)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from xlt import io
    from xlt.config import resolve_bf16
    from xlt.layout import Layout
    from xlt.params import load
    from xlt.transfer import finetune
    from xlt.transfer.labels import space_from_params
    from xlt.transfer.stages import gold_of, score

    p = load(args.root / "params.yaml")
    paths = Layout(args.root)
    space = space_from_params("ner", p["transfer"]["labels"])
    test = io.read_jsonl(paths.transfer_data("ner", "te") / "test.jsonl")
    gold = gold_of("ner", test)
    fixed, added = with_names(test, gold)
    print(f"{added} spans of {len(UNTAGGED_NAMES)} names added to a copy of the gold")
    boot = {"samples": 10, "seed": 0}       # intervals are not the point here
    for seed in args.seeds:
        model, tokenizer = finetune.load("ner", paths.source_model("ner", seed), None)
        pred = finetune.predict(model, tokenizer, "ner", space, "te", test, bf16=resolve_bf16(p["transfer"]["predict_bf16"]))
        row = {}
        for name, g in (("as annotated", gold), ("names added", fixed)):
            s = score("ner", space, g, pred, boot)
            row[name] = {k: round(100 * s[k], 1) for k in ("f1", "precision", "recall")}
        print(f"seed {seed}: " + json.dumps(row, ensure_ascii=False), flush=True)
        if args.spurious and seed == args.seeds[0]:
            io.write_json(args.spurious, spurious(test, gold, pred))


if __name__ == "__main__":
    main()
