"""The translation section of params.yaml: typed settings and clear errors before any work."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from xlt import params
from xlt.params import ParamsError
from xlt.translation.config import decode_config, mt_config

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
    a = mt_config(REAL, "me5-small", "hi").__dict__
    b = mt_config(REAL, "me5-small-random", "hi").__dict__
    assert {k for k in a if a[k] != b[k]} == {"init"}


def _broken(edit) -> dict:
    p = copy.deepcopy(REAL)
    edit(p)
    return p


@pytest.mark.parametrize("edit, message", [
    (lambda p: p["translation"]["models"]["me5-small"].update(learnig_rate=1e-4),
     "translation.models.me5-small.learnig_rate: unknown key (did you mean 'learning_rate'?)"),
    (lambda p: p["translation"]["models"]["me5-small"].update(batch_size="many"),
     "translation.models.me5-small.batch_size: expected int, got 'many'"),
    (lambda p: p["translation"]["models"]["me5-small"].update(init="warm"),
     "translation.models.me5-small.init must be 'pretrained' or 'random'"),
    (lambda p: p["translation"]["models"]["me5-small"].update(encoder="bert"),
     "encoder names 'bert', which has no section under 'encoders'"),
    (lambda p: p["run"]["translation"].update(langs=["hi", "ta"]), "unknown target 'ta'"),
    (lambda p: p["run"]["translation"].update(models=["me5-large"]), "no section translation.models.me5-large"),
    (lambda p: p["translation"]["data"]["hi"]["train"].update(flores=None),
     "translation.data.hi names unknown corpus 'flores'"),
    (lambda p: p["translation"]["data"]["hi"]["train"].update(pib=None), "corpus 'pib' has no English-hi side"),
    (lambda p: p["translation"]["decode"].update(num_beam=4), "translation.decode.num_beam: unknown key"),
    (lambda p: p["translation"]["data"]["te"].update(test=["flores200-devtest"]),
     "translation.data.te.test: expected a mapping corpus -> cap"),
])
def test_mistakes_are_named(edit, message):
    with pytest.raises(ParamsError, match=None) as e:
        params.validate(_broken(edit))
    assert message in str(e.value)


def test_dvc_exp_strings_are_cast():
    p = _broken(lambda p: p["translation"]["models"]["me5-small"].update(learning_rate="2e-05", freeze_embeddings="true"))
    params.validate(p)
    cfg = mt_config(p, "me5-small", "hi")
    assert cfg.learning_rate == 2e-05 and cfg.freeze_embeddings is True
