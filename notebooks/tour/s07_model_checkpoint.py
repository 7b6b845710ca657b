"""Section 7: what ModelCheckpoint saves, when, and under which name."""

from tour.cells import code, text

CELLS = [
    text(
        en="""
        ## 7. ModelCheckpoint

        `ModelCheckpoint(save_best_only=True)` saves the model only when the
        monitored value beats the best seen so far, and **`mode`** says which way
        is better. `{epoch:02d}` in the file name keeps one file per save, so the
        folder shows when each save happened (file names count epochs from 1, as
        Keras does; `History` counts from 0). We train on the noisy spirals of
        section 4 again, watched by three checkpoints.
        """,
        ko="""
        ## 7. ModelCheckpoint

        `ModelCheckpoint(save_best_only=True)`는 지켜보는 값이 지금까지의 최고 기록을 넘을
        때만 모델을 저장하고, **`mode`** 는 어느 쪽이 더 좋은지를 정합니다. 파일 이름에
        `{epoch:02d}`를 넣으면 저장할 때마다 파일이 하나씩 남으므로, 폴더를 보면 언제
        저장했는지 알 수 있습니다(파일 이름은 Keras처럼 에포크를 1부터 세고, `History`는
        0부터 셉니다). 4절의 잡음 많은 나선 데이터로 다시 학습하면서 체크포인트 세 개로
        지켜봅니다.
        """,
    ),
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
        for key, marker, colour in (("max", "^", "tab:green"), ("min", "v", "tab:red")):
            ax.plot(
                saved[key],
                val_accuracy[np.array(saved[key]) - 1],
                marker,
                color=colour,
                ms=9,
                ls="none",
                label=f"saved with mode='{key}'",
            )
        ax.set(xlabel="epoch (1-based, as in the file names)", ylabel="val_accuracy")
        ax.legend()
        plt.show()
        """),
    text(
        en="""
        With `mode='max'` a file appears at every new best accuracy, so the last
        file is the best model. With `mode='min'` a lower accuracy counts as
        better: the accuracy never fell below that of the first epoch, so the
        callback kept the first, worst model. `mode='auto'` reads the monitor's
        name and gets both right. The last file written is the
        model to keep; `mt.load_model` rebuilds it, architecture, weights,
        BatchNorm statistics and optimizer state included, ready to predict or
        to train on:
        """,
        ko="""
        `mode='max'`이면 정확도가 새로 최고를 찍을 때마다 파일이 생기므로, 마지막 파일이
        가장 좋은 모델입니다. `mode='min'`이면 더 낮은 정확도를 더 좋다고 여깁니다.
        정확도가 첫 에포크보다 낮아진 적이 없으므로 콜백은 첫 번째, 가장 나쁜 모델을
        간직했습니다. `mode='auto'`는 지켜보는 값의 이름을 읽어서 두 경우 모두 맞게
        처리합니다. 마지막으로 쓰인 파일이 간직할 모델입니다. `mt.load_model`은 구조,
        가중치, BatchNorm 통계, 옵티마이저 상태까지 모두 되살려서, 바로 예측하거나 이어서
        학습할 수 있게 해 줍니다.
        """,
    ),
    code("""
        best_file = folders["max"] / f"epoch{saved['max'][-1]:02d}.npz"
        reloaded = mt.load_model(best_file)
        loss, accuracy = reloaded.evaluate(xo_val, yo_val, verbose=0)
        best_epoch = int(val_accuracy.argmax())
        print(f"{best_file.name}: val_accuracy {accuracy:.4f}, val_loss {loss:.4f}")
        print(
            f"History, epoch {best_epoch} (0-based): "
            f"val_accuracy {val_accuracy[best_epoch]:.4f}, "
            f"val_loss {history.history['val_loss'][best_epoch]:.4f}"
        )
        last_loss, last_accuracy = model.evaluate(xo_val, yo_val, verbose=0)
        print(f"the model after epoch 30: val_accuracy {last_accuracy:.4f}, val_loss {last_loss:.4f}")
        """),
    text(
        en="""
        Three more arguments decide what a file holds, when it is written and what
        it is called:

        - **`save_weights_only=True`** writes only the parameters and buffers
          (what `model.save_weights` writes): a smaller file that
          `model.load_weights` reads into a model you built yourself, but not
          `mt.load_model`, which needs the architecture.
        - **`save_freq`** is `"epoch"` (the default: at every epoch end) or an
          int *n*: every *n* training batches, counted across epochs, and then the
          name may hold `{batch}`.
        - **Formatted names**: any log key can go into the name with a format,
          `{val_loss:.2f}`, so the folder listing reads like a log.

        Ten batches per epoch here (150 points in batches of 16), twelve epochs:
        """,
        ko="""
        인자 세 개가 더 있어서, 파일에 무엇을 담을지, 언제 쓸지, 이름을 무엇으로 할지를
        정합니다.

        - **`save_weights_only=True`** 는 파라미터와 버퍼만 씁니다(`model.save_weights`가
          쓰는 것과 같습니다). 파일은 더 작고, 직접 만든 모델에 `model.load_weights`로
          읽어 들일 수 있지만, 구조가 필요한 `mt.load_model`로는 읽을 수 없습니다.
        - **`save_freq`** 는 `"epoch"`(기본값: 에포크가 끝날 때마다)이거나 정수 *n*
          입니다. 정수이면 에포크를 넘어 세어 학습 배치 *n* 개마다 저장하고, 이름에
          `{batch}`를 쓸 수 있습니다.
        - **서식 있는 이름**: 어떤 로그 키든 `{val_loss:.2f}`처럼 서식과 함께 이름에
          넣을 수 있어서, 폴더 목록이 로그처럼 읽힙니다.

        여기서는 에포크당 배치가 열 개(점 150개를 16개씩), 에포크는 열두 개입니다.
        """,
    ),
    code("""
        folder = workdir / "formats"
        named = [
            mt.ModelCheckpoint(folder / "model-{epoch:02d}-{val_loss:.2f}.npz", save_best_only=True),
            mt.ModelCheckpoint(folder / "weights-{epoch:02d}.npz", save_weights_only=True),
            mt.ModelCheckpoint(folder / "every25-{epoch:02d}-{batch:02d}.npz", save_freq=25, save_weights_only=True),
        ]
        model = compiled(mt.MLP([2, 64, 64, 3], seed=0), mt.Adam(0.01))
        model.fit(xo_train, yo_train, batch_size=16, epochs=12, verbose=0, validation_data=(xo_val, yo_val), callbacks=named)

        print(f"{'file':<28}{'bytes':>8}")
        for path in sorted(folder.iterdir()):
            print(f"{path.name:<28}{path.stat().st_size:>8}")

        weights_only = folder / "weights-12.npz"
        fresh = compiled(mt.MLP([2, 64, 64, 3], seed=1), mt.Adam(0.01))
        fresh.load_weights(weights_only)
        print(f"\\nload_weights into a model built by hand: val_accuracy {fresh.evaluate(xo_val, yo_val, verbose=0)[1]:.4f}")
        try:
            mt.load_model(weights_only)
        except ValueError as err:
            print(f"load_model of a weights-only file: ValueError: {err}")

        kinds = {"model-": ("o", "save_best_only, val_loss in the name"), "weights-": ("s", "save_weights_only, every epoch"),
                 "every25-": ("x", "save_freq=25 (batches)")}
        fig, ax = plt.subplots(figsize=(9, 2.6), layout="constrained")
        for row, (prefix, (marker, label)) in enumerate(kinds.items()):
            batches = []
            for path in folder.glob(prefix + "*.npz"):
                parts = path.stem.split("-")
                epoch = int(parts[1])
                batches.append(int(parts[2]) + 10 * (epoch - 1) if prefix == "every25-" else 10 * epoch)
            ax.plot(sorted(batches), [row] * len(batches), marker, ms=8, ls="none", label=label)
        ax.set(xlabel="training batches done (10 per epoch)", yticks=[], xlim=(0, 125), ylim=(-0.7, 2.7))
        ax.legend(fontsize="small", loc="center right")
        ax.set_title("when each checkpoint wrote a file")
        plt.show()
        """),
    text(
        en="""
        The `model-` files appear only at new bests, each named with the value
        that earned it; the `weights-` files every epoch, about a third of the
        size (no architecture, no optimizer state); the `every25-` files at
        batches 25, 50, 75 and 100 of the run, named with the epoch and the
        1-based batch within it. Every write goes to a temporary file first and
        is then renamed, so an interrupted save never leaves a broken checkpoint.
        """,
        ko="""
        `model-` 파일은 새 최고 기록일 때만 생기고, 그 기록을 이름에 담습니다. `weights-`
        파일은 에포크마다 생기며, 구조와 옵티마이저 상태가 없어서 크기가 3분의 1
        정도입니다. `every25-` 파일은 전체 학습의 25, 50, 75, 100번째 배치에서 생기고,
        이름에는 에포크와 그 안에서 1부터 센 배치 번호가 들어갑니다. 모든 쓰기는 먼저 임시
        파일에 한 다음 이름을 바꾸므로, 저장이 중간에 끊겨도 망가진 체크포인트는 남지
        않습니다.
        """,
    ),
]
