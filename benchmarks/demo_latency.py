"""Latency of the demo for one English sentence end to end: sentiment + NER + translation into
Hindi and Telugu (no speech), as `xlt analyze` / POST /api/analyze run it.

    python benchmarks/demo_latency.py [--root .] [--params params.yaml] [--model me5-small]
        [--mt-model NAME] [-n 50] [--threads N] [--sentences FILE]

Loads the models once (as `xlt serve` does), analyses 2 warm-up sentences, then N sentences one
at a time, and prints the median and 95th percentile of the whole and of each part. Sentences
come from --sentences (one per line) or a built-in English list, cycled to N. Not a test: speed
is measured, never asserted.
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import time
from pathlib import Path

import torch
from transformers.utils import logging as hf_logging

from xlt import params as params_mod
from xlt.demo.analyzer import Analyzer, default_models
from xlt.translation.config import decode_config

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
    ap.add_argument("--mt-model", help="default: --model")
    ap.add_argument("-n", type=int, default=50, help="sentences timed (default 50)")
    ap.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    ap.add_argument("--sentences", type=Path, help="one English sentence per line")
    a = ap.parse_args()
    hf_logging.disable_progress_bar()
    if a.threads:
        torch.set_num_threads(a.threads)
    p = params_mod.load(a.params)
    model, mt_model = default_models(p, a.model, a.mt_model)
    decode = decode_config(p)
    start = time.perf_counter()
    analyzer = Analyzer(a.root, model, mt_model, decode)
    load_s = time.perf_counter() - start
    pool = ([line.strip() for line in a.sentences.read_text(encoding="utf-8").splitlines() if line.strip()]
            if a.sentences else SENTENCES)
    for s in pool[:2]:
        analyzer.analyze(s)
    timings: dict[str, list[float]] = {}
    for i in range(a.n):
        r = analyzer.analyze(pool[i % len(pool)])
        if r["lang"] != "en":
            raise SystemExit(f"not English (detected {r['lang']}): {r['text']!r}; the benchmark times translation too")
        for part, ms in r["timings_ms"].items():
            timings.setdefault(part, []).append(ms)

    print(f"demo latency: {a.n} English sentences, models {model} (sentiment, NER) + {mt_model} (translation "
          f"en->hi, en->te; beams {decode.num_beams}, max {decode.max_new_tokens} new tokens), root {a.root}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch "
          f"{torch.__version__} with {torch.get_num_threads()} threads; models loaded in {load_s:.1f} s")
    print(f"{'part':<16}{'median ms':>12}{'p95 ms':>12}")
    for part in ("sentiment", "ner", "translation_hi", "translation_te", "total"):
        if part in timings:
            v = timings[part]
            print(f"{part:<16}{statistics.median(v):>12.1f}{percentile(v, 95):>12.1f}")


if __name__ == "__main__":
    main()
