"""Two-stage optimisation of the warm-started encoder-decoder (xlt.translation.train): the first
stage trains only what is new, the second everything; the learning-rate schedule per stage."""
from __future__ import annotations

import dataclasses

import pytest
import torch
from datasets import Dataset
from transformers import AutoTokenizer, DataCollatorForSeq2Seq, Seq2SeqTrainingArguments, TrainerCallback
from transformers.trainer_callback import TrainerControl, TrainerState

from xlt.translation import model as mt
from xlt.translation.config import MTConfig
from xlt.translation.train import TwoStage, TwoStageTrainer, is_new, learning_rate, stage1_steps

CFG = MTConfig(encoder="tiny", init="pretrained", decoder_layers=1, learning_rate=1e-3, batch_size=4, epochs=1,
               warmup_ratio=0.0, max_source_length=16, max_target_length=16, stage1_ratio=0.5,
               stage1_learning_rate=5e-3, stage1_train="new")


@pytest.fixture
def encoder_dir(tiny_encoder):
    """The random encoder source (2 layers) with a trimmed vocabulary (tests/conftest.py), shared
    by the session: read-only."""
    return tiny_encoder


def _model(encoder_dir, cfg=CFG):
    return mt.build(encoder_dir, cfg, AutoTokenizer.from_pretrained(encoder_dir))


def _grad_flags(model) -> dict[str, bool]:
    return {n: p.requires_grad for n, p in model.named_parameters()}


def test_new_parameters_are_the_cross_attention_and_the_output_transform(encoder_dir):
    names = [n for n, _ in _model(encoder_dir).named_parameters()]
    new = [n for n in names if is_new(n)]
    assert new and all(".crossattention." in n or n.startswith("decoder.cls.predictions.") for n in new)
    # the output projection is tied to the decoder's word embeddings: pretrained, not new
    assert not any(n.startswith("encoder.") for n in new)
    assert "decoder.bert.embeddings.word_embeddings.weight" in names


def test_the_callback_freezes_the_pretrained_parameters_until_the_switch(encoder_dir):
    model = _model(encoder_dir)
    assert all(_grad_flags(model).values())
    callback, state = TwoStage(model, CFG), TrainerState(max_steps=10)
    assert stage1_steps(CFG, state.max_steps) == 5
    callback.on_train_begin(None, state, TrainerControl())
    flags = _grad_flags(model)
    assert {n for n, on in flags.items() if on} == {n for n in flags if is_new(n)}
    for step in range(1, 5):
        state.global_step = step
        callback.on_step_begin(None, state, TrainerControl())
        assert _grad_flags(model) == flags
    state.global_step = 5
    callback.on_step_begin(None, state, TrainerControl())
    assert all(_grad_flags(model).values())


def test_stage_one_may_train_the_whole_decoder_instead(encoder_dir):
    cfg = dataclasses.replace(CFG, stage1_train="decoder")
    model = _model(encoder_dir, cfg)
    TwoStage(model, cfg).on_train_begin(None, TrainerState(max_steps=10), TrainerControl())
    flags = _grad_flags(model)
    assert {n for n, on in flags.items() if on} == {n for n in flags if n.startswith("decoder.")}


def test_frozen_embeddings_stay_frozen_in_the_second_stage(encoder_dir):
    cfg = dataclasses.replace(CFG, freeze_embeddings=True)
    model = _model(encoder_dir, cfg)
    callback, state = TwoStage(model, cfg), TrainerState(max_steps=4, global_step=2)
    callback.on_train_begin(None, state, TrainerControl())      # a resumed run starting in stage 2
    flags = _grad_flags(model)
    assert not flags["encoder.embeddings.word_embeddings.weight"]
    assert not flags["decoder.bert.embeddings.word_embeddings.weight"]
    assert flags["encoder.encoder.layer.0.attention.self.query.weight"]


def test_learning_rate_per_stage():
    cfg = dataclasses.replace(CFG, warmup_ratio=0.1, stage1_ratio=0.3)
    lrs = [learning_rate(s, 100, cfg) for s in range(100)]
    assert lrs[0] == pytest.approx(cfg.stage1_learning_rate / 3)            # warm-up over 3 of 30 steps
    assert lrs[2:30] == [pytest.approx(cfg.stage1_learning_rate)] * 28       # then constant
    assert lrs[30] == pytest.approx(cfg.learning_rate / 7)                   # stage 2 warms up again (7 of 70)
    assert max(lrs[30:]) == pytest.approx(cfg.learning_rate)
    assert lrs[-1] < lrs[50] and lrs[-1] == pytest.approx(cfg.learning_rate / 63)   # decays towards 0
    one = dataclasses.replace(cfg, stage1_ratio=0.0)
    assert learning_rate(0, 100, one) == pytest.approx(cfg.learning_rate / 10)


class _Snapshots(TrainerCallback):
    def __init__(self):
        self.at = {}

    def on_step_begin(self, args, state, control, model=None, **kwargs):
        self.at[state.global_step] = {n: p.detach().clone() for n, p in model.named_parameters()}


def test_training_leaves_the_pretrained_weights_untouched_in_stage_one(encoder_dir, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
    torch.manual_seed(0)
    model = _model(encoder_dir)
    pairs = [{"en": f"sentence number {i}", "tgt": f"वाक्य संख्या {i}"} for i in range(16)]
    ds = Dataset.from_list(pairs).map(lambda b: mt.tokenize(b, tokenizer, CFG), batched=True, remove_columns=["en", "tgt"])
    snaps = _Snapshots()
    args = Seq2SeqTrainingArguments(output_dir=str(tmp_path), per_device_train_batch_size=4, num_train_epochs=2,
                                    learning_rate=CFG.learning_rate, weight_decay=0.01, report_to="none",
                                    use_cpu=True, save_strategy="no", logging_steps=100, disable_tqdm=True)
    trainer = TwoStageTrainer(CFG, model=model, args=args, train_dataset=ds,
                              data_collator=DataCollatorForSeq2Seq(tokenizer, model=model), callbacks=[snaps])
    trainer.train()
    final = {n: p.detach() for n, p in model.named_parameters()}
    start, switch = snaps.at[0], snaps.at[4]                           # 8 steps, the first 4 in stage 1
    for n in final:
        if is_new(n):
            assert not torch.equal(start[n], switch[n]), n             # new parameters learn in stage 1
        else:
            assert torch.equal(start[n], switch[n]), n                 # pretrained ones do not (no decay either)
    assert not torch.equal(switch["encoder.encoder.layer.0.attention.self.query.weight"],
                           final["encoder.encoder.layer.0.attention.self.query.weight"])   # stage 2 trains them
    assert trainer.lr_scheduler.get_last_lr()[0] == pytest.approx(0.0)
