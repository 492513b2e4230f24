"""What a decoding budget relative to the source costs and saves, read off the stage's own output.

    python benchmarks/decoding_budget.py [--model gemma3-270m] [--ratios 2 2.5 3 4 5 6] [--out FILE]

Greedy decoding is prefix-consistent: stopping after N new pieces yields the first N pieces of the
unstopped translation. So the translations `mt-gen-evaluate` wrote (predictions/<model>/translation/
<lang>/<test set>.txt, decoded with the flat `translation.generate.max_new_tokens`) show, without
running the model, what the demo's budget (`ratio x source pieces + 8`, capped by the decoding
settings' max_new_tokens: xlt.demo.config.DemoConfig.budget, with `demo.max_new_tokens_ratio` set to
each ratio in turn) would give: each hypothesis is re-tokenised with the model's tokenizer, cut at its
budget, detokenised and scored (sacreBLEU chrF++ / BLEU, xlt.translation.scores). It reports per
language and test set: how many hypotheses the budget cuts, the scores, and the decoding work of the
stage's batching (length-sorted batches of `translation.generate.batch_size`; a batch runs until
its longest row stops), as row-steps, against the flat budget's. The re-tokenisation round trip is
counted (a hypothesis whose pieces do not detokenise back to itself is scored as written).
Not a test: measured, never asserted.
"""
from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
from pathlib import Path

from transformers import AutoTokenizer

from xlt import io
from xlt import params as params_mod
from xlt.demo.config import DemoConfig, demo_config
from xlt.translation import config as mt_config
from xlt.translation.scores import scores


def budget_table(tokenizer, sources: list[str], hypotheses: list[str], references: list[str], lang: str,
                 ratios: list[float], demo: DemoConfig, flat: int, batch_size: int) -> dict:
    src = [len(tokenizer(s)["input_ids"]) for s in sources]          # with <bos>, as the demo counts
    pieces = [tokenizer(f" {h}", add_special_tokens=False)["input_ids"] for h in hypotheses]
    round_trip = sum(tokenizer.decode(p).strip() == h.strip() for p, h in zip(pieces, hypotheses))
    # +1: the end of line that stopped the row (a hypothesis that hit the flat budget had none)
    steps = [min(flat, len(p) + 1) for p in pieces]
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))      # xlt.translation.generator

    def row_steps(budget) -> int:
        return sum(len(b) * max(min(steps[i], budget(i)) for i in b)
                   for b in (order[s:s + batch_size] for s in range(0, len(order), batch_size)))

    rows = [{"ratio": None, "cut": 0, "hit_flat_budget": sum(s >= flat for s in steps),
             **_scored(hypotheses, references, lang), "row_steps": row_steps(lambda i: flat)}]
    for r in ratios:
        demo_r = dataclasses.replace(demo, max_new_tokens_ratio=r)
        budget = lambda i, d=demo_r: min(flat, d.budget(src[i], generator=True))
        cut = [i for i in range(len(hypotheses)) if steps[i] > budget(i)]
        hyps = list(hypotheses)
        for i in cut:
            hyps[i] = tokenizer.decode(pieces[i][:budget(i)]).strip()
        rows.append({"ratio": r, "cut": len(cut), **_scored(hyps, references, lang), "row_steps": row_steps(budget)})
    return {"sentences": len(sources), "round_trip": round_trip, "useful_steps": sum(steps), "rows": rows}


def _scored(hyps, refs, lang) -> dict:
    s = scores(hyps, refs, lang)
    return {"chrf": round(s["chrf"], 2), "bleu": round(s["bleu"], 2)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="gemma3-270m")
    ap.add_argument("--langs", nargs="+", default=["hi", "te"])
    ap.add_argument("--ratios", nargs="+", type=float, default=[2.0, 2.5, 3.0, 4.0, 5.0, 6.0])
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    p = params_mod.load()
    gen, demo = mt_config.gen_decode(p), demo_config(p)
    tokenizer = AutoTokenizer.from_pretrained(f"models/pretrained/{a.model}")
    result = {"model": a.model, "flat_budget": gen.max_new_tokens, "batch_size": gen.batch_size,
              "demo_caps": {"decode.max_new_tokens": demo.decode.max_new_tokens,
                            "generate.max_new_tokens": demo.generate.max_new_tokens},
              "command": " ".join(["python"] + sys.argv), "python": platform.python_version(), "sets": []}
    for lang in a.langs:
        metrics = io.read_json(Path(f"metrics/{a.model}/translation/{lang}.json"))
        for pred in sorted(Path(f"predictions/{a.model}/translation/{lang}").glob("*.txt")):
            # a secondary set may be capped to its first N sentences (translation.test_sets)
            n = metrics["test_sets"][pred.stem]["sentences"]
            records = io.read_jsonl(Path(f"data/translation/{lang}/test/{pred.stem}.jsonl"))[:n]
            hyps = pred.read_text(encoding="utf-8").split("\n")[:len(records)]
            if len(hyps) != len(records):
                sys.exit(f"{pred}: {len(hyps)} hypotheses for {len(records)} test sentences")
            t = budget_table(tokenizer, [r["en"] for r in records], hyps, [r["tgt"] for r in records], lang,
                             a.ratios, demo, gen.max_new_tokens, gen.batch_size)
            if t["rows"][0]["chrf"] != round(metrics["test_sets"][pred.stem]["chrf"], 2):
                sys.exit(f"{pred}: re-scored chrF++ {t['rows'][0]['chrf']} differs from the stage's metrics")
            result["sets"].append({"lang": lang, "test_set": pred.stem, **t})
            print(f"\n{lang} {pred.stem}: {t['sentences']} sentences, round trip {t['round_trip']}, "
                  f"useful steps {t['useful_steps']}")
            print(f"{'ratio':>6} {'cut':>5} {'chrF++':>7} {'BLEU':>6} {'row-steps':>10}")
            for r in t["rows"]:
                print(f"{'flat' if r['ratio'] is None else r['ratio']:>6} {r['cut']:>5} {r['chrf']:>7} {r['bleu']:>6} "
                      f"{r['row_steps']:>10}")
    if a.out:
        io.write_json(a.out, result)


if __name__ == "__main__":
    main()
