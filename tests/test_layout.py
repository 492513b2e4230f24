"""dvc.yaml and xlt.layout name the same paths, so a stage's outputs are where the code writes them
and its data deps where the code reads them.

Each stage of the real dvc.yaml is rendered for one sample item (its ${item.*} and
${transfer.encoder} substituted here) and its data deps (everything outside src/) and outputs
(outs, metrics, plots) are compared with what xlt.layout returns for the same item. A stage added
to dvc.yaml must be added here too. A second test keeps the layout in one place: no path literal
under src/xlt outside layout.py.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from xlt.layout import BASELINE, SOURCE, Layout
from xlt.transfer import projection
from xlt.transfer.paths import matrix_metrics

REPO = Path(__file__).resolve().parents[1]
L = Layout()
MODEL, TASK, LANG, GEN, ENC, SEED, K = "m1", "t1", "l1", "g1", "enc1", "7", "25"


def _expected() -> dict[str, tuple[object, list[Path], list[Path]]]:
    """stage -> (sample item, data deps, outputs), from xlt.layout."""
    mtl = {"task": TASK, "lang": LANG}
    mml = {"model": MODEL, "task": TASK, "lang": LANG}
    return {
        "preprocess": (mtl, [L.raw()], [L.interim(TASK, LANG)]),
        "split": (mtl, [L.interim(TASK, LANG)], [L.prepared(TASK, LANG)]),
        "pretrained": (MODEL, [L.prepared(), L.translation_data()], [L.pretrained(MODEL)]),
        "train": (mml, [L.pretrained(MODEL), L.prepared(TASK, LANG)],
                  [L.model(MODEL, TASK, LANG), *L.log_files(L.train_log(MODEL, TASK, LANG))]),
        "evaluate": (mml, [L.model(MODEL, TASK, LANG), L.log_summary(L.train_log(MODEL, TASK, LANG)),
                           L.prepared(TASK, LANG)],
                     [L.metrics(MODEL, TASK, LANG), L.run_facts(L.metrics(MODEL, TASK, LANG)),
                      L.confusion(MODEL, TASK, LANG)]),
        "baseline": (mtl, [L.prepared(TASK, LANG)],
                     [L.baseline_model(TASK, LANG), L.metrics(BASELINE, TASK, LANG),
                      L.run_facts(L.metrics(BASELINE, TASK, LANG)), L.confusion(BASELINE, TASK, LANG)]),
        "mt-prepare": (LANG, [L.raw()], [L.translation_data(LANG)]),
        "mt-train": ({"model": MODEL, "lang": LANG}, [L.translation_data(LANG)],
                     [L.mt_model(MODEL, LANG), *L.log_files(L.mt_train_log(MODEL, LANG)), L.mt_dev_chrf(MODEL, LANG)]),
        "mt-evaluate": ({"model": MODEL, "lang": LANG}, [L.mt_model(MODEL, LANG), L.log_summary(L.mt_train_log(MODEL, LANG)),
                                                         L.translation_data(LANG)],
                        [L.mt_predictions(MODEL, LANG), L.mt_samples(MODEL, LANG), L.mt_metrics(MODEL, LANG),
                         L.run_facts(L.mt_metrics(MODEL, LANG))]),
        "mt-gen-pretrained": (GEN, [], [L.pretrained(GEN)]),
        "mt-gen-train": ({"model": GEN, "lang": LANG}, [L.pretrained(GEN), L.translation_data(LANG)],
                         [L.mt_model(GEN, LANG), *L.log_files(L.mt_train_log(GEN, LANG))]),
        "mt-gen-evaluate": ({"model": GEN, "lang": LANG},
                            [L.mt_model(GEN, LANG), L.log_summary(L.mt_train_log(GEN, LANG)), L.pretrained(GEN),
                             L.translation_data(LANG)],
                            [L.mt_predictions(GEN, LANG), L.mt_samples(GEN, LANG), L.mt_metrics(GEN, LANG),
                             L.run_facts(L.mt_metrics(GEN, LANG))]),
        "transfer-data": (mtl, [L.prepared(TASK, LANG)], [L.transfer_data(TASK, LANG)]),
        "transfer-source": ({"task": TASK, "seed": SEED}, [L.pretrained(ENC), L.transfer_data(TASK, SOURCE)],
                            [L.source_model(TASK, SEED), *L.log_files(L.source_train_log(TASK, SEED))]),
        "transfer-zeroshot": ({"task": TASK, "seed": SEED},
                              [L.source_model(TASK, SEED), L.pretrained(ENC), L.transfer_data(TASK)],
                              [L.zeroshot_metrics(TASK, SEED)]),
        "transfer-inlang": (mtl, [L.model(ENC, TASK, LANG), L.transfer_data(TASK, LANG)],
                            [L.inlang_metrics(TASK, LANG)]),
        "transfer-matrix": ({"task": TASK, "source": LANG}, [L.model(ENC, TASK, LANG), L.transfer_data(TASK)],
                            [matrix_metrics(Path(), TASK, LANG)]),
        "transfer-fewshot": ({"task": TASK, "lang": LANG, "k": K},
                             [L.pretrained(ENC), L.source_model(TASK, SEED).parent, L.transfer_data(TASK, LANG),
                              L.transfer_data(TASK, SOURCE)],
                             [L.fewshot_metrics(TASK, LANG, K), L.run_facts(L.fewshot_metrics(TASK, LANG, K))]),
        "transfer-multilingual": (TASK, [L.pretrained(ENC), L.transfer_data(TASK)],
                                  [L.multilingual_model(TASK), *L.log_files(L.multilingual_train_log(TASK)),
                                   L.multilingual_metrics(TASK), L.run_facts(L.multilingual_metrics(TASK))]),
        "transfer-report": (TASK, [L.zeroshot_metrics(TASK, SEED).parents[2], L.transfer_data(TASK), L.published()],
                            [L.transfer_report(TASK), L.transfer_figure(TASK), L.transfer_curves(TASK)]),
        "transfer-align": (LANG, [L.pretrained(ENC), L.translation_data(LANG) / "train.jsonl"],
                           [projection.aligned_path(L.root, LANG).parent]),
        "transfer-project": (LANG, [L.source_model("ner", SEED).parent, projection.aligned_path(L.root, LANG).parent,
                                    L.transfer_data("ner", LANG)],
                             [projection.silver_path(L.root, LANG), projection.metrics_path(L.root, LANG)]),
        "report": (None, [L.metrics(MODEL, TASK, LANG).parents[2], L.prepared(), L.published()], [L.report()]),
    }


@pytest.fixture(scope="module")
def dvc_yaml() -> dict:
    return YAML(typ="safe").load((REPO / "dvc.yaml").read_text(encoding="utf-8"))


def _render(text: str, item) -> str:
    def value(m: re.Match) -> str:
        key = m.group(1)
        if key == "item":
            return item
        if key.startswith("item."):
            return item[key.removeprefix("item.")]
        if key == "transfer.encoder":
            return ENC
        raise KeyError(f"dvc.yaml: ${{{key}}} in a path: add it to tests/test_layout.py")
    return re.sub(r"\$\{([^}]+)\}", value, text)


def _paths(entries) -> list[str]:
    """A deps/outs/metrics/plots list: plain paths or {path: options}."""
    return [e if isinstance(e, str) else next(iter(e)) for e in entries or []]


def _stage(definition: dict) -> dict:
    return definition["do"] if "foreach" in definition else definition


def test_every_stage_is_checked(dvc_yaml):
    assert set(dvc_yaml["stages"]) == set(_expected())


@pytest.mark.parametrize("name", list(_expected()))
def test_stage_paths_are_the_layout(dvc_yaml, name):
    item, deps, outputs = _expected()[name]
    stage = _stage(dvc_yaml["stages"][name])
    rendered_deps = [_render(d, item) for d in _paths(stage.get("deps")) if not d.startswith("src/")]
    rendered_outputs = [_render(o, item) for key in ("outs", "metrics", "plots") for o in _paths(stage.get(key))]
    assert sorted(rendered_deps) == sorted(p.as_posix() for p in deps)
    assert sorted(rendered_outputs) == sorted(p.as_posix() for p in outputs)


def test_run_facts_are_outputs_not_metrics(dvc_yaml):
    """A run's facts (seconds, examples) sit beside its metrics so that `dvc metrics diff` shows only
    scores: declared as a plain output, never under `metrics`, and every stage that writes one has them."""
    suffix = L.run_facts(Path("m.json")).name.removeprefix("m")
    for name, definition in dvc_yaml["stages"].items():
        stage = _stage(definition)
        assert not [m for m in _paths(stage.get("metrics")) if m.endswith(suffix)], name
        facts = [o for o in _paths(stage.get("outs")) if o.endswith(suffix)]
        assert len(facts) == len(_paths(stage.get("metrics"))) or not facts, name


def test_the_plot_definitions_are_the_layout(dvc_yaml):
    from xlt.transfer.report import ARM_NAMES
    # (training curves are declared by each training stage: its DVCLive log's plots/metrics)
    folders = {L.confusion(MODEL, TASK, LANG).parents[2], L.mt_dev_chrf(MODEL, LANG).parents[1]}
    named = [next(iter(p)) for p in dvc_yaml["plots"]]
    assert {n for n in named if "/" in n} == {p.as_posix() for p in folders}
    for plot in dvc_yaml["plots"]:
        (title, spec), = plot.items()
        if title.startswith("transfer "):
            _, task, lang = title.split()
            assert set(spec["y"]) <= {(L.transfer_curves(task, lang) / f"{arm}.json").as_posix() for arm in ARM_NAMES}


def test_checkpoints_and_layout_strings():
    """Checkpoint folders are not in dvc.yaml: pinned here (a changed name loses every interrupted run)."""
    assert L.checkpoints("m", "sentiment", "hi").as_posix() == "checkpoints/m/sentiment/hi"
    assert L.mt_checkpoints("m", "te").as_posix() == "checkpoints/m/translation/te"
    assert L.source_checkpoints("enc", "ner", 3).as_posix() == "checkpoints/transfer/seed3/enc/ner/en"
    assert L.multilingual_checkpoints("enc", "ner").as_posix() == "checkpoints/transfer/multilingual/enc/ner/multi"
    assert L.fewshot_runs("ner", "te", "all").as_posix() == "checkpoints/transfer/fewshot/ner-te-kall"
    assert Layout("/r").model("m", "ner", "te") == Path("/r/models/m/ner/te")


PATH_START = re.compile(r"^(data|models|metrics|plots|reports|predictions|checkpoints|references)/")


def _path_literals(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants and f-string pieces that begin like a pipeline path (docstrings excepted)."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            first = node.values[0] if node.values else None
            if isinstance(first, ast.Constant) and PATH_START.match(str(first.value)):
                found.add((node.lineno, str(first.value)))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
              and PATH_START.match(node.value)):
            found.add((node.lineno, node.value))           # f-string pieces too: found once
    return sorted(found)


def test_paths_are_spelt_only_in_layout():
    src = REPO / "src/xlt"
    found = [f"{f.relative_to(REPO)}:{line}: {text!r}"
             for f in sorted(src.rglob("*.py")) if f.name != "layout.py"
             for line, text in _path_literals(ast.parse(f.read_text(encoding="utf-8")))]
    assert not found, "use xlt.layout instead:\n" + "\n".join(found)
