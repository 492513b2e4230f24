"""The `demo` section of params.yaml: how the demo runs its models for one sentence at a time.

    demo:
      translation_model: auto    the translation model: a name, or auto = the best measured dev chrF++
      decode: {...}              overrides of translation.decode (the evaluation's settings)
      generate: {...}            overrides of translation.generate (the generators' greedy decoding)
      translation_dtype: bfloat16   the translation models' weights, cast once at load
      parallel_translation: true    English -> Hindi and English -> Telugu on two threads
      max_new_tokens_ratio: 2.0     at most ratio x source pieces + 8 new tokens

Why the demo decodes differently from `mt-evaluate`: evaluation translates batches of 32, where
matrix products dominate and bfloat16 autocast pays; the demo translates one sentence, where
autocast's per-step re-casting of every weight costs more than the products it speeds up
(benchmarks/demo_latency.py and README give the measurements). The cap relative to the source
stops a weak model that loops from running to max_new_tokens on a short sentence.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from xlt.params import ParamsError, _bf16, _bool
from xlt.translation.config import DecodeConfig, _cast
from xlt.translation.generator import GenDecode

DTYPES = ("float32", "bfloat16")


@dataclass(frozen=True)
class DemoConfig:
    decode: DecodeConfig
    generate: GenDecode = GenDecode()
    translation_model: str = "auto"
    translation_dtype: str = "float32"
    parallel_translation: bool = False
    max_new_tokens_ratio: float | None = None

    def max_new_tokens(self, source_pieces: int) -> int:
        """The decoding budget for a source of this many pieces."""
        if self.max_new_tokens_ratio is None:
            return self.decode.max_new_tokens
        return min(self.decode.max_new_tokens, int(self.max_new_tokens_ratio * source_pieces) + 8)


def demo_config(p: dict) -> DemoConfig:
    """translation.decode overridden by demo.decode, plus the demo's own settings (validated)."""
    section = p.get("demo") or {}
    if not isinstance(section, dict):
        raise ParamsError(f"params.yaml: demo: expected a mapping, got {section!r}")
    known = [f.name for f in fields(DemoConfig)]
    for key in section:
        if key not in known:
            raise ParamsError(f"params.yaml: demo.{key}: unknown key (known: {', '.join(known)})")
    base = dict((p.get("translation") or {}).get("decode") or {})
    overrides = section.get("decode") or {}
    if not isinstance(overrides, dict):
        raise ParamsError(f"params.yaml: demo.decode: expected a mapping of translation.decode keys, got {overrides!r}")
    decode = _cast(DecodeConfig, {**base, **overrides}, "demo.decode")
    gen_overrides = section.get("generate") or {}
    if not isinstance(gen_overrides, dict):
        raise ParamsError(f"params.yaml: demo.generate: expected a mapping of translation.generate keys, "
                          f"got {gen_overrides!r}")
    generate = _cast(GenDecode, {**dict((p.get("translation") or {}).get("generate") or {}), **gen_overrides},
                     "demo.generate", {"bf16": _bf16})
    translation_model = str(section.get("translation_model", "auto"))
    dtype = str(section.get("translation_dtype", "float32"))
    if dtype not in DTYPES:
        raise ParamsError(f"params.yaml: demo.translation_dtype: expected one of {', '.join(DTYPES)}, got {dtype!r}")
    try:
        parallel = _bool(section.get("parallel_translation", False))
    except (TypeError, ValueError):
        raise ParamsError(f"params.yaml: demo.parallel_translation: expected true or false, "
                          f"got {section['parallel_translation']!r}") from None
    ratio = section.get("max_new_tokens_ratio")
    if ratio is not None:
        try:
            ratio = float(ratio)
        except (TypeError, ValueError):
            ratio = -1.0
        if not ratio > 0:
            raise ParamsError(f"params.yaml: demo.max_new_tokens_ratio: expected a positive number or null, "
                              f"got {section['max_new_tokens_ratio']!r}")
    return DemoConfig(decode=decode, generate=generate, translation_model=translation_model,
                      translation_dtype=dtype, parallel_translation=parallel, max_new_tokens_ratio=ratio)
