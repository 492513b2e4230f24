"""Latency of the demo for one English sentence end to end: sentiment + NER + translation into
Hindi and Telugu (no speech), as `xlt analyze` / POST /api/analyze run it.

    python benchmarks/demo_latency.py [--root .] [--params params.yaml] [--model me5-small]
        [--mt-model NAME] [-n 50] [--threads N] [--sentences FILE | --flores-dev]
        [--num-beams N] [--translation-dtype float32|bfloat16] [--parallel | --sequential]
        [--max-new-tokens-ratio R | --no-ratio] [--autocast | --no-autocast]
        [--translation-runtime auto|torch|llama.cpp] [--gguf-weights q8_0|f16|f32]
    python benchmarks/demo_latency.py --url http://127.0.0.1:8000/ [-n 50] [--sentences FILE | --flores-dev]

Loads the models once (as `xlt serve` does), analyses 2 warm-up sentences, then N sentences one
at a time, and prints the median and 95th percentile of the whole (wall time) and of each part.
Sentences come from --sentences (one per line), --flores-dev (the English side of FLORES-200 dev,
news-length sentences as users paste them, from data/translation/hi/dev.jsonl) or a built-in list
of short English sentences, cycled to N. The translation model is demo.translation_model (auto:
the best measured dev chrF++) unless --mt-model names one. The
settings are params.yaml's `demo` section; the options override them, to compare variants. With
--url it loads nothing and times a running `xlt serve` instead: each sentence is one POST
/api/analyze, timed from request to parsed answer (`request`), beside the server's own parts. Not a
test: speed is measured, never asserted.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import os
import platform
import statistics
import time
from pathlib import Path

import torch
from transformers.utils import logging as hf_logging

from xlt import io
from xlt import params as params_mod
from xlt.demo.analyzer import Analyzer, default_models
from xlt.speed import cpu_model
from xlt.demo.config import DTYPES, GGUF_WEIGHTS, RUNTIMES, demo_config

SENTENCES = [
    "The phone is light, fast and the battery easily lasts two days.",
    "Ravi moved from Hyderabad to Delhi last year to work for Infosys.",
    "The film was far too long and the songs were forgettable.",
    "Prime Minister Narendra Modi spoke to farmers in Varanasi on Monday.",
    "I would not recommend this hotel to anyone.",
    "The Reserve Bank of India kept interest rates unchanged.",
    "Sachin Tendulkar scored a century against Australia in Chennai.",
    "The camera quality is excellent even in low light.",
    "Heavy rain flooded several roads in Mumbai this morning.",
    "The delivery was late and the box was damaged.",
    "Sita and her brother visited the Golconda Fort during the holidays.",
    "This is the best biryani I have eaten in years.",
    "The new metro line connects the airport with the city centre.",
    "Customer service never answered my emails.",
    "Google opened a new office in Bengaluru with two thousand employees.",
    "The story is simple but the acting is wonderful.",
    "Tickets for the match in Kolkata sold out within an hour.",
    "The screen cracked after a week of normal use.",
    "Dr. Reddy's Laboratories announced a new vaccine trial.",
    "Children in the village now walk to a school that opened in June.",
]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=".", type=Path)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--model", help="default: the first of run.models")
    ap.add_argument("--mt-model", help="default: demo.translation_model (auto: the best measured dev chrF++)")
    ap.add_argument("-n", type=int, default=50, help="sentences timed (default 50)")
    ap.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    ap.add_argument("--sentences", type=Path, help="one English sentence per line")
    ap.add_argument("--flores-dev", action="store_true",
                    help="the English side of FLORES-200 dev (data/translation/hi/dev.jsonl under --root)")
    ap.add_argument("--num-beams", type=int, help="override demo.decode.num_beams")
    ap.add_argument("--translation-dtype", choices=DTYPES, help="override demo.translation_dtype")
    ap.add_argument("--parallel", dest="parallel", action="store_true", default=None,
                    help="translate into Hindi and Telugu on two threads")
    ap.add_argument("--sequential", dest="parallel", action="store_false", help="one translation after the other")
    ap.add_argument("--max-new-tokens-ratio", type=float, help="override demo.max_new_tokens_ratio")
    ap.add_argument("--no-ratio", action="store_true", help="no budget relative to the source length")
    ap.add_argument("--autocast", dest="autocast", action="store_true", default=None, help="bfloat16 autocast")
    ap.add_argument("--no-autocast", dest="autocast", action="store_false")
    ap.add_argument("--translation-runtime", choices=RUNTIMES, default="auto",
                    help="auto (default, as `xlt serve` and `xlt analyze`: llama.cpp for a generator, torch for an "
                         "encoder-decoder), torch, or llama.cpp: a generator exported to GGUF (xlt.demo.llamacpp)")
    ap.add_argument("--gguf-weights", choices=GGUF_WEIGHTS, help="the GGUF matrices under llama.cpp (default q8_0)")
    ap.add_argument("--url", help="time a running `xlt serve` at this address through POST /api/analyze")
    a = ap.parse_args()
    if a.url:
        return time_server(a)
    hf_logging.disable_progress_bar()
    if a.threads:
        torch.set_num_threads(a.threads)
    p = params_mod.load(a.params)
    model, mt_model = default_models(p, a.model, a.mt_model, a.root)
    cfg = demo_config(p)
    decode = dataclasses.replace(cfg.decode, **{k: v for k, v in (("num_beams", a.num_beams), ("bf16", a.autocast))
                                                if v is not None})
    generate = dataclasses.replace(cfg.generate, **({} if a.autocast is None else {"bf16": a.autocast}))
    cfg = dataclasses.replace(cfg, decode=decode, generate=generate, **{k: v for k, v in (
        ("translation_dtype", a.translation_dtype), ("parallel_translation", a.parallel),
        ("max_new_tokens_ratio", a.max_new_tokens_ratio), ("translation_runtime", a.translation_runtime),
        ("gguf_weights", a.gguf_weights)) if v is not None})
    if a.no_ratio:
        cfg = dataclasses.replace(cfg, max_new_tokens_ratio=None)
    start = time.perf_counter()
    analyzer = Analyzer(a.root, model, mt_model, cfg)
    load_s = time.perf_counter() - start
    timings, _, what = time_sentences(a, analyzer.analyze)
    print(f"demo latency: {what}, models {model} "
          f"(sentiment, NER) + {mt_model} ({analyzer.mt_family}; translation en->hi, en->te), root {a.root}")
    if analyzer.mt_family == "generator":
        g = cfg.generate
        print(f"translation: greedy, at most {g.max_new_tokens} new tokens"
              + (f" and {cfg.max_new_tokens_ratio:g} x source pieces + 8" if cfg.max_new_tokens_ratio else "")
              + f", no_repeat_ngram {g.no_repeat_ngram_size}, runtime {analyzer.runtime}"
              + ("" if analyzer.fast else f", bf16 autocast {'on' if g.bf16 else 'off'}") + ", "
              + ("in parallel on two threads" if cfg.parallel_translation else "one after the other"))
    else:
        print(f"translation: beams {decode.num_beams}, at most {decode.max_new_tokens} new tokens"
              + (f" and {cfg.max_new_tokens_ratio:g} x source pieces + 8" if cfg.max_new_tokens_ratio else "")
              + f", weights {cfg.translation_dtype}, bf16 autocast {'on' if decode.bf16 else 'off'}, "
              + ("in parallel on two threads" if cfg.parallel_translation else "one after the other"))
    print(f"machine: {cpu_model()} ({platform.machine()}), {os.cpu_count()} CPUs, torch "
          f"{torch.__version__} with {torch.get_num_threads()} threads; models loaded in {load_s:.1f} s")
    print_parts(timings)


def sentences(a) -> list[str]:
    if a.flores_dev:
        return [r["en"] for r in io.read_jsonl(a.root / "data/translation/hi/dev.jsonl")]
    if a.sentences:
        return [line.strip() for line in a.sentences.read_text(encoding="utf-8").splitlines() if line.strip()]
    return SENTENCES


def time_sentences(a, analyze) -> tuple[dict[str, list[float]], dict, str]:
    """2 warm-up sentences, then a.n one at a time through analyze (text -> the analysis with its
    timings_ms): every part's times, the last answer, and what was timed in words."""
    pool = sentences(a)
    for s in pool[:2]:
        analyze(s)
    timings: dict[str, list[float]] = {}
    for i in range(a.n):
        r = analyze(pool[i % len(pool)])
        if r["lang"] != "en":
            raise SystemExit(f"not English (detected {r['lang']}): {r['text']!r}; the benchmark times translation too")
        for part, ms in r["timings_ms"].items():
            timings.setdefault(part, []).append(ms)
    words = statistics.median(len(pool[i % len(pool)].split()) for i in range(a.n))
    source = "FLORES-200 dev" if a.flores_dev else str(a.sentences) if a.sentences else "built-in"
    return timings, r, f"{a.n} English sentences ({source}, median {words:g} words)"


