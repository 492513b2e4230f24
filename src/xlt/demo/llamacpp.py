"""The fine-tuned translation generator run by llama.cpp: the demo's fast path for one sentence.

Why: decoding one sentence in eager PyTorch spends most of each new token dispatching thousands
of small operations (norms, rotary embeddings, casts: docs/demo.md), and no torch setting removed
that. llama.cpp (the `llama-cpp-python` package, the `fast` extra; compiled at install) runs the
same network as one compiled graph per token. `xlt analyze` / `xlt serve` use it for a generator
by default (`--translation-runtime auto`; `llama.cpp` or `torch` to choose); the evaluated setting
stays PyTorch (`mt-evaluate` scores the models with it), and `benchmarks/translation_runtime.py`
measures what this path changes on FLORES-200 dev, in quality and in time.

    export(model_dir, path, weights)   the fine-tuned model (xlt.translation.generator) as GGUF
    Translator(model_dir, cache_dir)   exports once into cache_dir (keyed by the model's bytes),
                                       then translates one sentence at a time

What the GGUF holds, and why it computes what the PyTorch model computes:
- Its vocabulary is only the pieces the trimmed output layer can emit (TrimmedHead.keep) plus
  Gemma's control pieces, so each new token multiplies by that many output rows, not 262,144.
  Control pieces that are not in `keep` get zero output rows and are masked here, as TrimmedHead
  masks every piece outside `keep`.
- The English prompt may use any piece of the full vocabulary: it goes in as embeddings, looked
  up here in the full (frozen) input matrix and scaled by sqrt(hidden size) as Gemma scales them
  (llama.cpp scales token input only). Generated pieces, all in `keep`, go back in as tokens.
- Gemma's RMS norms multiply by (1 + weight): the file stores 1 + weight, as llama.cpp's own
  converter does. The attention scale, the sliding-window pattern and the two rotary bases are
  written from the model's config and checked against what llama.cpp's gemma3 graph computes.
- Decoding is the PyTorch path's: greedy, the same n-gram block over prompt and output, stop at
  the end of the line or of the text, the same budget.
- Weights: q8_0 (8-bit blocks of 32, llama.cpp's near-lossless type; default), f16 or f32 for the
  matrices; norms stay f32.
"""
from __future__ import annotations

import ctypes
import hashlib
import logging
import os
from pathlib import Path

import numpy as np

from xlt import io

log = logging.getLogger(__name__)

WEIGHT_TYPES = ("q8_0", "f16", "f32")
EXPORT_VERSION = 1          # part of the cache key: bump when export() writes different bytes
N_CTX = 1024                # prompt + new pieces; the demo's sentences use a few hundred at most


class LlamaCppError(RuntimeError):
    pass


def _require_llama_cpp():
    try:
        import llama_cpp
    except ImportError:
        raise LlamaCppError("the llama.cpp runtime needs the llama-cpp-python package: "
                            "pip install -e '.[fast]' (compiles llama.cpp, about 10 minutes on 2 cores)") from None
    return llama_cpp


# --------------------------------------------------------------------------- export
def _check_supported(cfg) -> None:
    """What llama.cpp's gemma3 graph computes, against the model's config: stop rather than
    export a model llama.cpp would compute differently."""
    problems = []
    if getattr(cfg, "model_type", None) not in ("gemma3_text", "gemma3"):
        problems.append(f"model_type {getattr(cfg, 'model_type', None)!r} (expected gemma3_text)")
    if getattr(cfg, "query_pre_attn_scalar", cfg.head_dim) != cfg.head_dim:
        problems.append(f"query_pre_attn_scalar {cfg.query_pre_attn_scalar} != head_dim {cfg.head_dim}")
    for key in ("final_logit_softcapping", "attn_logit_softcapping"):
        if getattr(cfg, key, None):
            problems.append(f"{key} is set")
    if getattr(cfg, "hidden_activation", "gelu_pytorch_tanh") != "gelu_pytorch_tanh":
        problems.append(f"hidden_activation {cfg.hidden_activation!r}")
    rope = getattr(cfg, "rope_parameters", None) or {}
    for kind in ("full_attention", "sliding_attention"):
        rtype = (rope.get(kind) or {}).get("rope_type", "default")
        if rtype != "default":
            problems.append(f"rope_type {rtype!r} for {kind}")
    if problems:
        raise LlamaCppError("cannot export to llama.cpp: " + "; ".join(problems))


