"""Section 5: three crossentropies, from_logits, label smoothing."""

from tour.cells import code, text

CELLS = [
    text(
        en="""
        ## 5. Categorical, sparse categorical and binary crossentropy

        Crossentropy scores predicted class probabilities $p$ against the true
        class: $\\ell = -\\log p_{\\text{true}}$, averaged over the batch.
        `CategoricalCrossentropy` takes the true class as a one-hot row,
        `SparseCategoricalCrossentropy` as an integer. For hard labels they are
        the same function, with the same gradient, $(\\text{softmax}(z) - t)/N$
        with respect to the logits $z$.
        """,
        ko="""
        ## 5. 범주형, 희소 범주형, 이진 크로스엔트로피

        크로스엔트로피는 예측한 클래스 확률 $p$를 정답 클래스에 대해 채점합니다.
        $\\ell = -\\log p_{\\text{정답}}$을 배치에 대해 평균 낸 값입니다.
        `CategoricalCrossentropy`는 정답을 원-핫 행으로, `SparseCategoricalCrossentropy`는
        정수로 받습니다. 딱 떨어지는 레이블이라면 둘은 같은 함수이고, 로짓 $z$에 대한
        기울기도 $(\\text{softmax}(z) - t)/N$으로 같습니다.
        """,
    ),
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
    text(
        en="""
        **`from_logits`** says what the predictions are. With `from_logits=True`
        they are raw scores and the loss applies the softmax itself, in a
        numerically stable way; with `from_logits=False` they must already be
        probabilities (a model ending in `Softmax`). Both give the same loss, and,
        once the gradient is carried back through the softmax, the same gradient
        with respect to the logits. Logits given to a loss that expects
        probabilities give a wrong number without any error (they are divided by
        their row sum and clipped), so `compile` refuses a loss that contradicts
        the model's last layer.
        """,
        ko="""
        **`from_logits`** 는 예측값이 무엇인지 알려 줍니다. `from_logits=True`이면
        예측값은 가공하지 않은 점수이고, 손실 함수가 수치적으로 안정된 방법으로 직접
        소프트맥스를 적용합니다. `from_logits=False`이면 예측값은 이미 확률이어야 합니다
        (`Softmax`로 끝나는 모델). 두 방법의 손실은 같고, 기울기를 소프트맥스를 거쳐
        되돌리면 로짓에 대한 기울기도 같습니다. 확률을 기대하는 손실에 로짓을 주면 아무
        오류 없이 틀린 값이 나오므로(행의 합으로 나눈 뒤 잘라 냅니다), `compile`은 모델의
        마지막 층과 맞지 않는 손실을 거부합니다.
        """,
    ),
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
    text(
        en="""
        **Binary crossentropy** is the two-class case with a single output: the
        model gives one logit $z$ per sample, $p = \\sigma(z) = 1/(1 + e^{-z})$ is
        the probability of class 1, and
        $\\ell = -t \\log p - (1 - t) \\log(1 - p)$. It is the sparse categorical
        crossentropy of the two logits $(0, z)$, since
        $\\text{softmax}(0, z)_1 = \\sigma(z)$. From logits the loss is computed as
        $\\max(z, 0) - z t + \\log(1 + e^{-|z|})$, which never overflows; from
        probabilities (a model ending in `Sigmoid`) $p$ is clipped to
        $[10^{-7}, 1 - 10^{-7}]$, so a confident wrong answer costs at most
        $-\\log 10^{-7} \\approx 16.1$ there, while from logits it keeps growing.
        The same holds for several independent yes/no outputs (multi-label):
        one column per question.
        """,
        ko="""
        **이진 크로스엔트로피** 는 출력이 하나뿐인 두 클래스의 경우입니다. 모델은 샘플마다
        로짓 $z$ 하나를 내고, $p = \\sigma(z) = 1/(1 + e^{-z})$가 클래스 1의 확률이며,
        $\\ell = -t \\log p - (1 - t) \\log(1 - p)$입니다.
        $\\text{softmax}(0, z)_1 = \\sigma(z)$이므로, 이는 두 로짓 $(0, z)$에 대한 희소
        범주형 크로스엔트로피와 같습니다. 로짓에서는 넘치지 않는 식
        $\\max(z, 0) - z t + \\log(1 + e^{-|z|})$로 계산합니다. 확률에서(`Sigmoid`로
        끝나는 모델) 계산할 때는 $p$를 $[10^{-7}, 1 - 10^{-7}]$로 잘라 내므로, 자신 있게
        틀린 답의 비용이 최대 $-\\log 10^{-7} \\approx 16.1$에 머물지만, 로짓에서는 계속
        커집니다. 서로 독립인 예/아니요 출력이 여럿일 때(다중 레이블)도 같습니다. 질문
        하나에 열 하나입니다.
        """,
    ),
    code("""
        bce = mt.BinaryCrossentropy(from_logits=True)
        bce_p = mt.BinaryCrossentropy(from_logits=False)
        z = np.array([[2.0], [-1.0], [0.5], [-3.0]])
        t = np.array([1.0, 0.0, 0.0, 1.0])
        two_logits = np.hstack([np.zeros_like(z), z])
        print(f"binary, from logits             {bce(t, z):.12f}")
        print(f"binary, from sigmoid(z)         {bce_p(t, 1 / (1 + np.exp(-z))):.12f}")
        print(f"sparse categorical of (0, z)    {scce(t.astype(int), two_logits):.12f}")

        binary = mt.Sequential([mt.Dense(2, 1, seed=0), mt.Sigmoid()])
        binary.compile("adam", "binary_crossentropy")
        print(f"\\ncompile picked, for a model ending in Sigmoid: {binary.loss!r}")

        zs = np.linspace(-20, 20, 401)
        fig, (ax_bce, ax_smooth) = plt.subplots(1, 2, figsize=(12, 3.8), layout="constrained")
        for target, colour in ((1.0, "C0"), (0.0, "C1")):
            tt = np.array([target])
            ax_bce.plot(zs, [bce(tt, np.array([[v]])) for v in zs], color=colour, label=f"t={target:g}, from logits")
            ax_bce.plot(zs, [bce_p(tt, 1 / (1 + np.exp(-np.array([[v]])))) for v in zs], "--", color=colour,
                        label=f"t={target:g}, from probabilities (clipped)")
        ax_bce.set(xlabel="logit z", ylabel="binary crossentropy", title="from logits it keeps growing")
        ax_bce.legend(fontsize="small")

        smoothed = mt.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
        target = np.array([[1.0, 0.0, 0.0]])
        scales = np.linspace(0, 10, 101)
        ax_smooth.plot(scales, [cce(target, np.array([[s, 0.0, 0.0]])) for s in scales], label="plain")
        ax_smooth.plot(scales, [smoothed(target, np.array([[s, 0.0, 0.0]])) for s in scales], label="label_smoothing=0.1")
        ax_smooth.axvline(np.log((0.9 + 0.1 / 3) / (0.1 / 3)), color="0.5", ls=":", label="p_true = 0.933")
        ax_smooth.set(xlabel="logit of the true class (the others 0)", ylabel="loss", title="label smoothing")
        ax_smooth.legend(fontsize="small")
        plt.show()
        """),
    text(
        en="""
        **Label smoothing** (right) replaces the one-hot target $t$ by
        $(1 - \\varepsilon)\\,t + \\varepsilon / K$. The loss can then no longer
        reach 0: it is smallest when the prediction equals the smoothed target, so
        it stops rewarding ever larger, over-confident logits. As the true logit
        grows, the plain loss keeps falling towards 0; the smoothed one
        (ε = 0.1, K = 3) turns back up once $p_{\\text{true}}$ passes
        $0.9 + 0.1/3 = 0.933$.
        """,
        ko="""
        **레이블 평활화(label smoothing)** (오른쪽)는 원-핫 목표 $t$를
        $(1 - \\varepsilon)\\,t + \\varepsilon / K$로 바꿉니다. 그러면 손실은 더 이상 0에
        닿을 수 없습니다. 예측이 평활화된 목표와 같을 때 가장 작으므로, 점점 커지는 과신한
        로짓에 더는 보상을 주지 않습니다. 정답 로짓이 커질수록 평범한 손실은 계속 0으로
        내려가지만, 평활화된 손실(ε = 0.1, K = 3)은 $p_{\\text{정답}}$이
        $0.9 + 0.1/3 = 0.933$을 넘으면 다시 올라갑니다.
        """,
    ),
]
