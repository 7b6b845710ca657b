"""The progress printer: Keras's line formats, checked character by character."""

import math

import pytest

from minitrain.callbacks import CallbackList, ProgbarLogger
from minitrain.callbacks.progress import format_eta, format_time_per_step, format_value

from .fakes import FakeModel

GREEN, GREY, RESET = "\x1b[32m", "\x1b[37m", "\x1b[0m"


class Clock:
    """A fake clock the test moves by hand."""

    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def epoch(printer, clock, index, batch_logs, epoch_logs, dt):
    """One epoch: each batch takes ``dt`` seconds (exact binary fractions keep sums exact)."""
    printer.on_epoch_begin(index)
    for batch, logs in enumerate(batch_logs):
        clock.t += dt
        printer.on_train_batch_end(batch, logs)
    printer.on_epoch_end(index, epoch_logs)


def make(verbose, epochs, steps, **kwargs):
    clock = Clock()
    printer = ProgbarLogger(clock=clock, **kwargs)
    printer.set_params({"verbose": verbose, "epochs": epochs, "steps": steps})
    printer.on_train_begin()
    return printer, clock


EPOCH_LOGS = {
    "loss": 0.42109,
    "accuracy": 0.81234,
    "val_loss": 0.5,
    "val_accuracy": 0.7,
    "learning_rate": 0.001,
}
SUMMARY = "accuracy: 0.8123 - loss: 0.4211 - val_accuracy: 0.7000 - val_loss: 0.5000"


def test_verbose_2_prints_one_line_per_epoch(capsys):
    printer, clock = make(verbose=2, epochs=10, steps=50)
    # 50 batches of 1/256 s: 0.195 s in all (prints 0s), 3.9 ms per batch (prints 4ms).
    epoch(printer, clock, 2, [{"loss": 0.5}] * 50, EPOCH_LOGS, dt=1 / 256)
    assert capsys.readouterr().out == f"Epoch 3/10\n50/50 - 0s - 4ms/step - {SUMMARY}\n"


def test_verbose_1_without_a_terminal_prints_only_the_finished_line(capsys):
    printer, clock = make(verbose=1, epochs=10, steps=50)  # capsys' stdout is no terminal
    epoch(printer, clock, 2, [{"loss": 0.5}] * 50, EPOCH_LOGS, dt=1 / 256)
    assert capsys.readouterr().out == f"Epoch 3/10\n50/50 {'━' * 20} 0s 4ms/step - {SUMMARY}\n"


def test_verbose_1_on_a_terminal_redraws_the_line_in_place_at_most_every_interval(capsys):
    # 4 batches of 2 s, redraws at least 4 s apart: after batches 1 and 3 (t = 2, 6),
    # then the finished line at t = 8.
    printer, clock = make(verbose=1, epochs=1, steps=4, dynamic=True, interval=4.0)
    batch_logs = [{"loss": 12.5}, {"loss": 11.0}, {"loss": 1.5}, {"loss": 1.25}]
    epoch(printer, clock, 0, batch_logs, {"loss": 1.25, "val_loss": 2.0}, dt=2.0)
    # Batch 1: 5 of 20 cells done; 2 s per step so far, 3 steps left: 6 s.
    first = f"\r1/4 {GREEN}{'━' * 5}{RESET}{GREY}{'━' * 15}{RESET} 6s 2s/step - loss: 12.5000"
    # Batch 3: 15 cells; 1 step left: 2 s; one character shorter, so one space erases.
    third = f"\r3/4 {GREEN}{'━' * 15}{RESET}{GREY}{'━' * 5}{RESET} 2s 2s/step - loss: 1.5000 "
    # Finished: the epoch's 8 s instead of the time left, and the validation loss.
    final = f"\r4/4 {GREEN}{'━' * 20}{RESET}{GREY}{RESET} 8s 2s/step"
    final += " - loss: 1.2500 - val_loss: 2.0000\n"
    assert capsys.readouterr().out == first + third + final