def _rope_bases(cfg) -> tuple[float, float]:
    rope = getattr(cfg, "rope_parameters", None)
    if rope and "full_attention" in rope:
        return float(rope["full_attention"]["rope_theta"]), float(rope["sliding_attention"]["rope_theta"])
    return float(cfg.rope_theta), float(getattr(cfg, "rope_local_base_freq", 10000.0))


def export(model_dir: Path, path: Path, weights: str = "q8_0") -> dict:
    """Write the fine-tuned generator in model_dir as a GGUF file for llama.cpp (atomically)."""
    import gguf

    from xlt.translation import generator
    if weights not in WEIGHT_TYPES:
        raise LlamaCppError(f"GGUF weights {weights!r}: expected one of {', '.join(WEIGHT_TYPES)}")
    model, tok = generator.load(model_dir)
    cfg = model.config
    _check_supported(cfg)
    keep = model.lm_head.keep.tolist()
    specials = [i for i in (tok.bos_token_id, tok.eos_token_id, tok.unk_token_id, tok.pad_token_id) if i is not None]
    vocab = sorted(set(keep) | set(specials))
    state = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    head = np.zeros((len(vocab), cfg.hidden_size), dtype=np.float32)
    rows = {full: j for j, full in enumerate(keep)}
    for j, full in enumerate(vocab):
        if full in rows:
            head[j] = state["lm_head.weight"][rows[full]]

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.GEMMA3, cfg.num_hidden_layers)
    qtype = {"q8_0": gguf.GGMLQuantizationType.Q8_0, "f16": gguf.GGMLQuantizationType.F16,
             "f32": gguf.GGMLQuantizationType.F32}[weights]
    tensors: list[tuple[str, np.ndarray]] = [
        ("token_embd.weight", state["model.embed_tokens.weight"][vocab]),
        ("output.weight", head)]
    for name, value in state.items():
        if name.startswith("lm_head.") or name == "model.embed_tokens.weight":
            continue
        target = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if target is None:
            raise LlamaCppError(f"cannot export to llama.cpp: no GGUF name for tensor {name}")
        if name.endswith("norm.weight"):
            value = value + 1.0            # Gemma's RMSNorm multiplies by (1 + weight)
        tensors.append((target, value))

    pieces = tok.convert_ids_to_tokens(vocab)
    control = set(specials)
    types = [gguf.TokenType.CONTROL if full in control
             else gguf.TokenType.BYTE if p.startswith("<0x") and p.endswith(">") and len(p) == 6
             else gguf.TokenType.NORMAL for full, p in zip(vocab, pieces)]
    local = {full: j for j, full in enumerate(vocab)}
    full_base, swa_base = _rope_bases(cfg)
    with io.atomic_path(Path(path)) as tmp:
        w = gguf.GGUFWriter(str(tmp), "gemma3")
        w.add_name(f"xlt {Path(model_dir).as_posix()}")
        w.add_context_length(cfg.max_position_embeddings)
        w.add_embedding_length(cfg.hidden_size)
        w.add_block_count(cfg.num_hidden_layers)
        w.add_feed_forward_length(cfg.intermediate_size)
        w.add_head_count(cfg.num_attention_heads)
        w.add_head_count_kv(cfg.num_key_value_heads)
        w.add_key_length(cfg.head_dim)
        w.add_value_length(cfg.head_dim)
        w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
        w.add_rope_freq_base(full_base)
        w.add_rope_freq_base_swa(swa_base)
        w.add_sliding_window(cfg.sliding_window)
        w.add_sliding_window_pattern([t == "sliding_attention" for t in cfg.layer_types])
        w.add_file_type({"q8_0": gguf.LlamaFileType.MOSTLY_Q8_0, "f16": gguf.LlamaFileType.MOSTLY_F16,
                         "f32": gguf.LlamaFileType.ALL_F32}[weights])
        w.add_tokenizer_model("llama")
        w.add_tokenizer_pre("default")
        w.add_token_list(pieces)
        w.add_token_scores([0.0] * len(vocab))
        w.add_token_types(types)
        w.add_bos_token_id(local[tok.bos_token_id])
        w.add_eos_token_id(local[tok.eos_token_id])
        if tok.unk_token_id is not None:
            w.add_unk_token_id(local[tok.unk_token_id])
        if tok.pad_token_id is not None:
            w.add_pad_token_id(local[tok.pad_token_id])
        w.add_add_bos_token(False)
        w.add_array("xlt.vocab_ids", vocab)          # GGUF row -> id of the full vocabulary
        w.add_array("xlt.keep_ids", keep)            # the pieces the model may emit
        for name, value in tensors:
            value = np.ascontiguousarray(value, dtype=np.float32)
            if value.ndim == 2 and weights != "f32":
                w.add_tensor(name, gguf.quants.quantize(value, qtype), raw_dtype=qtype)
            else:
                w.add_tensor(name, value)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
    return {"vocab": len(vocab), "keep": len(keep), "weights": weights, "bytes": Path(path).stat().st_size}


