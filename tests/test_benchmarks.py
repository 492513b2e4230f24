"""The benchmark scripts are not run by the tests (they measure speed, minutes each), but what they
import from xlt must exist: a refactor that renames a function must not leave them broken."""
from __future__ import annotations

import ast
import json
import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from dvc_helpers import load_benchmark

BENCHMARKS = sorted((Path(__file__).resolve().parents[1] / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_every_name_a_benchmark_imports_from_xlt_exists(script):
    missing = []
    for node in ast.walk(ast.parse(script.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "xlt":
            module = importlib.import_module(node.module)
            missing += [f"{node.module}.{a.name}" for a in node.names
                        if not hasattr(module, a.name) and importlib.util.find_spec(f"{node.module}.{a.name}") is None]
    assert not missing, f"{script.name} imports what xlt no longer has: {missing}"


@pytest.mark.slow      # a fresh interpreter per script, importing torch: ~20 s in all
@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_every_benchmark_shows_its_usage(script):
    proc = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "usage" in proc.stdout.lower(), proc.stderr[-2000:]


def test_gold_audit_tags_whole_untagged_phrases_only():
    audit = load_benchmark("te_ner_gold_audit.py")
    records = [{"tokens": ["నిన్న", "నరేంద్ర", "మోదీ", "ఏలూరు", "వెళ్ళారు"]},
               {"tokens": ["ఏలూరు", "నగరం"]},
               {"tokens": ["నరేంద్ర", "సింగ్"]}]            # half of a listed name: left alone
    gold = [["O", "O", "O", "O", "O"], ["B-LOC", "O"], ["O", "O"]]
    fixed, added = audit.with_names(records, gold)
    assert fixed == [["O", "B-PER", "I-PER", "B-LOC", "O"], ["B-LOC", "O"], ["O", "O"]]
    assert added == 2                      # an existing gold span is not counted or changed
    assert gold[0] == ["O"] * 5            # the official gold is not touched
    spans = audit.spurious(records, gold, fixed)
    assert [(s["sentence"], s["type"], s["span"]) for s in spans] == [(0, "PER", "నరేంద్ర మోదీ"), (0, "LOC", "ఏలూరు")]


def test_bench_result_name_tells_the_two_kinds_of_epyc_apart():
    bench = load_benchmark("bench.py")
    genoa = {"model": "AMD EPYC", "flags_seen": ["avx2", "avx512_bf16", "avx512f"]}
    milan = {"model": "AMD EPYC", "flags_seen": ["avx2"]}
    assert bench._slug(genoa) == "amd-epyc-avx512-bf16"
    assert bench._slug(milan) == "amd-epyc-avx2"
    assert bench._slug({"model": "Intel(R) Xeon(R)", "flags_seen": ["amx_tile", "avx2"]}) == "intel-r--xeon-r-amx"
    assert bench._slug({"model": "Apple M2", "flags_seen": []}) == "apple-m2"


def test_translation_runtime_variants_name_a_runtime_and_its_weights():
    import argparse
    bench = load_benchmark("translation_runtime.py")
    assert bench.parse_variant("llama.cpp:q8_0") == ("llama.cpp", "q8_0")
    assert bench.parse_variant("torch:int8") == ("torch", "int8")
    for bad in ("llama.cpp:int8", "torch:q8_0", "onnx:f16", "torch"):
        with pytest.raises(argparse.ArgumentTypeError, match="expected torch:"):
            bench.parse_variant(bad)


def test_transfer_bf16_probe_times_both_precisions_and_says_what_auto_decides(tiny_encoder):
    bench = load_benchmark("transfer_bf16.py")
    out = bench.probe(tiny_encoder, ["O", "B-PER", "I-PER"], steps=2, warmup=1)
    assert [r["run"] for r in out["runs"]] == ["fp32", "bf16", "fp32_again"]
    assert all(r["train_seq_per_s"] > 0 and r["predict_seq_per_s"] > 0 for r in out["runs"])
    assert isinstance(out["bf16_auto"]["bf16"], bool) and out["bf16_auto"]["because"]


def test_checkpoint_averaging_averages_the_named_snapshots_in_their_own_dtype():
    import torch
    ca = load_benchmark("ner_checkpoint_averaging.py")
    snaps = {s: {"w": torch.full((2,), float(s)), "n": torch.tensor([s], dtype=torch.int64)} for s in (10, 20, 30, 40)}
    avg = ca.average(snaps, [20, 40])
    assert torch.equal(avg["w"], torch.tensor([30.0, 30.0])) and avg["w"].dtype == torch.float32
    assert avg["n"].dtype == torch.int64 and int(avg["n"]) == 30
    assert ca.variants([10, 20, 30, 40]) == {"final": None, "all": [10, 20, 30, 40], "second": [30, 40]}
    with pytest.raises(ValueError):
        ca.average(snaps, [])


def test_constrained_decoding_benchmark_decodes_with_the_library():
    from xlt import decoding
    cd = load_benchmark("ner_constrained_decoding.py")
    assert cd.viterbi is decoding.viterbi and cd.argmax is decoding.argmax


def test_codeswitching_keeps_labels_aligned_and_reads_a_clean_dictionary(tmp_path):
    import random
    cs = load_benchmark("ner_codeswitch.py")
    (tmp_path / "d.en").write_text("Germany\nthe\nboycott\ntwo words\nboycott\nBoycott\n", encoding="utf-8")
    (tmp_path / "d.te").write_text("జర్మనీ దేశం\n‘‘ద\nబహిష్కరణ\nరెండు\nbattledore\nబహిష్కరణ\n", encoding="utf-8")
    d = cs.load_dictionary(tmp_path / "d.en", tmp_path / "d.te")
    # phrases and Latin-script renderings are left out; punctuation goes, vowel signs stay
    assert d == {"germany": ["జర్మనీ", "దేశం"], "the": ["ద"], "boycott": ["బహిష్కరణ"]}
    rec = {"tokens": ["Germany", "will", "boycott", "the", "EU"], "tags": ["B-LOC", "O", "O", "O", "B-ORG"]}
    out = cs.codeswitch(rec, d, random.Random(0), sentence_p=1.0, word_p=1.0)
    assert out["tokens"] == ["జర్మనీ", "దేశం", "will", "బహిష్కరణ", "ద", "EU"]
    assert out["tags"] == ["B-LOC", "I-LOC", "O", "O", "O", "B-ORG"]
    assert cs.codeswitch(rec, d, random.Random(0), sentence_p=0.0, word_p=1.0) is rec
    (tmp_path / "d.te").write_text("జర్మనీ\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not aligned"):
        cs.load_dictionary(tmp_path / "d.en", tmp_path / "d.te")


def test_ner_source_language_recipe_overrides_cast_each_key_and_refuse_others():
    nsl = load_benchmark("ner_source_language.py")
    assert nsl.recipe_overrides(["learning_rate=1e-4", "batch_size=8", "epochs=5", "bf16=false"]) == {
        "learning_rate": 1e-4, "batch_size": 8, "epochs": 5.0, "bf16": False}
    assert isinstance(nsl.recipe_overrides(["batch_size=8"])["batch_size"], int)
    for bad in (["seed=3"], ["learning_rate"], ["dropout=0.2"]):
        with pytest.raises(SystemExit, match="KEY=VALUE"):
            nsl.recipe_overrides(bad)
    with pytest.raises(SystemExit, match="batch_size=eight: expected an integer >= 1, got 'eight'"):
        nsl.recipe_overrides(["batch_size=eight"])
    with pytest.raises(SystemExit, match="learning_rate=-1: expected a number > 0"):
        nsl.recipe_overrides(["learning_rate=-1"])
    with pytest.raises(SystemExit, match="bf16=treu: expected true or false, or auto"):
        nsl.recipe_overrides(["bf16=treu"])


def _translation_run(root: Path, lang: str, chrf: float) -> None:
    run_dir = root / "dvclive" / "gen" / "translation" / lang
    (run_dir / "plots" / "metrics" / "eval").mkdir(parents=True)
    (run_dir / "metrics.json").write_text('{"eval": {"loss": 2.6241}, "train_seconds": 845.5}')
    (run_dir / "plots" / "metrics" / "eval" / "loss.tsv").write_text("step\tloss\n50\t2.9\n100\t2.7\n")
    (run_dir / "params.yaml").write_text("learning_rate: 2e-05\noutput_dir: /tmp/x\nbf16: true\n")
    metrics = root / "metrics" / "gen" / "translation"
    metrics.mkdir(parents=True, exist_ok=True)
    (metrics / f"{lang}.json").write_text(json.dumps({
        "signature": {"chrf": "nrefs:1"},
        "test_sets": {"flores200-devtest": {"bleu": 4.3, "chrf": chrf, "sentences": 1012, "distinct": 1.0,
                                            "in_script": 0.99, "signature": {"chrf": "nrefs:1"}}},
        "dev": {"bleu": 3.0, "chrf": 19.9, "sentences": 200, "distinct": 1.0, "in_script": 1.0, "train_loss": 2.6}}))
    (metrics / f"{lang}.run.json").write_text(json.dumps({
        "train": {"examples": 2400, "seconds": 845.5, "steps": 300}, "translate_seconds": {"flores200-devtest": 826.9}}))


def test_translation_run_summary_gathers_what_the_stages_wrote(tmp_path, capsys):
    summary = load_benchmark("translation_run_summary.py")
    _translation_run(tmp_path, "hi", 21.8)
    log = tmp_path / "train-hi.log"
    log.write_text("\tElapsed (wall clock) time (h:mm:ss or m:ss): 14:53.20\n"
                   "\tMaximum resident set size (kbytes): 3145728\n")
    out = tmp_path / "results" / "run.json"
    summary.main(["--root", str(tmp_path), "--model", "gen", "--langs", "hi", "--time-log", f"train-hi={log}",
                  "--what", "a test", "--out", str(out)])
    result = json.loads(out.read_text())
    hi = result["langs"]["hi"]
    assert hi["scores"]["flores200-devtest"]["chrf"] == 21.8 and hi["scores"]["dev"]["chrf"] == 19.9
    assert "signature" not in hi["scores"]["flores200-devtest"] and "train_loss" not in hi["scores"]["dev"]
    assert hi["dev_loss_curve"] == [{"step": 50, "loss": 2.9}, {"step": 100, "loss": 2.7}]
    assert hi["dev_loss_end"] == 2.6241 and hi["train"]["steps"] == 300
    assert hi["train_params"] == {"learning_rate": 2.0e-05, "bf16": True}      # the settings, not the temp dir
    assert result["wall"] == {"train-hi": {"wall": "14:53.20", "peak_rss_gb": 3.0}}
    assert {"cpu", "flags", "bf16_auto"} <= set(result["machine"])
    assert "FLORES-200 devtest chrF++ 21.8" in capsys.readouterr().err


def test_translation_run_summary_refuses_a_run_that_did_not_happen(tmp_path):
    summary = load_benchmark("translation_run_summary.py")
    _translation_run(tmp_path, "hi", 21.8)
    with pytest.raises(FileNotFoundError, match=r"translation/te/metrics\.json: missing .*gen te"):
        summary.summary(tmp_path, "gen", ["hi", "te"], "", "", {})
    bad = tmp_path / "not-a-time-log.txt"
    bad.write_text("real 1m2s\n")
    with pytest.raises(ValueError, match="not-a-time-log.txt"):
        summary.time_log(bad)


def test_gpu_speed_times_the_profile_and_the_usual_way_on_the_prepared_ids(tiny_encoder, tmp_path, monkeypatch):
    """The GPU benchmark's case runs the stages' Trainer path on prepared token ids (here on the
    CPU, with the CUDA timing calls stubbed); `run` itself refuses a machine without CUDA."""
    import shutil

    import torch
    bench = load_benchmark("gpu_speed.py")
    for name in ("synchronize", "reset_peak_memory_stats", "empty_cache"):
        monkeypatch.setattr(torch.cuda, name, lambda *a, **k: None)
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda *a, **k: 0)
    shutil.copytree(tiny_encoder, tmp_path / "tokenizer")
    shutil.copy2(tiny_encoder / "config.json", tmp_path / "tiny-config.json")
    settings = {"learning_rate": 1e-4, "batch_size": 4, "epochs": 2, "weight_decay": 0.0, "warmup_ratio": 0.0,
                "max_train_samples": None, "freeze_embeddings": True, "freeze_layers": 0, "bf16": False, "seed": 42}
    ids = [[0] + [5 + i % 7] * (3 + i % 5) + [2] for i in range(40)]
    data = {"settings": {"tiny/sentiment": settings},
            "sets": {"sentiment": {"num_labels": 2, "input_ids": ids, "labels": [i % 2 for i in range(40)]}}}
    xlt_row = bench._encoder_case("tiny", "sentiment", data, tmp_path, warmup=1, steps=2)
    usual = bench._encoder_case("tiny", "sentiment", data, tmp_path, warmup=1, steps=2, usual=True)
    assert (xlt_row["sampling"], xlt_row["padding"], xlt_row["bf16"]) == ("group_by_length", "dynamic", True)
    assert (usual["model"], usual["sampling"], usual["padding"], usual["bf16"]) == (
        "tiny-usual", "random", "max_length 128", False)
    for row in (xlt_row, usual):
        assert row["sequences_per_s"] > 0 and row["predict_sequences_per_s"] > 0 and row["train_examples"] == 40
        assert row["profile_train_seconds_projected"] == pytest.approx(2 * row["epoch_seconds_projected"], abs=0.2)
    assert xlt_row["trainable_parameters"] < usual["trainable_parameters"]     # frozen word embeddings
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit, match="no CUDA device"):
            bench.run(tmp_path, tmp_path / "out", 1, 1)


def test_decoding_budget_cuts_each_hypothesis_at_its_budget_and_counts_the_batches_steps():
    bench = load_benchmark("decoding_budget.py")

    class Words:              # one piece per word; <bos> counted like the demo counts the source
        def __call__(self, text, add_special_tokens=True):
            return {"input_ids": (["<bos>"] if add_special_tokens else []) + text.split()}

        def decode(self, ids):
            return " ".join(ids)

    sources, refs = ["a b", "c d e"], ["w1 w2 w3", "p q"]
    hyps = [" ".join(f"w{i}" for i in range(20)), "p q"]
    from xlt.demo.config import demo_config
    demo = demo_config({"translation": {"decode": {"max_new_tokens": 96}, "generate": {"max_new_tokens": 128}}})
    t = bench.budget_table(Words(), sources, hyps, refs, "hi", [2.0], demo, flat=128, batch_size=1)
    flat, two = t["rows"]
    assert (flat["ratio"], flat["cut"], flat["row_steps"]) == (None, 0, 21 + 3)   # +1: the end of line
    # 2 x 3 source pieces (with <bos>) + 8 = 14 pieces for the first; the second fits in 2 x 4 + 8
    assert (two["cut"], two["row_steps"]) == (1, 14 + 3)
    assert t["round_trip"] == 2 and t["useful_steps"] == 24
    assert two["chrf"] != flat["chrf"]
    batched = bench.budget_table(Words(), sources, hyps, refs, "hi", [2.0], demo, flat=128, batch_size=2)
    assert batched["rows"][0]["row_steps"] == 2 * 21              # a batch runs until its longest row stops


def test_translate_train_resumes_after_the_last_whole_translation(tmp_path):
    tt = load_benchmark("translate_train.py")
    phrases = ["a fine film", "dull and long", "a joy"]
    cache = tmp_path / "hi.jsonl"
    cache.write_text(json.dumps({"en": "a fine film", "text": "एक अच्छी फिल्म", "cut": False}, ensure_ascii=False)
                     + "\n" + '{"en": "dull and long", "te', encoding="utf-8")      # interrupted mid-line
    assert [r["en"] for r in tt.read_cache(cache, phrases)] == ["a fine film"]
    assert tt.read_cache(cache, ["another phrase", *phrases]) == []                  # not these phrases: redo all

    class Fake:        # the demo's Translators, as the benchmark calls them
        def __call__(self, lang, text):
            return f"<{lang}> {text}"

        def reached_budget(self, lang, text, out):
            return text == "a joy"

    rows, cached, _ = tt.translate(Fake(), "hi", phrases, cache)
    assert cached == 1
    assert [r["text"] for r in rows] == ["एक अच्छी फिल्म", "<hi> dull and long", "<hi> a joy"]   # the kept one not redone
    assert [r["cut"] for r in rows] == [False, False, True]
    assert tt.read_cache(cache, phrases) == rows                                       # and all of it on disk
    assert tt.translate(Fake(), "hi", phrases[:1], cache)[0] == rows[:1]              # a shorter run reads a prefix
    assert tt.read_cache(cache, phrases) == rows                                       # and keeps the rest


def test_translate_train_arms_join_their_languages_and_summaries_span_seeds():
    tt = load_benchmark("translate_train.py")
    english = [{"text": "good", "label": "positive"}]
    translated = {"hi": [{"text": "अच्छा", "label": "positive"}], "te": [{"text": "మంచి", "label": "positive"}]}
    assert tt.arm_train("en", english, translated) == english
    assert [r["text"] for r in tt.arm_train("en+hi+te", english, translated)] == ["good", "अच्छा", "మంచి"]
    translated["hi-agreed"] = []           # none of the Hindi translations read as their English phrase
    assert tt.arm_train("hi-agreed", english, translated) == []
    assert set(tt.ARMS) >= {"en", "hi", "te", "en+hi+te", "hi-agreed", "te-agreed"}
    runs = [{"arm": "hi", "seed": s, "en": {"macro_f1": f, "accuracy": f}} for s, f in ((1, 80.0), (2, 84.0))]
    s = tt.summary(runs, ["en"])["hi"]
    assert s["seeds"] == [1, 2] and s["en_macro_f1"]["mean"] == 82.0 and s["en_macro_f1"]["min"] == 80.0
    assert round(s["en_macro_f1"]["std"], 2) == 2.83        # sample std, as the transfer report's


def test_noop_benchmark_mirrors_every_output_the_lock_records(tmp_path):
    noop = load_benchmark("noop_repro.py")
    lock = {"stages": {
        "train": {"outs": [{"path": "models/a", "md5": "0f.dir", "nfiles": 2}]},
        "evaluate": {"outs": [{"path": "metrics/a.json", "md5": "1e"}, {"path": "predictions/a", "md5": "2d.dir"}]},
        "report": {"outs": [{"path": "reports/r.md", "md5": "3c"}]}}}
    outputs = noop.lock_outputs(lock)
    assert outputs == {"models/a": True, "metrics/a.json": False, "predictions/a": True, "reports/r.md": False}
    built, scratch = tmp_path / "built", tmp_path / "scratch"
    (built / "models/a/sub").mkdir(parents=True)
    (built / "models/a/config.json").write_text("{}" * 100)
    (built / "models/a/sub/weights.bin").write_bytes(b"\0" * 1000)
    (scratch / "metrics").mkdir(parents=True)
    (scratch / "metrics/a.json").write_text('{"f1": 1}')       # tracked by git: left as it is
    counts = noop.mirror_outputs(outputs, built, scratch)
    assert counts == {"present": 1, "mirrored": 1, "placeholder": 2, "files": 4}
    assert sorted(str(p.relative_to(scratch)) for p in scratch.rglob("*") if p.is_file()) == [
        "metrics/a.json", "models/a/config.json", "models/a/sub/weights.bin", "predictions/a/placeholder",
        "reports/r.md"]
    assert (scratch / "metrics/a.json").read_text() == '{"f1": 1}'
    assert (scratch / "models/a/sub/weights.bin").stat().st_size < 100       # the tree, not the bytes
    assert (built / "models/a/sub/weights.bin").stat().st_size == 1000       # the workspace is not touched
    assert noop.bench_slug({"model": "AMD EPYC", "flags_seen": ["avx2"]}) == "amd-epyc-avx2"   # bench.py's naming
