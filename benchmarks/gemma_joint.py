"""One Gemma 3 270M for English->Hindi AND English->Telugu, against the pipeline's two per-language
models: a pilot outside the pipeline (docs/translation.md, "One model for both languages").

    python benchmarks/gemma_joint.py                          # ~45 min on a 2-core CPU
    python benchmarks/gemma_joint.py --train-per-lang 16 --dev-sentences 8 --demo-sentences 4   # a smoke run

1. Training: the same pairs each pipeline model saw (translation.generators.gemma3-270m: its
   max_train_samples / max_eval_samples and seed, per language), shuffled together, each pair with
   its own prompt ("...\\nHindi:" or "...\\nTelugu:"), every other setting as the stage's. The
   pipeline's training takes one language per model, so the pair's language travels in front of
   its English side and `generator.prompt` is wrapped here to read it: nothing in src/ changes.
2. Dev chrF++ on the first --dev-sentences FLORES-200 dev sentences per language (what
   mt-gen-evaluate reports as dev), the joint model against models/gemma3-270m/translation/<lang>.
3. The demo's way (int8 weights, greedy, the 2 x source + 8 budget) on --demo-sentences: both
   translations one after the other against one batch of two, their time and chrF++.
Needs `dvc repro mt-gen-train` done (the per-language models and models/pretrained/gemma3-270m).
Speed is measured, never asserted: this is not a test.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import random
import time
from pathlib import Path

import torch

from xlt import io, training
from xlt import params as params_mod
from xlt.demo.analyzer import cast_translation
from xlt.demo.config import demo_config
from xlt.layout import Layout
from xlt.translation import generator as G
from xlt.translation.config import gen_config, gen_decode
from xlt.translation.scores import scores

MODEL, LANGS, SEP = "gemma3-270m", ("hi", "te"), "\x1f"


def _with_lang(prompt):
    def wrapped(en: str, lang: str) -> str:
        if SEP in en:
            lang, en = en.split(SEP, 1)
        return prompt(en, lang)
    return wrapped


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=".", type=Path)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--out", default=Path("/tmp/xlt-gemma-joint"), type=Path, help="the joint model and its data")
    ap.add_argument("--train-per-lang", type=int, help="pairs per language (default: the stage's max_train_samples)")
    ap.add_argument("--dev-per-lang", type=int, default=100, help="dev pairs per language for the dev loss")
    ap.add_argument("--eval-steps", type=int, default=200)
    ap.add_argument("--dev-sentences", type=int, default=200)
    ap.add_argument("--demo-sentences", type=int, default=100)
    a = ap.parse_args()
    p = params_mod.load(a.root / a.params)
    L = Layout(a.root)
    rows: dict[str, list] = {"train": [], "dev": []}
    for lang in LANGS:
        c = gen_config(p, MODEL, lang)
        tr, dv = training.train_dev(L.translation_data(lang), a.train_per_lang or c.max_train_samples,
                                    c.max_eval_samples, c.seed)
        rows["train"] += [{"en": lang + SEP + r["en"], "tgt": r["tgt"]} for r in tr]
        rows["dev"] += [{"en": lang + SEP + r["en"], "tgt": r["tgt"]} for r in dv[:a.dev_per_lang]]
    cfg = dataclasses.replace(gen_config(p, MODEL, LANGS[0]), max_train_samples=None, max_eval_samples=None,
                              eval_steps=a.eval_steps)
    for split, records in rows.items():
        random.Random(cfg.seed).shuffle(records)
        io.write_jsonl(a.out / "data" / f"{split}.jsonl", records)
    G.prompt = _with_lang(G.prompt)
    start = time.time()
    info = G.train(MODEL, LANGS[0], cfg, L.pretrained(MODEL), a.out / "data", a.out / "model", a.out / "loss.csv")
    result: dict = {"train_seconds": round(time.time() - start), "steps": info["steps"], "pairs": info["train_examples"],
                    "output_pieces": info["output_pieces"], "dev_loss": round(info["dev"]["loss"], 4)}
    print(json.dumps(result), flush=True)

    joint, jtok = G.load(a.out / "model")
    decode = gen_decode(p)
    for lang in LANGS:
        dev = io.read_jsonl(L.translation_data(lang) / "dev.jsonl")[:a.dev_sentences]
        refs = [r["tgt"] for r in dev]
        own, otok = G.load(L.mt_model(MODEL, lang))
        joint_hyps = G.translate(joint, jtok, [lang + SEP + r["en"] for r in dev], lang, decode)
        own_hyps = G.translate(own, otok, [r["en"] for r in dev], lang, decode)
        result[f"dev_chrf_{lang}"] = {"joint": round(scores(joint_hyps, refs, lang)["chrf"], 2),
                                      "per_language": round(scores(own_hyps, refs, lang)["chrf"], 2)}
        print(json.dumps(result), flush=True)

    # The demo's decoding (demo.analyzer.Translators): int8 weights (so no autocast), the budget relative to
    # the source; generator.translate with one sentence per batch, or both languages in one batch.
    demo = dataclasses.replace(demo_config(p), translation_dtype="int8")
    model = cast_translation(joint, demo.translation_dtype)
    dev = {lang: io.read_jsonl(L.translation_data(lang) / "dev.jsonl")[:a.demo_sentences] for lang in LANGS}
    if [r["en"] for r in dev["hi"]] != [r["en"] for r in dev["te"]]:
        raise SystemExit("the Hindi and Telugu dev sets do not share their English side")
    hyps = {(lang, mode): [] for lang in LANGS for mode in ("one_after_other", "batch_of_two")}
    seconds = {"one_after_other": 0.0, "batch_of_two": 0.0}
    with torch.inference_mode():
        for r in dev["hi"]:
            budget = min(demo.generate.max_new_tokens, demo.max_new_tokens(len(jtok(r["en"])["input_ids"])))
            one = dataclasses.replace(demo.generate, batch_size=1, max_new_tokens=budget)
            t = time.perf_counter()
            for lang in LANGS:
                hyps[(lang, "one_after_other")] += G.translate(model, jtok, [r["en"]], lang, one)
            seconds["one_after_other"] += time.perf_counter() - t
            t = time.perf_counter()
            both = G.translate(model, jtok, [lang + SEP + r["en"] for lang in LANGS], LANGS[0],
                               dataclasses.replace(one, batch_size=len(LANGS)))
            seconds["batch_of_two"] += time.perf_counter() - t
            for lang, h in zip(LANGS, both):
                hyps[(lang, "batch_of_two")].append(h)
    result["demo_int8"] = {"seconds": {k: round(v, 1) for k, v in seconds.items()},
                           "chrf": {f"{lang} {mode}": round(scores(h, [r["tgt"] for r in dev[lang]], lang)["chrf"], 2)
                                    for (lang, mode), h in hyps.items()}}
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
