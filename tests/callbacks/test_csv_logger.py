"""CSVLogger: sorted columns, NA, separator, header once when appending, no open handle."""

import csv
import os
import sys

import numpy as np
import pytest

from minitrain.callbacks import CSVLogger, LambdaCallback

from .fakes import FakeModel, run_fit


def raw(path):
    """The file's text with its line endings untouched."""
    return path.read_bytes().decode()


LOGS = [
    {"val_loss": 0.5, "loss": 0.25, "accuracy": 0.75},
    {"val_loss": 0.375, "loss": 0.125, "accuracy": 0.875},
]


def test_one_row_per_epoch_with_sorted_columns(tmp_path):
    path = tmp_path / "log.csv"
    run_fit(FakeModel(), [CSVLogger(path)], LOGS)
    assert path.read_bytes() == (
        b"epoch,accuracy,loss,val_loss\r\n0,0.75,0.25,0.5\r\n1,0.875,0.125,0.375\r\n"
    )


def test_a_missing_value_is_na_and_the_columns_stay_those_of_the_first_epoch(tmp_path):
    path = tmp_path / "log.csv"
    logs = [{"loss": 0.5, "val_loss": 0.75}, {"loss": 0.25, "extra": 1.0}]
    run_fit(FakeModel(), [CSVLogger(path)], logs)
    assert raw(path) == "epoch,loss,val_loss\r\n0,0.5,0.75\r\n1,0.25,NA\r\n"


def test_the_separator_and_the_epoch_numbers_are_as_given(tmp_path):
    path = tmp_path / "log.csv"
    run_fit(
        FakeModel(),
        [CSVLogger(path, separator=";")],
        lambda e: {"loss": e / 4},
        epochs=4,
        initial_epoch=2,
    )
    # no val_ key in the first epoch: a val_ column per key, NA until validation (Keras)
    assert raw(path) == "epoch;loss;val_loss\r\n2;0.5;NA\r\n3;0.75;NA\r\n"


def test_appending_writes_the_header_once(tmp_path):
    path = tmp_path / "log.csv"
    logger = CSVLogger(path, append=True)
    run_fit(FakeModel(), [logger], LOGS[:1])
    run_fit(FakeModel(), [logger], LOGS)
    assert raw(path).split("\r\n") == [
        "epoch,accuracy,loss,val_loss",
        "0,0.75,0.25,0.5",
        "0,0.75,0.25,0.5",
        "1,0.875,0.125,0.375",
        "",
    ]


def test_appending_to_an_empty_file_writes_the_header(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("")
    run_fit(FakeModel(), [CSVLogger(path, append=True)], [{"loss": 0.5}])
    assert raw(path) == "epoch,loss,val_loss\r\n0,0.5,NA\r\n"


def test_without_append_an_existing_file_is_overwritten(tmp_path):
    path = tmp_path / "sub" / "log.csv"
    path.parent.mkdir()
    path.write_text("old\r\n")
    run_fit(FakeModel(), [CSVLogger(path)], [{"loss": 0.5}])
    assert raw(path) == "epoch,loss,val_loss\r\n0,0.5,NA\r\n"


def test_an_array_value_is_written_as_a_list_as_keras(tmp_path):
    path = tmp_path / "log.csv"
    run_fit(FakeModel(), [CSVLogger(path)], [{"f1": np.array([0.5, 0.25]), "loss": "low"}])
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [
        ["epoch", "f1", "loss", "val_f1", "val_loss"],
        ["0", '"[0.5, 0.25]"', "low", "NA", "NA"],
    ]


def open_paths():
    """The files this process holds open."""
    paths = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            paths.add(os.path.realpath(os.readlink(f"/proc/self/fd/{fd}")))
        except OSError:  # the descriptor listdir itself used, closed by now
            pass
    return paths


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/fd")
def test_no_handle_stays_open_and_finished_epochs_are_on_disk_when_fit_is_interrupted(tmp_path):
    path = tmp_path / "log.csv"
    observed = []

    def check(epoch, logs):
        observed.append((str(path.resolve()) in open_paths(), raw(path)))
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_fit(FakeModel(), [CSVLogger(path), LambdaCallback(on_epoch_end=check)], LOGS)
    assert observed == [
        (False, "epoch,accuracy,loss,val_loss\r\n0,0.75,0.25,0.5\r\n"),
        (False, "epoch,accuracy,loss,val_loss\r\n0,0.75,0.25,0.5\r\n1,0.875,0.125,0.375\r\n"),
    ]
    assert str(path.resolve()) not in open_paths()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"filename": "log.csv", "separator": ";;"},
            ValueError,
            "separator must be a one-character",
        ),
        ({"filename": "log.csv", "separator": ""}, ValueError, "separator must be a one-character"),
        ({"filename": 3}, TypeError, "filename must be a path"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        CSVLogger(**kwargs)


def test_val_columns_for_every_key_when_the_first_epoch_does_not_validate(tmp_path):
    path = tmp_path / "log.csv"
    logs = [
        {"loss": 0.5, "learning_rate": 0.25},
        {"loss": 0.25, "learning_rate": 0.25, "val_loss": 0.75},
    ]
    run_fit(FakeModel(), [CSVLogger(path)], logs)
    assert raw(path).split("\r\n") == [
        "epoch,learning_rate,loss,val_learning_rate,val_loss",
        "0,0.25,0.5,NA,NA",
        "1,0.25,0.25,NA,0.75",
        "",
    ]
