"""Write ``minitrain_tour.ipynb`` from the cells below, run it, and save it with its outputs.

::

    python notebooks/build_tour.py            # write, execute (about a minute), save
    python notebooks/build_tour.py --no-run   # write the cells only, without outputs

The notebook is committed with its outputs, so that it reads on its own. Edit
the cells here, never in the ``.ipynb``: ``tests/test_notebook.py`` checks
that the committed cells are exactly those ``cells()`` returns, and runs the
notebook end to end. The notebook writes its files into a temporary folder,
and it runs with a temporary folder as its working directory.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from textwrap import dedent

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent / "minitrain_tour.ipynb"
KERNEL = "python3"


def md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(dedent(text).strip())


def code(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(dedent(text).strip())


def cells() -> list[nbformat.NotebookNode]:
    """Every cell of the tour, in order."""
    return [
        *_introduction(),
        *_hyperparameters(),
        *_fit_loop(),
        *_early_stopping(),
        *_crossentropy(),
        *_no_grad_and_eval(),
        *_model_checkpoint(),
        *_terminate_on_nan(),
        *_schedules(),
        *_batchnorm(),
        *_backprop_by_hand(),
        *_closing(),
    ]


def _introduction() -> list[nbformat.NotebookNode]:
    return [
        md("""
        # A tour of minitrain

        minitrain trains neural networks with NumPy alone: every layer's backward
        pass is written by hand, next to its forward, and `fit` runs the Keras
        callbacks in Keras's order. This notebook walks through the ideas a
        training loop is made of, one section each, with code you can run, a
        figure or a table, and a few sentences on what to see:

        1. hyperparameters versus parameters
        2. the fit loop and its callbacks
        3. EarlyStopping on a run that overfits
        4. categorical versus sparse categorical crossentropy
        5. `no_grad` versus `eval()`
        6. ModelCheckpoint
        7. TerminateOnNaN
        8. learning-rate schedules
        9. BatchNorm
        10. backprop by hand, checked with `gradcheck`

        Run it from top to bottom: it takes well under a minute on two cores.
        The files it writes go to a temporary folder, removed by the last cell.
        """),
        code("""
        import copy
        import math
        import shutil
        import tempfile
        import tracemalloc
        from pathlib import Path

        import matplotlib.pyplot as plt
        import numpy as np

        import minitrain as mt
        from minitrain.plot import (
            plot_activations,
            plot_decision_boundary,
            plot_history,
            plot_schedules,
        )

        np.set_printoptions(precision=4, suppress=True)
        workdir = Path(tempfile.mkdtemp(prefix="minitrain-tour-"))  # removed at the end

        # Three interleaved spiral arms: a classic that no straight line can separate.
        x, y = mt.data.make_spirals(n_per_class=200, seed=0)
        x_train, x_val, y_train, y_val = mt.data.train_test_split(x, y, test_size=0.25, seed=0)
        print(f"{len(x_train)} training and {len(x_val)} validation points")
        print(f"points per class in training: {np.bincount(y_train)}")


        def compiled(model, optimizer, loss="sparse_categorical_crossentropy"):
            \"\"\"``model``, compiled with ``optimizer``, ``loss`` and the accuracy metric.\"\"\"
            model.compile(optimizer, loss, metrics=["accuracy"])
            return model
        """),
    ]


def _hyperparameters() -> list[nbformat.NotebookNode]:
    return [
        md("""
        ## 1. Hyperparameters versus parameters

        A **hyperparameter** is a choice you make before training: the layer
        sizes, BatchNorm or not, the optimizer and its learning rate, the batch
        size, the number of epochs. A **parameter** is a number that training
        sets: every weight matrix `W`, bias `b`, and BatchNorm's `gamma` and
        `beta`. `fit` reads the first kind and changes every array of the second.
        BatchNorm's running mean and variance are a third kind, *buffers*: they
        too come from the data, but by averaging, not by gradient descent.
        """),
        code("""
        hyper = {
            "sizes": [2, 32, 32, 3],
            "batchnorm": True,
            "learning_rate": 0.01,
            "batch_size": 32,
            "epochs": 15,
        }
        model = mt.MLP(hyper["sizes"], batchnorm=hyper["batchnorm"], seed=0)
        compiled(model, mt.Adam(hyper["learning_rate"]))
        before = model.state_dict()
        model.fit(x_train, y_train, batch_size=hyper["batch_size"], epochs=hyper["epochs"], verbose=0)
        after = model.state_dict()

        print("hyperparameters: set by you, only read by fit")
        for name, value in hyper.items():
            print(f"  {name:<15}{value}")
        trainable = {key for key, _, _ in model.named_parameters()}
        print(f"\\n{'array':<18}{'kind':<11}{'shape':<10}{'size':>6}   largest change made by fit")
        for key, value in after.items():
            kind = "parameter" if key in trainable else "buffer"
            change = np.abs(value - before[key]).max()
            print(f"{key:<18}{kind:<11}{str(value.shape):<10}{value.size:>6}   {change:.4f}")
        n_params = sum(p.size for _, p, _ in model.named_parameters())
        print(f"\\n{n_params} parameters, learned by gradient descent")
        """),  # noqa: E501
        code("""
        ax = plot_decision_boundary(model, x_val, y_val)
        accuracy = model.evaluate(x_val, y_val)[1]
        ax.set_title(f"what the parameters learned: validation accuracy {accuracy:.3f}")
        plt.show()
        """),
        md("""
        The hidden `Dense` layers have no bias `b`: BatchNorm subtracts the batch
        mean right after them, which cancels any bias (its gradient is exactly
        zero), so `MLP(..., batchnorm=True)` leaves it out. The output layer keeps
        its bias.
        """),
    ]


def _fit_loop() -> list[nbformat.NotebookNode]:
    return [
        md("""
        ## 2. The fit loop and its callbacks

        `fit` is two nested loops, over epochs and over batches, and at fixed
        points it calls *hooks* on every callback. The recorder below overrides
        every hook and writes down each call and the keys of the `logs` it
        receives. Six training points in batches of four make two batches per
        epoch; three validation points make one validation batch.
        """),
        code("""
        class Recorder(mt.Callback):
            \"\"\"Writes down every hook that fit calls, with the keys of its logs.\"\"\"

            def __init__(self):
                super().__init__()
                self.lines = []

            def note(self, depth, hook, logs):
                keys = ", ".join(logs) if logs else "{}"
                self.lines.append(f"{'    ' * depth}{hook:<{36 - 4 * depth}}logs: {keys}")

            def on_train_begin(self, logs=None):
                self.note(0, "on_train_begin", logs)

            def on_epoch_begin(self, epoch, logs=None):
                self.note(1, f"on_epoch_begin({epoch})", logs)

            def on_train_batch_begin(self, batch, logs=None):
                self.note(2, f"on_train_batch_begin({batch})", logs)

            def on_train_batch_end(self, batch, logs=None):
                self.note(2, f"on_train_batch_end({batch})", logs)

            def on_test_begin(self, logs=None):
                self.note(2, "on_test_begin", logs)

            def on_test_batch_begin(self, batch, logs=None):
                self.note(3, f"on_test_batch_begin({batch})", logs)

            def on_test_batch_end(self, batch, logs=None):
                self.note(3, f"on_test_batch_end({batch})", logs)

            def on_test_end(self, logs=None):
                self.note(2, "on_test_end", logs)

            def on_epoch_end(self, epoch, logs=None):
                self.note(1, f"on_epoch_end({epoch})", logs)

            def on_train_end(self, logs=None):
                self.note(0, "on_train_end", logs)


        recorder = Recorder()
        tiny = compiled(mt.MLP([2, 8, 3], seed=0), mt.SGD(0.1))
        tiny.fit(
            x_train[:6],
            y_train[:6],
            batch_size=4,
            epochs=2,
            verbose=0,
            validation_data=(x_val[:3], y_val[:3]),
            callbacks=[recorder],
        )
        print("\\n".join(recorder.lines))
        """),
        md("""
        This is the loop of `minitrain/training.py`, read from the outside. The
        `*_begin` hooks get empty logs; a batch's logs hold the running means of
        the loss and metrics since the epoch began; an epoch's logs add the
        validation results (`val_` keys) and the learning rate. Your callbacks run
        in the order you give them, then the `History` that `fit` returns, then
        the progress printer. A callback stops training by setting
        `model.stop_training = True`: that is all EarlyStopping and TerminateOnNaN do.
        """),
    ]


def _early_stopping() -> list[nbformat.NotebookNode]:
    return [
        md("""
        ## 3. EarlyStopping on a run that overfits

        To see early stopping at work we need a run that overfits: 150 noisy
        training points, 450 validation points, and a network with 17,000
        parameters. The training loss keeps falling; the validation loss stops
        improving after a few dozen epochs and drifts back up, as the network
        learns the noise of its 150 points by heart.
        """),
        code("""
        xo, yo = mt.data.make_spirals(n_per_class=200, noise=0.5, seed=1)
        xo_train, xo_val, yo_train, yo_val = mt.data.train_test_split(xo, yo, test_size=0.75, seed=1)


        def overfit_run(*callbacks):
            \"\"\"The same run every time (same seeds): 150 epochs, unless stopped.\"\"\"
            model = compiled(mt.MLP([2, 128, 128, 3], seed=0), mt.Adam(0.01))
            history = model.fit(
                xo_train,
                yo_train,
                batch_size=16,
                epochs=150,
                verbose=0,
                validation_data=(xo_val, yo_val),
                callbacks=list(callbacks),
            )
            return model, history


        _, full = overfit_run()
        val_losses = np.array(full.history["val_loss"])
        print(
            f"lowest val_loss {val_losses.min():.4f} at epoch {val_losses.argmin()}; "
            f"{val_losses[-1]:.4f} at the end, when the training loss is "
            f"{full.history['loss'][-1]:.4f}"
        )
        """),  # noqa: E501
        code("""
        settings = {
            "patience=0": {"patience": 0},
            "patience=1": {"patience": 1},
            "patience=10": {"patience": 10},
            "patience=10, min_delta=0.01": {"patience": 10, "min_delta": 0.01},
            "patience=10, restore_best_weights": {"patience": 10, "restore_best_weights": True},
            "val_accuracy, patience=10": {"monitor": "val_accuracy", "patience": 10},
            "val_accuracy, patience=10, mode=min": {
                "monitor": "val_accuracy",
                "patience": 10,
                "mode": "min",
            },
        }
        stops = {}
        print(
            f"{'EarlyStopping(...)':<38}{'stopped_epoch':>14}{'best_epoch':>12}{'val_loss after fit':>20}"
        )
        for label, kwargs in settings.items():
            stopper = mt.EarlyStopping(**kwargs)
            model, history = overfit_run(stopper)
            stops[label] = stopper.stopped_epoch
            after_fit = model.evaluate(xo_val, yo_val)[0]
            epochs = f"{stopper.stopped_epoch:>14}{stopper.best_epoch:>12}"
            print(f"{label:<38}{epochs}{after_fit:>20.4f}")

        ax = plot_history(
            {k: full.history[k] for k in ("loss", "val_loss")}, ax=plt.figure(figsize=(10, 4)).gca()
        )
        for i, label in enumerate(
            ["patience=0", "patience=10", "patience=10, min_delta=0.01", "val_accuracy, patience=10"]
        ):
            ax.axvline(stops[label], color=f"C{i + 2}", ls=":", label=f"stops: {label}")
        ax.legend(fontsize="small")
        ax.set_title("the full 150 epochs, and where each EarlyStopping ends them")
        plt.show()
        """),  # noqa: E501
        md("""
        Every run has the same seeds, so each stopped run is the start of the full
        one and the table reads against the figure (epochs count from 0, as in
        Keras's `stopped_epoch` and `best_epoch`).

        - **`monitor`** is the log key to watch. `val_loss` is the usual choice;
          `val_accuracy` moves in steps of 1/450 here and plateaus early, so it
          stops sooner.
        - **`mode`** says which way is better. `"auto"` reads the name (`loss` is
          minimised, `accuracy` maximised); `mode="min"` on an accuracy takes every
          rise for a setback.
        - **`patience`** is how many epochs without improvement are tolerated. As
          in Keras, the counter is incremented before the comparison, so
          `patience=0` and `patience=1` stop at the same epoch, the first one
          without improvement.
        - **`min_delta`** is the smallest change that counts as an improvement: the
          slow, small gains near the bottom of the curve no longer reset the counter.
        - **`restore_best_weights`**: without it the model keeps the weights of the
          last epoch run, `patience` epochs past the best; with it, the
          weights of the best epoch come back when training ends, and the
          validation loss after `fit` is the best one.
        """),
    ]


def _crossentropy() -> list[nbformat.NotebookNode]:
    return [
        md("""
        ## 4. Categorical versus sparse categorical crossentropy

        Crossentropy scores predicted class probabilities $p$ against the true
        class: $\\ell = -\\log p_{\\text{true}}$, averaged over the batch.
        `CategoricalCrossentropy` takes the true class as a one-hot row,
        `SparseCategoricalCrossentropy` as an integer. For hard labels they are
        the same function, with the same gradient, $(\\text{softmax}(z) - t)/N$
        with respect to the logits $z$.
        """),
        code("""
        logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.2, 0.2, 3.0], [1.0, 1.0, 1.0]])
        labels = np.array([0, 1, 2, 1])
        one_hot = mt.data.to_categorical(labels, 3).astype(np.float64)

        cce = mt.CategoricalCrossentropy(from_logits=True)
        scce = mt.SparseCategoricalCrossentropy(from_logits=True)
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)  # softmax, by hand
        print(f"categorical, one-hot labels  {cce(one_hot, logits):.12f}")
        print(f"sparse, integer labels       {scce(labels, logits):.12f}")
        print(f"by hand, -mean(log p_true)   {-np.log(p[np.arange(4), labels]).mean():.12f}")
        print("\\ngradient with respect to the logits, (p - one_hot) / 4:")
        print(cce.gradient(one_hot, logits))
        gap = np.abs(cce.gradient(one_hot, logits) - scce.gradient(labels, logits)).max()
        print(f"largest difference between the two losses' gradients: {gap}")
        """),
        md("""
        **`from_logits`** says what the predictions are. With `from_logits=True`
        they are raw scores and the loss applies the softmax itself, in a
        numerically stable way; with `from_logits=False` they must already be
        probabilities (a model ending in `Softmax`). Both give the same loss, and,
        once the gradient is carried back through the softmax, the same gradient
        with respect to the logits. Logits given to a loss that expects
        probabilities give a wrong number without any error (they are divided by
        their row sum and clipped), so `compile` refuses a loss that contradicts
        the model's last layer.
        """),
        code("""
        softmax = mt.Softmax()
        probabilities = softmax(logits)
        cce_p = mt.CategoricalCrossentropy(from_logits=False)
        print(f"from_logits=True,  given logits         {cce(one_hot, logits):.12f}")
        print(f"from_logits=False, given probabilities  {cce_p(one_hot, probabilities):.12f}")
        print(f"from_logits=False, given logits (wrong) {cce_p(one_hot, logits):.12f}")

        # Chain rule: the gradient with respect to the probabilities, through softmax's backward.
        through_softmax = softmax.backward(cce_p.gradient(one_hot, probabilities))
        gap = np.abs(through_softmax - cce.gradient(one_hot, logits)).max()
        print(f"gradient wrt the logits, both ways, largest difference: {gap:.1e}")

        try:
            mt.MLP([2, 8, 3], seed=0).compile("adam", mt.CategoricalCrossentropy(from_logits=False))
        except ValueError as err:
            print(f"\\nValueError: {err}")
        """),
        md("""
        **Label smoothing** replaces the one-hot target $t$ by
        $(1 - \\varepsilon)\\,t + \\varepsilon / K$. The loss can then no longer
        reach 0: it is smallest when the prediction equals the smoothed target, so
        it stops rewarding ever larger, over-confident logits. In the table one
        logit grows: the plain loss keeps falling towards 0, the smoothed one
        (ε = 0.1) turns back up once $p_{\\text{true}}$ passes $0.9 + 0.1/3 = 0.933$.
        """),
        code("""
        smoothed = mt.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
        target = np.array([[1.0, 0.0, 0.0]])
        print(f"smoothed target: {target[0] * (1 - 0.1) + 0.1 / 3}\\n")
        print(f"{'logits':<18}{'p_true':>8}{'plain':>9}{'smoothed':>10}")
        for scale in [0.0, 1.0, 2.0, 3.0, 3.33, 4.0, 6.0, 10.0]:
            z = np.array([[scale, 0.0, 0.0]])
            p_true = np.exp(scale) / (np.exp(scale) + 2)
            losses = f"{cce(target, z):>9.4f}{smoothed(target, z):>10.4f}"
            print(f"[{scale:5.2f}, 0, 0]{p_true:>14.4f}{losses}")
        """),
    ]


def _no_grad_and_eval() -> list[nbformat.NotebookNode]:
    return [
        md("""
        ## 5. `no_grad` versus `eval()`

        Two switches that are easy to confuse. **`no_grad()`** is about memory:
        inside it, layers keep none of the arrays that backward would need, so a
        forward pass holds only the activation it is computing. **`eval()`** is
        about behaviour: Dropout stops dropping and BatchNorm uses its running
        statistics. `predict` and `evaluate` flip both; inference code of your
        own should do the same. First the memory, measured with `tracemalloc`
        (NumPy reports its allocations to it) on a batch of 4096 points through
        three hidden layers of 512 units:
        """),
        code("""
        big = mt.MLP([2, 512, 512, 512, 3], seed=0)
        batch = np.random.default_rng(0).normal(size=(4096, 2)).astype(np.float32)


        def forward_memory(model, inputs):
            \"\"\"MiB still allocated after a forward pass (output included), and the peak.\"\"\"
            tracemalloc.start()
            output = model(inputs)
            held, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            del output
            return held / 2**20, peak / 2**20


        with_grad = forward_memory(big, batch)
        with mt.no_grad():
            without_grad = forward_memory(big, batch)
        print(f"one activation of 4096 x 512 float32: {4096 * 512 * 4 / 2**20:.0f} MiB\\n")
        print(f"{'':<10}{'held after':>14}{'peak during':>14}")
        for label, (held, peak) in (("grad", with_grad), ("no_grad", without_grad)):
            print(f"{label:<10}{held:>10.2f} MiB{peak:>10.2f} MiB")

        try:  # the no_grad pass also dropped the caches the first pass had kept
            big.backward(np.ones((4096, 3), np.float32))
        except RuntimeError as err:
            print(f"\\nRuntimeError: {err}")
        """),
        md("""
        With gradients on, each layer keeps its input (or a mask) until backward
        runs: several 8 MiB arrays stay alive after the pass. Under `no_grad` only
        the small output is left, and the peak halves. But `no_grad` changes
        nothing else: a model in training mode still drops units. Below,
        `Dropout(0.5)` fed a row of ones, twice:
        """),
        code("""
        net = mt.Sequential([mt.Dropout(0.5, seed=1)])
        ones = np.ones((1, 8), np.float32)
        many = np.ones((10_000, 8), np.float32)

        for label, switch in (("no_grad, training mode", net.train), ("no_grad, eval()", net.eval)):
            switch()
            with mt.no_grad():
                first, second, zeros = net(ones)[0], net(ones)[0], (net(many) == 0).mean()
            print(f"{label}\\n  first call  {first}\\n  second call {second}")
            print(f"  share of zeros over 10,000 rows: {zeros:.3f}")
        """),
        md("""
        In training mode, even under `no_grad`, about half of the units are zeroed
        (a new half at every call) and the survivors doubled, so two calls on the
        same input disagree. After `eval()` Dropout is the identity and the output
        is the same every time. `no_grad` saves memory; only `eval()` changes
        what the model computes.
        """),
    ]


def _model_checkpoint() -> list[nbformat.NotebookNode]:
    return [
        md("""
        ## 6. ModelCheckpoint

        `ModelCheckpoint(save_best_only=True)` saves the model only when the
        monitored value beats the best seen so far, and **`mode`** says which way
        is better. `{epoch:02d}` in the file name keeps one file per save, so the
        folder shows when each save happened (file names count epochs from 1, as
        Keras does; `History` counts from 0). We train on the noisy spirals of
        section 3 again, watched by three checkpoints.
        """),
        code("""
        folders = {mode: workdir / f"by_{mode}" for mode in ("max", "min", "loss")}
        checkpoints = {
            "max": mt.ModelCheckpoint(
                folders["max"] / "epoch{epoch:02d}.npz",
                monitor="val_accuracy",
                mode="max",
                save_best_only=True,
            ),
            "min": mt.ModelCheckpoint(
                folders["min"] / "epoch{epoch:02d}.npz",
                monitor="val_accuracy",
                mode="min",
                save_best_only=True,
            ),
            "loss": mt.ModelCheckpoint(
                folders["loss"] / "epoch{epoch:02d}.npz", monitor="val_loss", save_best_only=True
            ),
        }
        model = compiled(mt.MLP([2, 64, 64, 3], seed=0), mt.Adam(0.01))
        history = model.fit(
            xo_train,
            yo_train,
            batch_size=16,
            epochs=30,
            verbose=0,
            validation_data=(xo_val, yo_val),
            callbacks=list(checkpoints.values()),
        )

        saved = {k: sorted(int(p.stem[5:]) for p in f.glob("*.npz")) for k, f in folders.items()}
        for key, label in (
            ("max", "val_accuracy, mode='max'"),
            ("min", "val_accuracy, mode='min'"),
            ("loss", "val_loss, mode='auto'"),
        ):
            print(f"{label:<26} saved after epochs {saved[key]}, best {checkpoints[key].best:.4f}")

        epochs = np.arange(1, 31)
        val_accuracy = np.array(history.history["val_accuracy"])
        fig, ax = plt.subplots(figsize=(9, 3.5), layout="constrained")
        ax.plot(epochs, val_accuracy, color="0.4", label="val_accuracy")
        ax.plot(
            saved["max"],
            val_accuracy[np.array(saved["max"]) - 1],
            "^",
            color="tab:green",
            ms=9,
            label="saved with mode='max'",
        )
        ax.plot(
            saved["min"],
            val_accuracy[np.array(saved["min"]) - 1],
            "v",
            color="tab:red",
            ms=9,
            label="saved with mode='min'",
        )
        ax.set(xlabel="epoch (1-based, as in the file names)", ylabel="val_accuracy")
        ax.legend()
        plt.show()
        """),
        md("""
        With `mode='max'` a file appears at every new best accuracy, so the last
        file is the best model. With `mode='min'` a lower accuracy counts as
        better: the accuracy never fell below that of the first epoch, so the
        callback kept the first, worst model. `mode='auto'` reads the monitor's
        name and gets both right. The last file written is the
        model to keep; `mt.load_model` rebuilds it, architecture, weights,
        BatchNorm statistics and optimizer state included, ready to predict or
        to train on:
        """),
        code("""
        best_file = folders["max"] / f"epoch{saved['max'][-1]:02d}.npz"
        reloaded = mt.load_model(best_file)
        loss, accuracy = reloaded.evaluate(xo_val, yo_val)
        best_epoch = int(val_accuracy.argmax())
        print(f"{best_file.name}: val_accuracy {accuracy:.4f}, val_loss {loss:.4f}")
        print(
            f"History, epoch {best_epoch} (0-based): "
            f"val_accuracy {val_accuracy[best_epoch]:.4f}, "
            f"val_loss {history.history['val_loss'][best_epoch]:.4f}"
        )
        last_loss, last_accuracy = model.evaluate(xo_val, yo_val)
        print(f"the model after epoch 30: val_accuracy {last_accuracy:.4f}, val_loss {last_loss:.4f}")
        """),  # noqa: E501
    ]


def _terminate_on_nan() -> list[nbformat.NotebookNode]:
    return [
        md("""
        ## 7. TerminateOnNaN

        A learning rate that is too large makes every step overshoot further than
        the one before: the loss grows geometrically, overflows float32 to `inf`,
        and `inf - inf` is `NaN`. From then on every update is `NaN` too, and
        nothing is left to learn. `TerminateOnNaN` looks at the running loss after
        every batch and stops the run at the first value that is not finite.
        Here plain SGD on a mean squared error, whose gradient grows with the error
        itself, at a workable rate and at a rate ten times larger:
        """),
        code("""
        targets = mt.data.to_categorical(y_train, 3)


        def mse_run(learning_rate, *callbacks):
            \"\"\"Five epochs of SGD on MSE; also returns the running loss after every batch.\"\"\"
            losses = []
            record = mt.LambdaCallback(on_train_batch_end=lambda batch, logs: losses.append(logs["loss"]))
            model = mt.MLP([2, 64, 64, 3], seed=0)
            model.compile(mt.SGD(learning_rate), "mse")
            with np.errstate(over="ignore", invalid="ignore"):  # the overflow is the point here
                history = model.fit(x_train, targets, epochs=5, verbose=0, callbacks=[*callbacks, record])
            return model, history, losses


        runs = {
            "lr=0.5": mse_run(0.5),
            "lr=5.0": mse_run(5.0),
            "lr=5.0, TerminateOnNaN": mse_run(5.0, mt.TerminateOnNaN()),
        }
        print(f"\\n{'run':<24}{'epochs':>7}{'batches':>9}{'last loss':>11}   weights all finite")
        for label, (model, history, losses) in runs.items():
            finite = all(np.isfinite(p).all() for _, p, _ in model.named_parameters())
            counts = f"{len(history.epoch):>7}{len(losses):>9}"
            print(f"{label:<24}{counts}{losses[-1]:>11.4g}   {finite}")

        fig, ax = plt.subplots(figsize=(9, 3.5), layout="constrained")
        for label in ("lr=0.5", "lr=5.0"):
            losses = runs[label][2]
            ax.semilogy(np.arange(len(losses)), losses, ".-", label=label)
        stop = len(runs["lr=5.0, TerminateOnNaN"][2]) - 1
        ax.axvline(stop, color="tab:red", ls="--", label=f"TerminateOnNaN stops after batch {stop}")
        ax.set(xlabel="batch (0-based, over the whole run)", ylabel="running loss (log scale)")
        ax.legend()
        plt.show()
        """),  # noqa: E501
        md("""
        At 0.5 the loss falls. At 5.0 it climbs by orders of magnitude in a few
        batches and becomes `inf`, then `NaN` (which a log plot cannot draw).
        Without the callback the run goes on for all five epochs, 75 batches, and
        ends with `NaN` weights: a model that predicts `NaN` for every input. With
        `TerminateOnNaN` it stops after the first batch whose loss is not finite
        and says so. It saves time, not the model: that batch's update has already
        broken the weights, so the model to keep is the last good checkpoint, and
        the cure is a smaller learning rate.
        """),
    ]


def _schedules() -> list[nbformat.NotebookNode]:
    return [
        md("""
        ## 8. Learning-rate schedules

        `LearningRateScheduler(schedule)` calls `schedule(epoch, lr)` at the start
        of every epoch and sets the optimizer's rate to the result. The classic
        example keeps the rate for ten epochs, then shrinks it by a factor
        $e^{-0.1}$ per epoch:
        """),
        code("""
        def scheduler(epoch, lr):
            return lr if epoch < 10 else lr * math.exp(-0.1)


        model = compiled(mt.MLP([2, 64, 64, 3], seed=0), mt.SGD(0.1, momentum=0.9))
        history = model.fit(
            x_train, y_train, epochs=15, verbose=0, callbacks=[mt.LearningRateScheduler(scheduler)]
        )
        print("epoch   learning rate   0.1 * exp(-0.1 * max(0, epoch - 9))")
        for epoch, rate in zip(history.epoch, history.history["learning_rate"], strict=True):
            print(f"{epoch:>5}   {rate:.8f}      {0.1 * math.exp(-0.1 * max(0, epoch - 9)):.8f}")
        """),
        md("""
        minitrain's schedules are functions of a step counter,
        `schedule(step) -> float`. The same object works per update (as an
        optimizer's `learning_rate`) or per epoch (through `LearningRateScheduler`,
        as here). Below, five of them over 60 epochs, and the same network trained
        with each: SGD with momentum from a rate of 0.1, on a harder problem,
        five spiral arms.
        """),
        code("""
        EPOCHS = 60
        schedules = {
            "constant": mt.Constant(0.1),
            "step: halved every 15": mt.StepDecay(0.1, step_size=15, gamma=0.5),
            "cosine": mt.CosineDecay(0.1, decay_steps=EPOCHS),
            "linear": mt.LinearDecay(0.1, decay_steps=EPOCHS),
            "inverse sqrt, warmup 6": mt.InverseSqrtDecay(0.1, warmup_steps=6),
        }
        x5, y5 = mt.data.make_spirals(n_per_class=200, n_classes=5, noise=0.3, seed=0)
        x5_train, x5_val, y5_train, y5_val = mt.data.train_test_split(x5, y5, test_size=0.25, seed=0)

        runs = {}
        for name, schedule in schedules.items():
            model = compiled(mt.MLP([2, 64, 64, 5], seed=0), mt.SGD(0.1, momentum=0.9))
            runs[name] = model.fit(
                x5_train,
                y5_train,
                epochs=EPOCHS,
                verbose=0,
                validation_data=(x5_val, y5_val),
                callbacks=[mt.LearningRateScheduler(schedule)],
            ).history

        fig, (ax_rate, ax_loss) = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
        plot_schedules(schedules, EPOCHS, ax=ax_rate)
        ax_rate.set(xlabel="epoch", title="the schedules")
        ax_rate.legend(fontsize="small", loc="upper right")  # inside the axes, by the curves
        for name, logs in runs.items():
            ax_loss.plot(logs["val_loss"], label=name)
        ax_loss.set(xlabel="epoch", ylabel="val_loss", title="validation loss", ylim=(0, 1.5))
        ax_loss.legend(fontsize="small")
        plt.show()

        print(f"{'schedule':<24}{'last loss':>10}{'last val_loss':>15}{'last val_accuracy':>19}")
        for name, logs in runs.items():
            print(
                f"{name:<24}{logs['loss'][-1]:>10.4f}{logs['val_loss'][-1]:>15.4f}"
                f"{logs['val_accuracy'][-1]:>19.4f}"
            )
        """),  # noqa: E501
        md("""
        At a constant 0.1 the steps stay large to the end: the validation loss
        keeps jumping and the last epoch lands wherever the last step threw it.
        Every decaying schedule takes smaller steps late in the run and settles
        into a minimum. Step decay gets there in stairs, cosine and linear
        smoothly; the inverse square root warms up for six epochs, then decays
        quickly at first and slowly after, so it is still at about a third of its
        peak at the end and ends noisier. A schedule gives both the large early
        steps that make fast progress and the small late ones that settle.
        """),
    ]


def _batchnorm() -> list[nbformat.NotebookNode]:
    return [
        md("""
        ## 9. BatchNorm

        BatchNorm normalises each feature over the batch, then rescales it with
        the learned `gamma` and `beta`. Below, the same deep network, six `tanh`
        layers of 64 units, trained with the same optimizer and learning rate,
        with and without BatchNorm:
        """),
        code("""
        def deep(batchnorm):
            model = mt.MLP([2] + [64] * 6 + [3], activation="tanh", batchnorm=batchnorm, seed=0)
            return compiled(model, mt.SGD(0.1, momentum=0.9))


        deep_models = {"without BatchNorm": deep(False), "with BatchNorm": deep(True)}
        initial = {label: copy.deepcopy(model) for label, model in deep_models.items()}
        fig, axes = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
        for ax, (label, model) in zip(axes, deep_models.items(), strict=True):
            history = model.fit(x_train, y_train, epochs=30, verbose=0, validation_data=(x_val, y_val))
            curves = {k: v for k, v in history.history.items() if k != "learning_rate"}
            plot_history(curves, ax=ax)  # the rate is the same 0.1 throughout
            ax.set_title(f"{label}: val_accuracy {history.history['val_accuracy'][-1]:.3f}")
        plt.show()
        """),  # noqa: E501
        md("""
        Without BatchNorm the same steps are too large for this deep stack: the
        loss jumps around and the accuracy falls back to chance (1/3). With BatchNorm
        it trains. Why shows in what each `tanh` layer receives. As the weights of
        the early layers change, the inputs of the later ones drift in scale and
        centre (*internal covariate shift*), and a `tanh` fed values far from 0 is
        flat, with a gradient near 0. The violins show the pre-activations of
        every `tanh` layer on the training points, before and after training:
        """),
        code("""
        fig, axes = plt.subplots(2, 2, figsize=(12, 7), layout="constrained", sharex=True)
        for row, label in enumerate(deep_models):
            for col, (when, model) in enumerate(
                (("at initialisation", initial[label]), ("after 30 epochs", deep_models[label]))
            ):
                plot_activations(model, x_train, ax=axes[row, col])
                axes[row, col].set_title(f"{label}, {when}")
        plt.show()

        print(f"{'':<20}{'share of tanh inputs beyond +-2 (saturated), layer by layer'}")
        for label, model in deep_models.items():
            h, shares = x_train, []
            with mt.no_grad():
                for layer in model.layers:
                    if isinstance(layer, mt.Tanh):
                        shares.append(f"{(np.abs(h) > 2).mean():.2f}")
                    h = layer(h)
            print(f"{label:<20}{'  '.join(shares)}")
        """),
        md("""
        Without BatchNorm the inputs of the later layers have spread far beyond
        ±2, where `tanh` saturates; with BatchNorm every layer receives inputs
        centred by `beta` and scaled by `gamma`, whatever the layers before it did.

        The running statistics are what makes eval mode work. In training mode
        BatchNorm normalises with the batch's own mean and variance and updates
        `running = (1 - momentum) * running + momentum * batch_stat`
        (momentum 0.1, as PyTorch); eval mode uses the running values instead, so
        the output no longer depends on the rest of the batch and a single sample
        works. Batches drawn from a mean of 5 and a standard deviation of 2:
        """),
        code("""
        bn = mt.BatchNorm(3)
        rng = np.random.default_rng(0)
        print(
            "batches seen   running_mean              running_var        5 (1 - 0.9^k)   4 + (1 - 4) 0.9^k"
        )
        for k in range(1, 41):
            bn(rng.normal(5.0, 2.0, size=(256, 3)).astype(np.float32))
            if k in (1, 2, 5, 10, 20, 40):
                print(
                    f"{k:>12}   {bn.buffers['running_mean']}  {bn.buffers['running_var']}"
                    f"  {5 * (1 - 0.9**k):>12.3f}  {4 - 3 * 0.9**k:>17.3f}"
                )

        shifted = rng.normal(8.0, 2.0, size=(256, 3)).astype(np.float32)  # the data moved
        bn.training = False
        eval_out = bn(shifted)
        bn.training = True
        train_out = bn(shifted)
        print(f"\\nbatch from mean 8, std 2: {'output mean':>12}{'output std':>12}")
        print(f"  eval mode (running):     {eval_out.mean():>12.3f}{eval_out.std():>12.3f}")
        print(f"  training mode (batch):   {train_out.mean():>12.3f}{train_out.std():>12.3f}")
        try:
            bn(shifted[:1])
        except ValueError as err:
            print(f"\\nValueError: {err}")
        """),  # noqa: E501
        md("""
        The running mean approaches 5 as $5(1 - 0.9^k)$ and the running variance
        approaches 4, as the formula says. In eval mode the shifted batch comes out
        shifted, by (8 - 5)/2 = 1.5 standard deviations: the layer reports what it
        learned during training. In training mode the batch statistics erase the
        shift, which is right for training and wrong for inference: forget
        `eval()` and the predictions depend on the batch they come in.
        """),
    ]


def _backprop_by_hand() -> list[nbformat.NotebookNode]:
    return [
        md("""
        ## 10. Backprop by hand

        One `Dense` layer from 2 inputs to 3 classes, a softmax and crossentropy,
        for one sample, small enough for paper. With $x = (1, 2)$,

        $$W = \\begin{pmatrix} 0.5 & -0.2 & 0.1 \\\\ 0.3 & 0.4 & -0.6 \\end{pmatrix},
        \\qquad b = (0,\\ 0.1,\\ -0.1),\\qquad \\text{true class } 1:$$

        - forward: $z = xW + b = (1.1,\\ 0.7,\\ -1.2)$, $p = \\text{softmax}(z) =
          (0.5648,\\ 0.3786,\\ 0.0566)$, $L = -\\log p_1 = 0.9713$;
        - the loss's gradient with respect to the logits is
          $\\partial L/\\partial z = p - t = (0.5648,\\ -0.6214,\\ 0.0566)$: push the
          true class up, the others down, each by its probability;
        - the Dense layer turns it into
          $\\partial L/\\partial W = x^\\top (p - t)$ (the outer product: row $i$ is
          $x_i (p - t)$), $\\partial L/\\partial b = p - t$ and
          $\\partial L/\\partial x = (p - t) W^\\top = (0.4123,\\ -0.1131)$.

        The same numbers in NumPy, then from minitrain's `Dense.backward`:
        """),
        code("""
        x1 = np.array([[1.0, 2.0]])
        W = np.array([[0.5, -0.2, 0.1], [0.3, 0.4, -0.6]])
        b = np.array([0.0, 0.1, -0.1])
        label = 1

        z = x1 @ W + b
        p = np.exp(z) / np.exp(z).sum()
        loss = -np.log(p[0, label])
        dz = p - np.eye(3)[label]  # softmax + crossentropy: dL/dz = p - t
        dW, db, dx = x1.T @ dz, dz[0], dz @ W.T
        print(f"z = {z[0]}\\np = {p[0]}\\nL = {loss:.4f}\\ndL/dz = {dz[0]}")
        print(f"dL/dW =\\n{dW}\\ndL/db = {db}\\ndL/dx = {dx[0]}")

        dense = mt.Dense(2, 3, dtype=np.float64)
        dense.params["W"][...] = W
        dense.params["b"][...] = b
        loss_fn = mt.SparseCategoricalCrossentropy(from_logits=True)
        logits = dense(x1)
        grad_x = dense.backward(loss_fn.gradient(np.array([label]), logits))
        print(
            f"\\nminitrain: loss {loss_fn(np.array([label]), logits):.4f}; "
            "largest differences from the hand: "
            f"dW {np.abs(dense.grads['W'] - dW).max():.1e}, "
            f"db {np.abs(dense.grads['b'] - db).max():.1e}, dx {np.abs(grad_x - dx).max():.1e}"
        )
        """),
        md("""
        `gradcheck` does the same check without any algebra: it nudges every input
        and every parameter by ±ε, measures how the output moves (central
        differences, in float64), and compares with what `backward` says. A correct
        layer agrees to about 1e-10. A layer with a classic bug, dividing its weight
        gradient by the batch size although the loss has already averaged over the
        batch, is caught at once:
        """),
        code("""
        class DoubleAveragedDense(mt.Dense):
            \"\"\"A Dense whose backward divides dL/dW by the batch size a second time.\"\"\"

            def backward(self, grad_y):
                grad_x = super().backward(grad_y)
                self.grads["W"] /= len(grad_y)
                return grad_x


        x2 = np.array([[1.0, 2.0], [-0.5, 0.3]])
        wrong = DoubleAveragedDense(2, 3, dtype=np.float64)
        wrong.params["W"][...] = W
        for layer in (dense, wrong):
            error = mt.gradcheck(mt.Sequential([layer, mt.Softmax()]), x2)
            print(f"gradcheck({type(layer).__name__} + Softmax): {error:.1e}")
        """),
    ]


def _closing() -> list[nbformat.NotebookNode]:
    return [
        md("""
        ## Where next

        `python -m minitrain.demo` puts most of this together: an MLP with
        BatchNorm, EarlyStopping with `restore_best_weights`, ModelCheckpoint with
        `save_best_only`, TerminateOnNaN and a schedule, and writes the plots and
        the best checkpoint to `./minitrain-demo` (`-h` lists the options). To
        read the code, start with `minitrain/layers.py`, where every backward sits
        under its forward.
        """),
        code("""
        shutil.rmtree(workdir)  # the checkpoints of section 6
        """),
    ]


def build() -> nbformat.NotebookNode:
    """The notebook, without outputs; cell ids are fixed so that a rebuild diffs cleanly."""
    nb = nbformat.v4.new_notebook()
    nb.cells = cells()
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:02d}"
    nb.metadata = {
        "kernelspec": {"name": KERNEL, "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    return nb


def execute(nb: nbformat.NotebookNode, *, timeout: int = 600) -> nbformat.NotebookNode:
    """Run every cell in a fresh kernel whose working directory is a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name=KERNEL,
            resources={"metadata": {"path": folder}},
            record_timing=False,
        )
        client.execute()
    nb.metadata["language_info"] = {"name": "python"}  # drop the version the kernel reported
    return nb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-run", action="store_true", help="write the cells without outputs")
    args = parser.parse_args()
    nb = build()
    if not args.no_run:
        start = time.perf_counter()
        execute(nb)
        print(f"executed in {time.perf_counter() - start:.1f} s")
    nbformat.write(nb, NOTEBOOK)
    print(f"wrote {NOTEBOOK}")


if __name__ == "__main__":
    main()
