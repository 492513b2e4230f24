"""xlt.training's run log (DVCLive) and what stays out of the model directory."""
from __future__ import annotations

from types import SimpleNamespace

from xlt import io, training
from xlt.layout import Layout


def _log(callback, step: int, **values) -> None:
    callback.on_log(None, SimpleNamespace(global_step=step, is_world_process_zero=True), None, logs=values)


def test_the_run_log_has_curves_against_optimizer_steps_and_no_speed_figures(tmp_path):
    live = training.open_log(tmp_path / "log")
    callback = training.StepLog(live=live)
    args = SimpleNamespace(to_dict=lambda: {"learning_rate": 5e-5, "seed": 42})
    callback.on_train_begin(args, SimpleNamespace(is_world_process_zero=True), None)   # logs the arguments
    _log(callback, 20, loss=0.9, grad_norm=1.5, learning_rate=5e-5, epoch=0.5)
    _log(callback, 40, loss=0.7, grad_norm=1.2, learning_rate=4e-5, epoch=1.0)
    _log(callback, 40, eval_loss=0.8, eval_f1=0.6, eval_runtime=3.2, eval_samples_per_second=99.0,
         eval_steps_per_second=2.0, epoch=1.0)
    # The Trainer's closing summary: speed figures and the run's mean loss, no curve point.
    _log(callback, 40, train_runtime=12.0, train_samples_per_second=50.0, train_steps_per_second=3.0,
         total_flos=1e12, train_loss=0.8, epoch=1.0)
    metrics = tmp_path / "log/plots/metrics"
    assert (metrics / "loss.tsv").read_text() == "step\tloss\n20\t0.9\n40\t0.7\n"
    assert (metrics / "eval/f1.tsv").read_text() == "step\tf1\n40\t0.6\n"
    files = {p.relative_to(metrics).as_posix() for p in metrics.rglob("*.tsv")}
    assert files == {"loss.tsv", "grad_norm.tsv", "learning_rate.tsv", "epoch.tsv", "eval/loss.tsv",
                     "eval/f1.tsv"}, files
    assert all(p.exists() for p in Layout.log_files(tmp_path / "log"))      # what the stages declare
    assert "runtime" not in (tmp_path / "log/metrics.json").read_text()
    assert io.read_json(Layout.log_summary(tmp_path / "log"))["loss"] == 0.7

