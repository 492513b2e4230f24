"""What this CPU can do fast: its model name, its flags, and whether bfloat16 autocast pays.

Machines of this project's kind differ: one had Intel AMX (`amx_bf16`: bf16 matrix tiles, ~1.9x
measured for translation training), another was an AMD EPYC with `avx512_bf16` and no AMX (bf16
autocast measured 1.3x for training and 1.7x for prediction there, README *Cross-lingual
transfer*). A CPU with neither emulates bf16 and is slower with it, so `bf16_auto` says no.
"""
from __future__ import annotations

import platform
from functools import lru_cache
from pathlib import Path

BF16_FLAGS = ("amx_bf16", "avx512_bf16")     # in order of preference


def _cpuinfo() -> str:
    path = Path("/proc/cpuinfo")
    return path.read_text(errors="replace") if path.exists() else ""


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    for line in _cpuinfo().splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def speed_flags(flags: frozenset[str] | None = None) -> list[str]:
    """The flags that decide this project's speed paths (AMX, AVX-512 and its bf16, AVX2), sorted."""
    flags = cpu_flags() if flags is None else flags
    return sorted(f for f in flags if f.startswith(("amx", "avx512_bf16", "avx512f", "avx2")))


def cpu_model() -> str:
    for line in _cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def bf16_auto(flags: frozenset[str] | None = None) -> dict:
    """{'bf16': bool, 'because': the flag that decided, or why not}."""
    flags = cpu_flags() if flags is None else flags
    for flag in BF16_FLAGS:
        if flag in flags:
            return {"bf16": True, "because": flag}
    return {"bf16": False, "because": "no amx_bf16 or avx512_bf16 flag: bf16 would be emulated"}