def model_digest(model_dir: Path) -> str:
    """sha256 over every file of the model directory (its manifest holds the sha256 of the tensors
    it shares with the pretrained directory, so those are covered too)."""
    h = hashlib.sha256(f"xlt-gguf-{EXPORT_VERSION}".encode())
    for f in sorted(p for p in Path(model_dir).rglob("*") if p.is_file()):
        h.update(f.relative_to(model_dir).as_posix().encode())
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def cached_export(model_dir: Path, cache_dir: Path, weights: str = "q8_0") -> Path:
    """The GGUF file for model_dir, exported once into cache_dir and reused while the model's
    bytes are unchanged."""
    path = Path(cache_dir) / f"{model_digest(model_dir)[:16]}-{weights}.gguf"
    if not path.exists():
        log.info("exporting %s to %s for llama.cpp (once)", model_dir, path)
        export(model_dir, path, weights)
    return path


# --------------------------------------------------------------------------- translate
def banned_ngram_tokens(seq: list[int], n: int) -> set[int]:
    """The tokens that would repeat an n-gram of seq (transformers' no_repeat_ngram_size rule)."""
    if n <= 0 or len(seq) + 1 < n:
        return set()
    prefix = tuple(seq[len(seq) - n + 1:])
    return {seq[i + n - 1] for i in range(len(seq) - n + 1) if tuple(seq[i:i + n - 1]) == prefix}