def test_the_time_left_and_the_time_per_step_leave_out_the_first_batch(capsys):
    printer, clock = make(verbose=1, epochs=1, steps=100, dynamic=True, interval=0.0)
    printer.on_epoch_begin(0)
    clock.t = 10.0  # a slow first batch
    printer.on_train_batch_end(0, {})
    clock.t = 12.0
    printer.on_train_batch_end(1, {})
    # After the first batch: 10 s per step, 99 left: 990 s. After the second: the second
    # batch alone took 2 s: 2 s per step, 98 left: 196 s.
    first, second = capsys.readouterr().out.split("\r")[1:]
    assert first == f"  1/100 {GREY}{'━' * 20}{RESET} 16:30 10s/step"
    assert second.rstrip() == f"  2/100 {GREY}{'━' * 20}{RESET} 3:16 2s/step"


def test_a_single_epoch_has_no_epoch_line_and_verbose_0_prints_nothing(capsys):
    printer, clock = make(verbose=2, epochs=1, steps=2)
    epoch(printer, clock, 0, [{"loss": 1.0}] * 2, {"loss": 1.0}, dt=0.5)
    quiet, quiet_clock = make(verbose=0, epochs=3, steps=2, dynamic=True)
    epoch(quiet, quiet_clock, 0, [{"loss": 1.0}] * 2, {"loss": 1.0}, dt=0.5)
    assert capsys.readouterr().out == "2/2 - 1s - 500ms/step - loss: 1.0000\n"


def test_an_epoch_ended_early_shows_the_batches_run(capsys):
    printer, clock = make(verbose=1, epochs=1, steps=50)
    epoch(printer, clock, 0, [{"loss": 1.0}] * 20, {"loss": 1.0}, dt=0.25)
    assert capsys.readouterr().out == f"20/50 {'━' * 20} 5s 250ms/step - loss: 1.0000\n"


def test_validation_inside_fit_is_silent_and_evaluate_gets_its_own_line(capsys):
    printer, clock = make(verbose=2, epochs=1, steps=2)
    printer.on_test_begin()
    printer.on_test_batch_end(0, {"loss": 3.0})
    printer.on_test_end({"loss": 3.0})
    assert capsys.readouterr().out == ""

    evaluating = ProgbarLogger(clock=clock)
    evaluating.set_params({"verbose": 2, "epochs": 1, "steps": 3})
    evaluating.on_test_begin()
    for batch in range(3):
        clock.t += 0.125
        evaluating.on_test_batch_end(batch, {"loss": 2.0, "accuracy": 0.5})
    evaluating.on_test_end({"loss": 2.0, "accuracy": 0.5})
    assert capsys.readouterr().out == "3/3 - 0s - 125ms/step - accuracy: 0.5000 - loss: 2.0000\n"


def test_fit_adds_the_printer_last_and_it_reads_verbose_from_the_params(capsys):
    cbs = CallbackList([], model=FakeModel(), add_progbar=True, verbose=2, epochs=2, steps=1)
    printer = cbs.callbacks[-1]
    assert isinstance(printer, ProgbarLogger)
    assert (printer.verbose, printer.epochs, printer.target) == (2, 2, 1)
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    cbs.on_train_batch_end(0, {"loss": 1.0})
    cbs.on_epoch_end(0, {"loss": 1.0})
    out = capsys.readouterr().out
    assert out.startswith("Epoch 1/2\n1/1 - ") and out.endswith("/step - loss: 1.0000\n")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (45.9, "45s"), (60, "60s"), (75, "1:15"), (3600, "60:00"), (3725, "1:02:05")],
)
def test_format_eta(seconds, text):
    assert format_eta(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s/step"), (2.0, "2s/step"), (1.0, "1s/step"), (0.003, "3ms/step"),
     (0.25, "250ms/step"), (5e-5, "50us/step")],
)  # fmt: skip
def test_format_time_per_step(seconds, text):
    assert format_time_per_step(seconds) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.81234, "0.8123"), (12.5, "12.5000"), (-0.5, "-0.5000"), (1e-4, "1.0000e-04"),
     (0.0, "0.0000e+00"), (math.nan, "nan"), (math.inf, "inf"), (3, "3.0000"), ("x", "x")],
)  # fmt: skip
def test_format_value(value, text):
    assert format_value(value) == text
