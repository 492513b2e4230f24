"""The translation section of params.yaml: typed settings and clear errors before any work."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from xlt import params
from xlt.params import ParamsError
from xlt.translation.config import MTConfig, decode_config, mt_config

REPO = Path(__file__).resolve().parents[2]
REAL = YAML(typ="safe").load((REPO / "params.yaml").read_text())


def test_real_params_validate_and_give_typed_configs():
    params.validate(REAL)
    for model in REAL["run"]["translation"]["models"]:
        for lang in REAL["run"]["translation"]["langs"]:
            cfg = mt_config(REAL, model, lang)
            assert cfg.init in ("pretrained", "random") and cfg.decoder_layers >= 1
    assert decode_config(REAL).num_beams >= 1


def test_the_control_differs_from_the_warm_start_only_in_initialisation():
    # me5-small-random is `<<: *encdec` + init: random in params.yaml (a YAML merge key)
    assert "<<: *encdec" in (REPO / "params.yaml").read_text()
    a = mt_config(REAL, "me5-small", "hi").__dict__
    b = mt_config(REAL, "me5-small-random", "hi").__dict__
    assert {k for k in a if a[k] != b[k]} == {"init"}


def test_overrides_merge_over_the_section_and_null_samples_mean_all():
    te, hi = mt_config(REAL, "me5-small", "te"), mt_config(REAL, "me5-small", "hi")
    assert te.max_train_samples == 8000 and hi.max_train_samples is None
    assert te.learning_rate == hi.learning_rate == pytest.approx(1e-4)


def test_model_fields_and_defaults_match_the_dataclass():
    from dataclasses import MISSING, fields

    from xlt.config import TranslationModel
    model = {k: f for k, f in TranslationModel.model_fields.items() if k != "langs"}
    assert list(model) == [f.name for f in fields(MTConfig)]
    for f in fields(MTConfig):
        if f.default is MISSING:
            assert model[f.name].is_required(), f.name
        else:
            assert model[f.name].default == f.default, f.name
    from xlt.config import Decode, Filters as FiltersModel
    from xlt.translation.config import DecodeConfig
    from xlt.translation.data import Filters
    assert Decode().model_dump() == DecodeConfig().__dict__
    assert list(FiltersModel.model_fields) == list(Filters.__dataclass_fields__)


def _broken(edit) -> dict:
    p = copy.deepcopy(REAL)
    edit(p)
    return p


def _problems(edit) -> list[str]:
    return params.problems(_broken(edit))


def _models(p):
    return p["translation"]["models"]


# Every mistake: the exact line `xlt check` prints (less the file name), and load() raises it.
@pytest.mark.parametrize("edit, message", [
    (lambda p: _models(p)["me5-small"].update(learnig_rate=1e-4),
     "translation.models.me5-small.learnig_rate: unknown key (did you mean 'learning_rate'?)"),
    (lambda p: _models(p)["me5-small"].update(batch_size="many"),
     "translation.models.me5-small.batch_size: expected an integer >= 1, got 'many'"),
    (lambda p: _models(p)["me5-small"].update(batch_size=8.7),             # never truncated to 8
     "translation.models.me5-small.batch_size: expected an integer >= 1, got 8.7"),
    (lambda p: _models(p)["me5-small"].update(learning_rate=-1e-4),
     "translation.models.me5-small.learning_rate: expected a number > 0, got -0.0001"),
    (lambda p: _models(p)["me5-small"].update(decoder_layers=0),
     "translation.models.me5-small.decoder_layers: expected an integer >= 1, got 0"),
    (lambda p: _models(p)["me5-small"].update(stage1_ratio=1.0),
     "translation.models.me5-small.stage1_ratio: expected a number in [0, 1), got 1.0"),
    (lambda p: _models(p)["me5-small"].update(init="warm"),
     "translation.models.me5-small.init: unknown value 'warm' (known: pretrained, random)"),
    (lambda p: _models(p)["me5-small"].update(stage1_train="decodr"),
     "translation.models.me5-small.stage1_train: unknown value 'decodr' (did you mean 'decoder'?)"),
    (lambda p: _models(p)["me5-small"].update(encoder="bert"),
     "translation.models.me5-small.encoder: 'bert' has no section under encoders (did you mean 'mbert'?)"),
    (lambda p: _models(p)["me5-small"].pop("stage1_learning_rate"),
     "translation.models.me5-small.stage1_learning_rate: required when stage1_ratio > 0 (stage1_ratio is 0.3)"),
    (lambda p: _models(p)["tiny-random"].update(langs={"te": {"stage1_learning_rate": None}}),
     "translation.models.tiny-random.langs.te.stage1_learning_rate: required when stage1_ratio > 0 "
     "(stage1_ratio is 0.2)"),
    # a typo in a per-language override is reported where it is, not at the section
    (lambda p: _models(p)["me5-small-gpu"].update(langs={"te": {"max_train_sample": 10}}),
     "translation.models.me5-small-gpu.langs.te.max_train_sample: unknown key (did you mean 'max_train_samples'?)"),
    (lambda p: _models(p)["me5-small-gpu"].update(langs={"ta": {}}),
     "translation.models.me5-small-gpu.langs.ta: unknown key (known: hi, te)"),
    # every declared model is checked, not only those of run.translation.models
    (lambda p: _models(p)["me5-small-gpu"].update(epochs=0),
     "translation.models.me5-small-gpu.epochs: expected a number > 0, got 0"),
    (lambda p: _models(p).update({"spare": {k: v for k, v in _models(p)["me5-small-gpu"].items() if k != "init"}}),
     "translation.models.spare.init: missing key"),
    (lambda p: p["run"]["translation"].update(langs=["hi", "ta"]),
     "run.translation.langs[1]: unknown value 'ta' (known: hi, te)"),
    (lambda p: p["run"]["translation"].update(models=["me5-smal"]),
     "run.translation.models[0]: 'me5-smal' has no section under translation.models (did you mean 'me5-small'?)"),
    (lambda p: p["run"]["translation"].update(generators=["gemma"]),
     "run.translation.generators[0]: 'gemma' has no section under translation.generators "
     "(did you mean 'gemma3-270m'?)"),
    (lambda p: p["translation"]["data"].pop("te"),
     "run.translation.langs[1]: 'te' has no section translation.data.te"),
    (lambda p: p["translation"]["data"].update(hi=None),                    # was an AttributeError
     "translation.data.hi: expected a mapping, got None"),
    (lambda p: p["translation"]["data"]["hi"]["train"].update(flores=None),
     "translation.data.hi.train.flores: unknown corpus 'flores' (did you mean 'flores200-dev'?)"),
    (lambda p: p["translation"]["data"]["hi"]["train"].update(pib=None),
     "translation.data.hi.train.pib: corpus 'pib' has no English-hi side (it has English-te)"),
    (lambda p: p["translation"]["data"]["te"].update(dev="flores200-devtst"),
     "translation.data.te.dev: unknown corpus 'flores200-devtst' (did you mean 'flores200-devtest'?)"),
    (lambda p: p["translation"]["data"]["te"].update(test=["flores200-devtest"]),
     "translation.data.te.test: expected a mapping, got ['flores200-devtest']"),
    (lambda p: p["translation"]["data"]["te"].update(test={}),
     "translation.data.te.test: expected at least one corpus (a mapping corpus -> cap, null = all)"),
    (lambda p: p["translation"]["data"]["hi"]["train"].update(bible=0),
     "translation.data.hi.train.bible: expected an integer >= 1 (unquoted) or null, got 0"),
    (lambda p: p["translation"]["data"]["filters"].update(max_word=60),
     "translation.data.filters.max_word: unknown key (did you mean 'max_words'?)"),
    (lambda p: p["translation"]["data"]["filters"].update(min_script_fraction="most"),
     "translation.data.filters.min_script_fraction: expected a number in [0, 1], got 'most'"),
    (lambda p: p["translation"]["data"]["filters"].update(max_length_ratio=0.5),
     "translation.data.filters.max_length_ratio: expected a number >= 1, got 0.5"),
    (lambda p: p["translation"]["decode"].update(num_beam=4),
     "translation.decode.num_beam: unknown key (did you mean 'num_beams'?)"),
    (lambda p: p["translation"]["decode"].update(num_beams=-1),
     "translation.decode.num_beams: expected an integer >= 1, got -1"),
    (lambda p: p["translation"]["generate"].update(repetition_penalty=0),
     "translation.generate.repetition_penalty: expected a number > 0, got 0"),
    (lambda p: p["translation"].update(anything=1),
     "translation.anything: unknown key (known: data, decode, models, generators, generate)"),
    (lambda p: p.update(translation=None),
     "run.translation: set, but there is no 'translation' section"),
])
def test_mistakes_are_named(edit, message):
    assert _problems(edit) == [message]
    with pytest.raises(ParamsError) as e:
        params.validate(_broken(edit))
    assert str(e.value) == f"params.yaml: {message}"


def test_the_wrappers_name_the_same_key():
    p = _broken(lambda p: _models(p)["me5-small"]["langs"]["te"].update(epochs=-1))
    with pytest.raises(ParamsError) as e:
        mt_config(p, "me5-small", "hi")
    assert str(e.value) == "params.yaml: translation.models.me5-small.langs.te.epochs: expected a number > 0, got -1"
    with pytest.raises(ParamsError, match=r"^params.yaml: translation.models.me5-large: no such section \(known: "):
        mt_config(REAL, "me5-large", "hi")
    with pytest.raises(ParamsError) as e:
        decode_config(_broken(lambda p: p["translation"]["decode"].update(batch_size=2.5)))
    assert str(e.value) == "params.yaml: translation.decode.batch_size: expected an integer >= 1, got 2.5"


def test_filters_from_params_is_checked():
    from xlt.translation.data import Filters
    assert Filters.from_params(REAL["translation"]["data"]["filters"]) == Filters(60, 2.5, 0.6)
    with pytest.raises(ParamsError) as e:
        Filters.from_params({"max_words": "60", "max_length_ratio": 2, "min_script_frac": 0.5})
    # the misspelt required key is reported once, as the typo ('60' is read as 60)
    assert e.value.problems == [
        "params.yaml: translation.data.filters.min_script_frac: unknown key (did you mean 'min_script_fraction'?)"]


def test_dvc_exp_strings_are_cast():
    p = _broken(lambda p: _models(p)["me5-small"].update(learning_rate="2e-05", freeze_embeddings="true",
                                                         batch_size="8", decoder_layers="2"))
    params.validate(p)
    cfg = mt_config(p, "me5-small", "hi")
    assert cfg.learning_rate == 2e-05 and cfg.freeze_embeddings is True
    assert type(cfg.batch_size) is int and cfg.batch_size == 8 and cfg.decoder_layers == 2
    assert type(cfg.epochs) is float


def test_bf16_auto_follows_the_cpu(monkeypatch):
    from xlt import speed
    p = _broken(lambda p: _models(p)["me5-small"].update(bf16="auto"))
    monkeypatch.setattr(speed, "cpu_flags", lambda: frozenset({"avx2"}))
    assert mt_config(p, "me5-small", "hi").bf16 is False
    monkeypatch.setattr(speed, "cpu_flags", lambda: frozenset({"avx2", "amx_bf16"}))
    assert mt_config(p, "me5-small", "hi").bf16 is True
