"""TerminateOnNaN: stop (or raise) after the batch whose running loss is not finite."""

import math

import pytest

from minitrain.callbacks import LambdaCallback, TerminateOnNaN

from .fakes import FakeModel, run_fit


def running_losses(bad):
    losses = [1.0, 2.0, bad, 3.0, 4.0]
    return lambda epoch, batch: {"loss": losses[batch]}


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_stops_after_the_batch_with_a_non_finite_loss(bad, capsys):
    batches, ends = [], []
    log = LambdaCallback(
        on_train_batch_end=lambda batch, logs: batches.append(batch),
        on_epoch_end=lambda epoch, logs: ends.append(("epoch", epoch)),
        on_train_end=lambda logs: ends.append(("train", None)),
    )
    model = FakeModel()
    run_fit(
        model, [TerminateOnNaN(), log], [{"loss": bad}] * 3, steps=5, batch_logs=running_losses(bad)
    )
    assert model.stop_training is True
    assert batches == [0, 1, 2]  # the batch loop ended after batch 2
    assert ends == [("epoch", 0), ("train", None)]  # the epoch and the run still end normally
    assert capsys.readouterr().out == "Batch 2: Invalid loss, terminating training\n"


def test_finite_losses_never_stop():
    model = FakeModel()
    history = run_fit(
        model, [TerminateOnNaN()], [{"loss": 1.0}] * 3, steps=5, batch_logs=running_losses(9.0)
    )
    assert model.stop_training is False and len(history.epoch) == 3


def test_logs_without_a_loss_are_ignored():
    model = FakeModel()
    cb = TerminateOnNaN()
    cb.set_model(model)
    cb.on_train_batch_end(0, {"accuracy": math.nan})
    cb.on_train_batch_end(1, None)
    assert model.stop_training is False


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_raise_error_raises_at_once(bad):
    model = FakeModel()
    with pytest.raises(
        RuntimeError, match=f"NaN or Inf loss encountered at batch 2. Loss value: {bad}"
    ):
        run_fit(
            model,
            [TerminateOnNaN(raise_error=True)],
            [{"loss": bad}],
            steps=5,
            batch_logs=running_losses(bad),
        )
    assert model.stop_training is False
