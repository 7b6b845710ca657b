"""BackupAndRestore with the fake model: what is saved, how a run resumes, when it is deleted."""

import numpy as np
import pytest

from minitrain.callbacks import BackupAndRestore, LambdaCallback
from minitrain.io import atomic_write_npz, from_json_array, json_array, read_npz

from .fakes import FakeModel, run_fit


def epoch_logs(epoch):
    return {"loss": 1.0 / (epoch + 1), "val_loss": 2.0 / (epoch + 1)}


def crash_at(hook, index, *, times=1):
    """A callback raising when ``hook`` is called with ``index`` for the ``times``-th time."""
    seen = []

    def crash(i, logs=None):
        seen.append(i)
        if seen.count(index) == times:
            raise RuntimeError(f"crash at {hook} {index}")

    return LambdaCallback(**{hook: crash})


def backup_contents(backup_dir):
    arrays = read_npz(backup_dir / "training_state.npz")
    return arrays["0.W"], int(arrays["iterations"]), from_json_array(arrays["meta"], "meta")


def test_each_epoch_end_backs_up_the_next_epoch_and_the_history_so_far(tmp_path):
    model = FakeModel()
    cb = BackupAndRestore(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="crash at on_epoch_begin 3"):
        run_fit(model, [cb, crash_at("on_epoch_begin", 3)], epoch_logs, epochs=5)
    w, iterations, meta = backup_contents(tmp_path / "backup")
    np.testing.assert_array_equal(w, [2.0, 2.0, 2.0])  # the weights at the end of epoch 2
    assert iterations == 3
    assert meta == {
        "epoch": 3,
        "step": 0,
        "history": {"loss": [1.0, 0.5, 1 / 3], "val_loss": [2.0, 1.0, 2 / 3]},
    }


def test_a_resumed_run_ends_as_an_uninterrupted_one_and_deletes_the_backup(tmp_path):
    reference = FakeModel()
    expected = run_fit(reference, [], epoch_logs, epochs=5)

    backup_dir = tmp_path / "backup"
    with pytest.raises(RuntimeError):
        run_fit(
            FakeModel(),
            [BackupAndRestore(backup_dir), crash_at("on_epoch_begin", 3)],
            epoch_logs,
            epochs=5,
        )
    assert (backup_dir / "training_state.npz").is_file()  # kept: on_train_end did not run

    model, epochs_begun = FakeModel(), []
    spy = LambdaCallback(on_epoch_begin=lambda epoch, logs: epochs_begun.append(epoch))
    history = run_fit(model, [BackupAndRestore(backup_dir), spy], epoch_logs, epochs=5)
    assert epochs_begun == [3, 4]
    assert history.history == expected.history and history.epoch == expected.epoch == [
        0,
        1,
        2,
        3,
        4,
    ]
    np.testing.assert_array_equal(model.w, reference.w)
    assert model.optimizer.iterations == reference.optimizer.iterations == 5
    assert not backup_dir.exists()


def test_on_train_begin_restores_the_state_and_sets_the_resume_point(tmp_path):
    backup_dir = tmp_path / "backup"
    with pytest.raises(RuntimeError):
        run_fit(
            FakeModel(),
            [BackupAndRestore(backup_dir), crash_at("on_epoch_begin", 2)],
            epoch_logs,
            epochs=5,
        )
    model = FakeModel()
    cb = BackupAndRestore(backup_dir)
    cb.set_model(model)
    cb.on_train_begin()
    assert model._resume == {
        "epoch": 2,
        "step": 0,
        "history": {"loss": [1.0, 0.5], "val_loss": [2.0, 1.0]},
    }
    np.testing.assert_array_equal(model.w, [1.0, 1.0, 1.0])
    assert model.optimizer.iterations == 2


def test_without_a_backup_nothing_is_restored(tmp_path):
    model = FakeModel()
    cb = BackupAndRestore(tmp_path / "backup")
    cb.set_model(model)
    cb.on_train_begin()
    assert model._resume is None and not (tmp_path / "backup").exists()


