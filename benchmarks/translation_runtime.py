"""The demo's translation under each runtime: quality and speed on FLORES-200 dev, one sentence at a time.

    python benchmarks/translation_runtime.py [--root .] [--params params.yaml] [--mt-model NAME] [-n 100]
        [--variants torch:float32 torch:int8 llama.cpp:q8_0 llama.cpp:f16] [--threads N] [--out FILE]

Each variant (runtime:weights) translates the first N English sentences of FLORES-200 dev
(data/translation/<lang>/dev.jsonl, the sentences `mt-evaluate` reports as dev) into Hindi and
Telugu through the demo's own path (xlt.demo.analyzer.Translators: greedy, `demo`'s budget relative
to the source, one sentence at a time), after 2 warm-up sentences. It prints, per variant, chrF++
and BLEU per language (sacreBLEU, xlt.translation.scores), the median and 95th percentile of both
translations of a sentence (the demo translates one after the other), milliseconds per new piece,
and the share of hypotheses identical to the first variant's; --out writes it all as JSON with the
machine and the command. The sentiment and NER models are not loaded (the demo adds their time:
docs/demo.md). Not a test: measured, never asserted.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from transformers.utils import logging as hf_logging

from xlt import io
from xlt import params as params_mod
from xlt.demo.analyzer import MT_LANGS, Translators, default_models
from xlt.demo.config import DTYPES, GGUF_WEIGHTS, demo_config
from xlt.layout import Layout
from xlt.speed import cpu_flags, cpu_model, speed_flags
from xlt.translation.scores import scores

sys.path.insert(0, str(Path(__file__).parent))
from demo_latency import percentile  # noqa: E402  (the benchmarks share their percentile)


def parse_variant(text: str) -> tuple[str, str]:
    runtime, _, weights = text.partition(":")
    allowed = {"torch": DTYPES, "llama.cpp": GGUF_WEIGHTS}
    if runtime not in allowed or weights not in allowed[runtime]:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected torch:<{'|'.join(DTYPES)}> or llama.cpp:<{'|'.join(GGUF_WEIGHTS)}>")
    return runtime, weights


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=".", type=Path)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--mt-model", help="default: demo.translation_model (auto: the best measured dev chrF++)")
    ap.add_argument("-n", type=int, default=100, help="FLORES-200 dev sentences (default 100)")
    ap.add_argument("--variants", nargs="+", type=parse_variant,
                    default=[("torch", "float32"), ("torch", "int8"), ("llama.cpp", "q8_0")])
    ap.add_argument("--threads", type=int, help="torch and llama.cpp threads (default: torch's)")
    ap.add_argument("--out", type=Path, help="write the figures as JSON")
    a = ap.parse_args()
    hf_logging.disable_progress_bar()
    if a.threads:
        torch.set_num_threads(a.threads)
    p = params_mod.load(a.params)
    _, mt_model = default_models(p, None, a.mt_model, a.root)
    base = demo_config(p)
    paths = Layout(a.root)
    dev = {lang: io.read_jsonl(paths.translation_data(lang) / "dev.jsonl")[:a.n] for lang in MT_LANGS}
    if [r["en"] for r in dev["hi"]] != [r["en"] for r in dev["te"]]:
        raise SystemExit("the Hindi and Telugu dev sets do not share their English side")
    sources = [r["en"] for r in dev["hi"]]
    machine = {"cpu": cpu_model(), "arch": platform.machine(), "cpus": os.cpu_count(),
               "flags": speed_flags(cpu_flags()), "torch": torch.__version__, "threads": torch.get_num_threads()}
    print(f"translation runtimes: {mt_model}, {len(sources)} FLORES-200 dev sentences, one at a time; "
          f"machine {machine['cpu']} ({machine['arch']}), {machine['cpus']} CPUs, flags {machine['flags']}, "
          f"{machine['threads']} threads", flush=True)
    results, first = [], None
    for runtime, weights in a.variants:
        cfg = dataclasses.replace(base, translation_runtime=runtime,
                                  **({"gguf_weights": weights} if runtime == "llama.cpp" else {"translation_dtype": weights}))
        start = time.perf_counter()
        translators = Translators(a.root, mt_model, cfg)
        load_s = time.perf_counter() - start
        for s in sources[:2]:
            for lang in MT_LANGS:
                translators(lang, s)
        hyps = {lang: [] for lang in MT_LANGS}
        per_sentence, pieces, seconds = [], 0, 0.0
        for s in sources:
            total = 0.0
            for lang in MT_LANGS:
                t0 = time.perf_counter()
                out = translators(lang, s)
                dt = time.perf_counter() - t0
                total += dt
                hyps[lang].append(out)
                tok = (translators.fast[lang].tokenizer if translators.fast else translators.models[lang][1])
                pieces += len(tok(out + "\n", add_special_tokens=False)["input_ids"])
                seconds += dt
            per_sentence.append(total * 1000)
        row = {"runtime": runtime, "weights": weights, "label": translators.runtime, "load_s": round(load_s, 1),
               "both_ms_median": round(statistics.median(per_sentence), 1),
               "both_ms_p95": round(percentile(per_sentence, 95), 1),
               "ms_per_piece": round(seconds * 1000 / max(pieces, 1), 1)}
        for lang in MT_LANGS:
            sc = scores(hyps[lang], [r["tgt"] for r in dev[lang]], lang)
            row[lang] = {"chrf": round(sc["chrf"], 2), "bleu": round(sc["bleu"], 2), "distinct": sc["distinct"],
                         "in_script": sc["in_script"]}
        if first is None:
            first = hyps
        row["same_as_first"] = {lang: sum(x == y for x, y in zip(hyps[lang], first[lang])) / len(sources)
                                for lang in MT_LANGS}
        results.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
        del translators
    print(f"\n{'variant':<18}{'chrF++ hi':>10}{'chrF++ te':>10}{'BLEU hi/te':>12}{'ms/piece':>10}"
          f"{'both median':>13}{'p95':>8}")
    for r in results:
        print(f"{r['label']:<18}{r['hi']['chrf']:>10.1f}{r['te']['chrf']:>10.1f}"
              f"{r['hi']['bleu']:>6.1f}/{r['te']['bleu']:<5.1f}{r['ms_per_piece']:>10.1f}"
              f"{r['both_ms_median']:>13.0f}{r['both_ms_p95']:>8.0f}")
    if a.out:
        io.write_json(a.out, {"command": "python " + " ".join(sys.argv), "date": time.strftime("%Y-%m-%d"),
                              "model": mt_model, "sentences": len(sources), "machine": machine,
                              "demo": {"budget_ratio": base.max_new_tokens_ratio,
                                       "no_repeat_ngram_size": base.generate.no_repeat_ngram_size},
                              "variants": results})


if __name__ == "__main__":
    main()
