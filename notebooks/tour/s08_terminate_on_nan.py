"""Section 8: a diverging run, and the callback that stops it."""

from tour.cells import code, text

CELLS = [
    text(
        en="""
        ## 8. TerminateOnNaN

        A learning rate that is too large makes every step overshoot further than
        the one before: the loss grows geometrically, overflows float32 to `inf`,
        and `inf - inf` is `NaN`. From then on every update is `NaN` too, and
        nothing is left to learn. `TerminateOnNaN` looks at the running loss after
        every batch and stops the run at the first value that is not finite.
        Here plain SGD on a mean squared error, whose gradient grows with the error
        itself, at a workable rate and at a rate ten times larger:
        """,
        ko="""
        ## 8. TerminateOnNaN

        학습률이 너무 크면 매 걸음이 이전보다 더 멀리 지나칩니다. 손실은 기하급수적으로
        커지다가 float32를 넘쳐 `inf`가 되고, `inf - inf`는 `NaN`입니다. 그때부터는 모든
        갱신이 `NaN`이 되어 더 배울 것이 남지 않습니다. `TerminateOnNaN`은 배치마다 이동
        평균 손실을 보고, 유한하지 않은 첫 값에서 학습을 멈춥니다. 여기서는 오차가 클수록
        기울기도 커지는 평균 제곱 오차에 평범한 SGD를 쓰고, 쓸 만한 학습률과 그보다 열 배
        큰 학습률로 학습합니다.
        """,
    ),
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
            finite = all(np.isfinite(p).all() for p in model.parameters())
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
        """),
    text(
        en="""
        At 0.5 the loss falls. At 5.0 it climbs by orders of magnitude in a few
        batches and becomes `inf`, then `NaN` (which a log plot cannot draw).
        Without the callback the run goes on for all five epochs, 75 batches, and
        ends with `NaN` weights: a model that predicts `NaN` for every input. With
        `TerminateOnNaN` it stops after the first batch whose loss is not finite
        and says so. It saves time, not the model: that batch's update has already
        broken the weights, so the model to keep is the last good checkpoint, and
        the cure is a smaller learning rate.
        """,
        ko="""
        0.5에서는 손실이 내려갑니다. 5.0에서는 몇 배치 만에 몇 자릿수나 올라가 `inf`가
        되고, 이어서 `NaN`이 됩니다(로그 그래프는 `NaN`을 그리지 못합니다). 콜백이 없으면
        학습은 다섯 에포크, 75 배치를 끝까지 돌고 `NaN` 가중치로 끝납니다. 모든 입력에
        `NaN`을 예측하는 모델입니다. `TerminateOnNaN`이 있으면 손실이 유한하지 않은 첫
        배치 뒤에 멈추고 그렇다고 알려 줍니다. 이 콜백이 아끼는 것은 시간이지 모델이
        아닙니다. 그 배치의 갱신이 이미 가중치를 망가뜨렸으므로, 간직할 모델은 마지막의
        좋은 체크포인트이고, 해결책은 더 작은 학습률입니다.
        """,
    ),
]