def test_an_int_save_freq_backs_up_mid_epoch_with_the_completed_epochs_history(tmp_path):
    # 4 batches per epoch, a backup every 3 batches: after epoch 0 batch 2 and epoch 1
    # batch 1; the crash comes before epoch 1 batch 3 (the 8th batch).
    backup_dir = tmp_path / "backup"
    saved = []

    def record(batch, logs):
        if (backup_dir / "training_state.npz").exists():
            saved.append(backup_contents(backup_dir)[2])

    callbacks = [
        BackupAndRestore(backup_dir, save_freq=3),
        LambdaCallback(on_train_batch_end=record),
        crash_at("on_train_batch_begin", 3, times=2),
    ]
    with pytest.raises(RuntimeError):
        run_fit(FakeModel(), callbacks, epoch_logs, epochs=3, steps=4)
    first = {"epoch": 0, "step": 3, "history": {}}
    second = {"epoch": 1, "step": 2, "history": {"loss": [1.0], "val_loss": [2.0]}}
    assert saved == [first, first, first, second, second]  # from batch 2 of epoch 0 on
    w, iterations, meta = backup_contents(backup_dir)
    np.testing.assert_array_equal(w, [1.01, 1.01, 1.01])  # after epoch 1 batch 1
    assert (iterations, meta) == (6, second)


def test_a_mid_epoch_backup_resumes_at_the_next_batch(tmp_path):
    backup_dir = tmp_path / "backup"
    callbacks = [
        BackupAndRestore(backup_dir, save_freq=3),
        crash_at("on_train_batch_begin", 3, times=2),
    ]
    with pytest.raises(RuntimeError):
        run_fit(FakeModel(), callbacks, epoch_logs, epochs=3, steps=4)
    batches = []
    spy = LambdaCallback(on_train_batch_begin=lambda b, logs: batches.append(b))
    model = FakeModel()
    callbacks = [BackupAndRestore(backup_dir, save_freq=3), spy]
    history = run_fit(model, callbacks, epoch_logs, epochs=3, steps=4)
    assert batches == [2, 3, 0, 1, 2, 3]  # epoch 1 from batch 2, then epoch 2
    assert history.epoch == [0, 1, 2] and history.history["loss"] == [1.0, 0.5, 1 / 3]
    assert model.optimizer.iterations == 12
    assert not backup_dir.exists()


def test_no_backup_at_epoch_ends_with_an_int_save_freq(tmp_path):
    backup_dir = tmp_path / "backup"
    callbacks = [BackupAndRestore(backup_dir, save_freq=10), crash_at("on_epoch_begin", 2)]
    with pytest.raises(RuntimeError):
        run_fit(FakeModel(), callbacks, epoch_logs, epochs=3, steps=4)
    assert not backup_dir.exists()  # 8 batches: no save yet, and none at the epoch ends


def test_delete_checkpoint_false_keeps_the_backup(tmp_path):
    backup_dir = tmp_path / "backup"
    run_fit(
        FakeModel(), [BackupAndRestore(backup_dir, delete_checkpoint=False)], epoch_logs, epochs=2
    )
    _, _, meta = backup_contents(backup_dir)
    assert meta["epoch"] == 2


def test_an_early_stop_is_a_normal_end_and_deletes_the_backup(tmp_path):
    backup_dir = tmp_path / "backup"

    def stop(epoch, logs):
        cb.model.stop_training = True

    cb = BackupAndRestore(backup_dir)
    run_fit(FakeModel(), [cb, LambdaCallback(on_epoch_end=stop)], epoch_logs, epochs=5)
    assert not backup_dir.exists()


def test_only_the_backup_file_is_deleted_from_a_shared_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    run_fit(FakeModel(), [BackupAndRestore(tmp_path)], epoch_logs, epochs=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_backup_without_a_resume_point_is_a_value_error(tmp_path):
    atomic_write_npz(
        tmp_path / "training_state.npz",
        {"0.W": np.zeros(3), "iterations": np.array(0), "meta": json_array({"epoch": 1})},
    )
    cb = BackupAndRestore(tmp_path)
    cb.set_model(FakeModel())
    with pytest.raises(ValueError, match="holds no valid resume point"):
        cb.on_train_begin()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"backup_dir": ""},
            ValueError,
            r"backup_dir must be a path to a folder \(a str or os.PathLike\), got an empty",
        ),
        ({"backup_dir": 3}, TypeError, "backup_dir must be a path to a folder"),
        (
            {"backup_dir": "b", "save_freq": 0},
            ValueError,
            r"save_freq must be 'epoch' \(a backup at every epoch end\) or a positive int",
        ),
        ({"backup_dir": "b", "save_freq": False}, ValueError, "save_freq must be 'epoch'"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        BackupAndRestore(**kwargs)


def test_a_backup_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="backup_dir must be a path to a folder .*, got the file"):
        BackupAndRestore(tmp_path / "file")
