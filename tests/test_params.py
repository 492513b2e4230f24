"""Tests for xlt.params: the real params.yaml, override merging, casting and error messages."""
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from xlt import params
from xlt.params import ParamsError, TrainConfig

PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


@pytest.fixture(scope="module")
def real():
    return params.load(PARAMS)


@pytest.fixture
def raw():
    """params.yaml as plain data, to be modified and written to tmp_path."""
    return YAML(typ="safe").load(PARAMS.read_text(encoding="utf-8"))


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
    assert "models.me5-small.ner.langs" in msg and "'fr'" in msg


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
    assert re.search(r"missing key 'run'", msg)


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