def print_parts(timings: dict[str, list[float]]) -> None:
    print(f"{'part':<16}{'median ms':>12}{'p95 ms':>12}")
    for part in ("sentiment", "ner", "translation_hi", "translation_te", "total", "request"):
        if part in timings:
            v = timings[part]
            print(f"{part:<16}{statistics.median(v):>12.1f}{percentile(v, 95):>12.1f}")


def time_server(a) -> None:
    """The same sentences through a running `xlt serve`, one request at a time."""
    import json
    import urllib.request

    def post(text: str) -> dict:
        req = urllib.request.Request(a.url.rstrip("/") + "/api/analyze", data=json.dumps({"text": text}).encode(),
                                     headers={"Content-Type": "application/json"})
        start = time.perf_counter()
        with urllib.request.urlopen(req, timeout=600) as resp:
            answer = json.loads(resp.read())
        answer["timings_ms"]["request"] = (time.perf_counter() - start) * 1000
        return answer

    timings, r, what = time_sentences(a, post)
    print(f"demo latency through {a.url}: {what}, models "
          f"{r['model']} (sentiment, NER) + {r['translation_model']} ({r['translation_family']}, "
          f"{r['translation_runtime']})")
    print(f"client machine: {cpu_model()} ({platform.machine()}), {os.cpu_count()} CPUs")
    print_parts(timings)


if __name__ == "__main__":
    main()