class Translator:
    """One target language's fine-tuned generator under llama.cpp; translate() is its only use."""

    def __init__(self, model_dir: Path, lang: str, cache_dir: Path, weights: str = "q8_0",
                 threads: int | None = None):
        from safetensors import safe_open
        from transformers import AutoConfig, AutoTokenizer

        from xlt import modelstore
        from xlt.translation import generator
        lc = _require_llama_cpp()
        self._lc, self._model, self._ctx, self._batch = lc, None, None, None
        self.lang, self.weights = lang, weights
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.stops = set(generator._stop_ids(self.tokenizer))
        cfg = AutoConfig.from_pretrained(model_dir)
        self.path = cached_export(model_dir, cache_dir, weights)
        # The input embeddings: the full frozen matrix, shared with the pretrained directory and
        # checked against the sha256 the model recorded, as modelstore.load checks it.
        manifest = io.read_json(Path(model_dir) / modelstore.MANIFEST)
        ref = manifest["shared"].get("model.embed_tokens.weight")
        source, key = ((Path(model_dir) / ref["file"]).resolve(), ref["key"]) if ref else \
            (Path(model_dir) / modelstore.WEIGHTS, "model.embed_tokens.weight")
        with safe_open(str(source), "pt") as st:
            embed = st.get_tensor(key)
        if ref and modelstore._sha256(embed) != ref["sha256"]:
            raise modelstore.ModelStoreError(
                f"{model_dir}: the shared tensor model.embed_tokens.weight in {source} is not the one it was "
                f"trained with (sha256 differs): the pretrained generator changed since; retrain (`dvc repro`)")
        self.embed = embed.float().numpy()
        self.scale = np.float32(cfg.hidden_size ** 0.5)

        lc.llama_backend_init()
        lc.llama_log_set(_QUIET, ctypes.c_void_p())
        mparams = lc.llama_model_default_params()
        self._model = lc.llama_model_load_from_file(str(self.path).encode(), mparams)
        if not self._model:
            raise LlamaCppError(f"{self.path}: llama.cpp could not load the exported model")
        cparams = lc.llama_context_default_params()
        cparams.n_ctx = N_CTX
        cparams.n_batch = cparams.n_ubatch = N_CTX
        cparams.n_threads = cparams.n_threads_batch = threads or max(1, os.cpu_count() or 1)
        cparams.no_perf = True
        self._ctx = lc.llama_init_from_model(self._model, cparams)
        if not self._ctx:
            raise LlamaCppError(f"{self.path}: llama.cpp could not create a context")
        vocab = lc.llama_model_get_vocab(self._model)
        self.n_vocab = lc.llama_vocab_n_tokens(vocab)
        meta = _gguf_arrays(self.path, ("xlt.vocab_ids", "xlt.keep_ids"))
        self.vocab_ids = np.asarray(meta["xlt.vocab_ids"], dtype=np.int64)
        if len(self.vocab_ids) != self.n_vocab:
            raise LlamaCppError(f"{self.path}: {self.n_vocab} pieces in llama.cpp, {len(self.vocab_ids)} in xlt.vocab_ids")
        self.local = {int(full): j for j, full in enumerate(self.vocab_ids)}
        self.masked = np.array(sorted(set(range(self.n_vocab)) - {self.local[k] for k in meta["xlt.keep_ids"]}),
                               dtype=np.int64)
        self.n_embd = cfg.hidden_size
        self._batch = lc.llama_batch_init(N_CTX, self.n_embd, 1)
        self._token = (lc.llama_token * 1)()

    def close(self) -> None:
        lc = getattr(self, "_lc", None)
        if lc is None:
            return
        if self._batch is not None:
            lc.llama_batch_free(self._batch)
            self._batch = None
        if self._ctx:
            lc.llama_free(self._ctx)
            self._ctx = None
        if self._model:
            lc.llama_model_free(self._model)
            self._model = None

    def __del__(self):
        try:
            self.close()
        except Exception:       # at interpreter exit the bindings may already be gone
            pass

    def _decode_embeddings(self, vectors: np.ndarray) -> None:
        n = len(vectors)
        if n > N_CTX:
            raise LlamaCppError(f"the prompt has {n} pieces, more than the context of {N_CTX}")
        b = self._batch
        b.n_tokens = n
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ctypes.memmove(b.embd, vectors.ctypes.data, vectors.nbytes)
        for i in range(n):
            b.pos[i] = i
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = 0
            b.logits[i] = i == n - 1
        self._check(self._lc.llama_decode(self._ctx, b))

    def _decode_token(self, local_id: int) -> None:
        self._token[0] = local_id
        self._check(self._lc.llama_decode(self._ctx, self._lc.llama_batch_get_one(self._token, 1)))

    def _check(self, rc: int) -> None:
        if rc != 0:
            raise LlamaCppError(f"llama_decode failed ({rc}) for {self.path}")

    def _logits(self) -> np.ndarray:
        ptr = self._lc.llama_get_logits_ith(self._ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy()

    def translate(self, text: str, max_new_tokens: int, no_repeat_ngram_size: int = 0,
                  repetition_penalty: float = 1.0) -> str:
        """Greedy, as xlt.translation.generator.translate decodes one sentence."""
        from xlt.translation import generator
        if repetition_penalty != 1.0:
            raise LlamaCppError("the llama.cpp runtime decodes with repetition_penalty 1.0 only")
        lc = self._lc
        lc.llama_memory_clear(lc.llama_get_memory(self._ctx), True)
        seq = self.tokenizer(generator.prompt(text, self.lang))["input_ids"]
        if len(seq) + max_new_tokens > N_CTX:
            raise LlamaCppError(f"the sentence is too long for the llama.cpp runtime: {len(seq)} prompt pieces "
                                f"+ {max_new_tokens} new ones > {N_CTX}")
        self._decode_embeddings(self.embed[seq] * self.scale)
        out: list[int] = []
        for step in range(max_new_tokens):
            logits = self._logits()
            logits[self.masked] = -np.inf
            for full in banned_ngram_tokens(seq, no_repeat_ngram_size):
                if full in self.local:
                    logits[self.local[full]] = -np.inf
            full = int(self.vocab_ids[int(np.argmax(logits))])
            seq.append(full)
            out.append(full)
            if full in self.stops or step == max_new_tokens - 1:
                break
            self._decode_token(self.local[full])
        return self.tokenizer.decode(out, skip_special_tokens=True).split("\n")[0].strip()


def _gguf_arrays(path: Path, keys: tuple[str, ...]) -> dict[str, list[int]]:
    import gguf
    reader = gguf.GGUFReader(str(path))
    out = {}
    for key in keys:
        field = reader.get_field(key)
        if field is None:
            raise LlamaCppError(f"{path}: no {key}: not a GGUF file written by xlt's export")
        out[key] = [int(field.parts[i][0]) for i in field.data]
    return out


@ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
def _QUIET(level, text, user_data):
    """llama.cpp's log callback: errors to the Python log as warnings, its warnings as debug (its
    usual ones, e.g. "using full-size SWA cache", are about settings made here on purpose), the
    rest dropped."""
    if level in (3, 4) and text:     # GGML_LOG_LEVEL_WARN, ERROR (5 continues the previous line)
        (log.warning if level == 4 else log.debug)("llama.cpp: %s", text.decode(errors="replace").rstrip())
