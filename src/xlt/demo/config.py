"""The `demo` section of params.yaml: how the demo runs its models for one sentence at a time.

    demo:
      translation_model: auto    the translation model: a name, or auto = the best measured dev chrF++
      decode: {...}              overrides of translation.decode (the evaluation's settings)
      generate: {...}            overrides of translation.generate (the generators' greedy decoding)
      translation_dtype: int8       the translation models' weights, cast once at load (float32,
                                    bfloat16, or int8: dynamic quantisation); autocast off unless float32
      parallel_translation: true    English -> Hindi and English -> Telugu on two threads
      max_new_tokens_ratio: 2.0     at most ratio x source pieces + 8 new tokens

Not in params.yaml yet (options of `xlt analyze` / `xlt serve` / benchmarks/demo_latency.py, since
the params model in xlt/config.py is a dependency of every stage and editing it re-records them):
    translation_runtime: torch     or llama.cpp: a fine-tuned generator exported to GGUF and run by
                                   llama.cpp (xlt.demo.llamacpp; the `fast` extra); auto (the
                                   commands' default): llama.cpp for a generator with
                                   translation_dtype float32, else torch
    gguf_weights: q8_0             the exported matrices' type under llama.cpp (q8_0, f16, f32)

Why the demo decodes differently from `mt-evaluate`: evaluation translates batches of 32, where
matrix products dominate and bfloat16 autocast pays; the demo translates one sentence, where
autocast's per-step re-casting of every weight costs more than the products it speeds up
(benchmarks/demo_latency.py and README give the measurements). The cap relative to the source
stops a weak model that loops from running to max_new_tokens on a short sentence.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from xlt import config
from xlt.config import resolve_bf16
from xlt.demo.llamacpp import WEIGHT_TYPES as GGUF_WEIGHTS
from xlt.translation.config import DecodeConfig, _decode, _generate
from xlt.translation.generator import GenDecode

DTYPES = config.DEMO_DTYPES
RUNTIMES = ("auto", "torch", "llama.cpp")


@dataclass(frozen=True)
class DemoConfig:
    decode: DecodeConfig
    generate: GenDecode = GenDecode()
    translation_model: str = "auto"
    translation_dtype: str = "float32"
    parallel_translation: bool = False
    max_new_tokens_ratio: float | None = None
    translation_runtime: str = "torch"
    gguf_weights: str = "q8_0"

    def __post_init__(self):
        if self.translation_runtime not in RUNTIMES:
            raise ValueError(f"translation runtime {self.translation_runtime!r}: expected one of {', '.join(RUNTIMES)}")
        if self.gguf_weights not in GGUF_WEIGHTS:
            raise ValueError(f"GGUF weights {self.gguf_weights!r}: expected one of {', '.join(GGUF_WEIGHTS)}")
        if self.translation_dtype != "float32":
            # Weights already cast: autocast would only re-cast the other operations' activations,
            # and torch's int8 layers refuse bfloat16 input. Here, so that dataclasses.replace keeps it.
            object.__setattr__(self, "decode", dataclasses.replace(self.decode, bf16=False))
            object.__setattr__(self, "generate", dataclasses.replace(self.generate, bf16=False))

    def max_new_tokens(self, source_pieces: int) -> int:
        """The decoding budget for a source of this many pieces."""
        if self.max_new_tokens_ratio is None:
            return self.decode.max_new_tokens
        return min(self.decode.max_new_tokens, int(self.max_new_tokens_ratio * source_pieces) + 8)

    def budget(self, source_pieces: int, generator: bool) -> int:
        """The most new pieces one translation may have: max_new_tokens, and for a generator also
        its own translation.generate.max_new_tokens."""
        if generator:
            return min(self.generate.max_new_tokens, self.max_new_tokens(source_pieces))
        return self.max_new_tokens(source_pieces)


def demo_config(p: dict) -> DemoConfig:
    """translation.decode overridden by demo.decode, plus the demo's own settings (xlt.config.Demo)."""
    decode, generate = _decode(p), _generate(p)
    demo = config.section(p, ("demo",), config.Demo) or config.Demo()
    if demo.decode is not None:
        decode.update(demo.decode.model_dump(exclude_unset=True))
    if demo.generate is not None:
        generate.update(demo.generate.model_dump(exclude_unset=True))
    return DemoConfig(decode=DecodeConfig(**decode),
                      generate=GenDecode(**{**generate, "bf16": resolve_bf16(generate["bf16"])}),
                      translation_model=demo.translation_model, translation_dtype=demo.translation_dtype,
                      parallel_translation=demo.parallel_translation, max_new_tokens_ratio=demo.max_new_tokens_ratio)
