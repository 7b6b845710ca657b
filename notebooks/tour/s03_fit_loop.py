"""Section 3: the hooks fit calls, in order, written down by a recorder."""

from tour.cells import code, text

CELLS = [
    text(
        en="""
        ## 3. The fit loop and its callbacks

        `fit` is two nested loops, over epochs and over batches, and at fixed
        points it calls *hooks* on every callback. The recorder below overrides
        every hook and writes down each call and the keys of the `logs` it
        receives. Six training points in batches of four make two batches per
        epoch; three validation points make one validation batch.
        """,
        ko="""
        ## 3. fit 루프와 콜백

        `fit`은 에포크에 대한 루프와 배치에 대한 루프가 겹친 두 겹의 루프이고, 정해진
        지점마다 모든 콜백의 *훅(hook)* 을 호출합니다. 아래의 기록기는 모든 훅을
        재정의해서, 호출될 때마다 그 호출과 받은 `logs`의 키를 적어 둡니다. 학습 데이터
        여섯 개를 네 개씩 나누면 에포크마다 배치가 두 개이고, 검증 데이터 세 개는 검증
        배치 하나가 됩니다.
        """,
    ),
    code("""
        class Recorder(mt.Callback):
            \"\"\"Writes down every hook that fit calls, with the keys of its logs.\"\"\"

            def __init__(self):
                super().__init__()
                self.lines = []
                self.calls = []  # (depth, hook name), for the figure

            def note(self, depth, hook, logs):
                keys = ", ".join(logs) if logs else "{}"
                self.lines.append(f"{'    ' * depth}{hook:<{36 - 4 * depth}}logs: {keys}")
                self.calls.append((depth, hook))

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
    code("""
        fig, ax = plt.subplots(figsize=(11, 3.6), layout="constrained")
        depth = np.array([d for d, _ in recorder.calls])
        ax.step(np.arange(len(depth)), -depth, where="mid", color="0.7")
        colours = {0: "C3", 1: "C0", 2: "C2", 3: "C1"}
        for i, (d, hook) in enumerate(recorder.calls):
            ax.plot(i, -d, "o", color=colours[d])
            ax.annotate(hook.removeprefix("on_"), (i, -d), xytext=(0, 6), textcoords="offset points",
                        rotation=60, fontsize=7, ha="left")
        ax.set_yticks([0, -1, -2, -3], ["train", "epoch", "batch / test", "test batch"])
        ax.set(xlabel="call number", ylim=(-3.5, 1.6), title="the hooks of two epochs, in the order fit calls them")
        plt.show()
        """),
    text(
        en="""
        This is the loop of `minitrain/training.py`, read from the outside. The
        `*_begin` hooks get empty logs; a batch's logs hold the running means of
        the loss and metrics since the epoch began; an epoch's logs add the
        validation results (`val_` keys) and the learning rate. Your callbacks run
        in the order you give them, then the `History` that `fit` returns, then
        the progress printer. A callback stops training by setting
        `model.stop_training = True`: that is all EarlyStopping and TerminateOnNaN do.
        """,
        ko="""
        이것이 `minitrain/training.py`의 루프를 바깥에서 읽은 모습입니다. `*_begin`
        훅은 빈 logs를 받고, 배치의 logs에는 에포크가 시작된 뒤의 손실과 지표의 이동
        평균이 들어 있으며, 에포크의 logs에는 검증 결과(`val_` 키)와 학습률이
        더해집니다. 여러분의 콜백이 주어진 순서대로 먼저 실행되고, 그다음 `fit`이
        돌려주는 `History`, 마지막으로 진행 상황 출력기가 실행됩니다. 콜백은
        `model.stop_training = True`로 학습을 멈춥니다. EarlyStopping과 TerminateOnNaN이
        하는 일은 그것뿐입니다.
        """,
    ),
]
