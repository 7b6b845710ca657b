"""Section 4: EarlyStopping's arguments on a run that overfits, and its commonest mistake."""

from tour.cells import code, text

CELLS = [
    text(
        en="""
        ## 4. EarlyStopping on a run that overfits

        To see early stopping at work we need a run that overfits: 150 noisy
        training points, 450 validation points, and a network with 17,000
        parameters. The training loss keeps falling; the validation loss stops
        improving after a few dozen epochs and drifts back up, as the network
        learns the noise of its 150 points by heart.
        """,
        ko="""
        ## 4. 과적합하는 학습에서의 EarlyStopping

        조기 종료가 일하는 모습을 보려면 과적합하는 학습이 필요합니다. 잡음이 많은 학습
        데이터 150개, 검증 데이터 450개, 파라미터 17,000개짜리 신경망을 씁니다. 학습
        손실은 계속 내려가지만, 검증 손실은 수십 에포크 뒤에 더 나아지지 않고 다시
        올라갑니다. 신경망이 150개 데이터의 잡음까지 외워 버리기 때문입니다.
        """,
    ),
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
        """),
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
            after_fit = model.evaluate(xo_val, yo_val, verbose=0)[0]
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
        """),
    text(
        en="""
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

        The commonest mistake: `monitor="val_loss"` (the default) with no
        validation data. There is then no `val_loss` to watch, so the callback
        can never stop the run; it warns at every epoch instead, at the line of
        your `fit` call, and says what to pass.
        """,
        ko="""
        모든 실행의 시드가 같으므로, 멈춘 실행은 모두 전체 실행의 앞부분이고, 표를
        그림과 맞춰 읽을 수 있습니다(에포크는 Keras의 `stopped_epoch`, `best_epoch`처럼
        0부터 셉니다).

        - **`monitor`** 는 지켜볼 로그 키입니다. 보통은 `val_loss`를 씁니다. 여기서
          `val_accuracy`는 1/450 단위로만 움직이고 일찍 정체되므로 더 빨리 멈춥니다.
        - **`mode`** 는 어느 쪽이 더 좋은지를 정합니다. `"auto"`는 이름을 읽습니다
          (`loss`는 최소화, `accuracy`는 최대화). 정확도에 `mode="min"`을 주면 오를
          때마다 나빠졌다고 여깁니다.
        - **`patience`** 는 개선 없이 참아 줄 에포크 수입니다. Keras처럼 비교하기 전에
          카운터를 올리므로, `patience=0`과 `patience=1`은 같은 에포크, 즉 처음으로
          개선이 없는 에포크에서 멈춥니다.
        - **`min_delta`** 는 개선으로 인정할 가장 작은 변화입니다. 곡선 바닥 근처의
          느리고 작은 개선은 더 이상 카운터를 되돌리지 못합니다.
        - **`restore_best_weights`**: 이것이 없으면 모델은 마지막으로 실행한 에포크,
          즉 최고점에서 `patience` 에포크 지난 가중치를 가집니다. 이것이 있으면 학습이
          끝날 때 가장 좋은 에포크의 가중치가 돌아오고, `fit` 뒤의 검증 손실이 가장
          좋은 값이 됩니다.

        가장 흔한 실수는 검증 데이터 없이 `monitor="val_loss"`(기본값)를 쓰는 것입니다.
        그러면 지켜볼 `val_loss`가 없어서 콜백은 학습을 결코 멈출 수 없습니다. 대신
        에포크마다, 여러분이 `fit`을 호출한 줄에서 경고를 내고 무엇을 넘겨야 하는지
        알려 줍니다.
        """,
    ),
    code("""
        def stopped_run(**fit_args):
            model = compiled(mt.MLP([2, 128, 128, 3], seed=0), mt.Adam(0.01))
            stopper = mt.EarlyStopping(monitor="val_loss", patience=10)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                history = model.fit(
                    xo_train, yo_train, batch_size=16, epochs=150, verbose=0, callbacks=[stopper], **fit_args
                )
            return history, caught


        mistake, caught = stopped_run()
        print(f"without validation data: {len(mistake.epoch)} epochs of 150, {len(caught)} warnings")
        first = caught[0]
        print(f"the first: {first.category.__name__}: {first.message}")
        print(f"reported at the user's line: {Path(first.filename).name}, line {first.lineno}\\n")
        fixed, caught = stopped_run(validation_split=0.25)
        print(f"with validation_split=0.25: {len(fixed.epoch)} epochs of 150, {len(caught)} warnings")

        fig, ax = plt.subplots(figsize=(9, 3.5), layout="constrained")
        ax.plot(mistake.history["loss"], label="no validation data: loss (it never stops)")
        ax.plot(fixed.history["loss"], label="validation_split=0.25: loss")
        ax.plot(fixed.history["val_loss"], "--", label="validation_split=0.25: val_loss")
        ax.axvline(len(fixed.epoch) - 1, color="C3", ls=":", label="EarlyStopping stops here")
        ax.set(xlabel="epoch", ylabel="loss", ylim=(0, 1.5))
        ax.legend(fontsize="small")
        plt.show()
        """),
]
