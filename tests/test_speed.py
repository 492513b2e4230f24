"""bf16 follows the CPU flags: AMX first, then avx512_bf16, else no."""
from xlt import speed


def test_bf16_auto_follows_the_flags():
    assert speed.bf16_auto(frozenset({"avx2", "amx_bf16", "avx512_bf16"})) == {"bf16": True, "because": "amx_bf16"}
    assert speed.bf16_auto(frozenset({"avx512f", "avx512_bf16"})) == {"bf16": True, "because": "avx512_bf16"}
    off = speed.bf16_auto(frozenset({"avx2", "avx512f"}))
    assert off["bf16"] is False and "emulated" in off["because"]


def test_flags_and_model_are_read_from_cpuinfo(monkeypatch):
    text = "processor\t: 0\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu avx2 avx512_bf16\n"
    monkeypatch.setattr(speed, "_cpuinfo", lambda: text)
    speed.cpu_flags.cache_clear()
    try:
        assert speed.cpu_model() == "AMD EPYC 9R14"
        assert speed.cpu_flags() == frozenset({"fpu", "avx2", "avx512_bf16"})
        assert speed.bf16_auto()["because"] == "avx512_bf16"
    finally:
        speed.cpu_flags.cache_clear()


def test_speed_flags_keep_only_the_vector_and_matrix_units():
    flags = frozenset({"fpu", "sse2", "avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16"})
    assert speed.speed_flags(flags) == ["amx_bf16", "amx_tile", "avx2", "avx512_bf16", "avx512f"]
