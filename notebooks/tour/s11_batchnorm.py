"""Section 11: BatchNorm, covariate shift, and the PyTorch and Keras conventions."""

from tour.cells import code, text

CELLS = [
    text(
        en="""
        ## 11. BatchNorm and covariate shift

        **Covariate shift** is a change in the distribution of a model's inputs
        between the data it was trained on and the data it meets later: a model
        fitted to summer photos, used in winter. Ioffe and Szegedy (2015) carried
        the idea inside the network. Each layer is a model whose inputs are the
        outputs of the layers before it, and those change at every update, so
        each layer keeps chasing a moving distribution: **internal covariate
        shift**. Their remedy, batch normalisation, standardises each feature of
        a layer's input over the batch, then rescales it with a learned `gamma`
        and `beta`, so that the next layer receives inputs of a steady centre and
        scale, whatever the layers before it do.

        Below, the same deep network, six `tanh` layers of 64 units, trained with
        the same optimizer and learning rate, with and without BatchNorm. A
        `GradientFlow` callback with a probe batch records, at every epoch end,
        the percentiles of what each layer outputs.
        """,
        ko="""
        ## 11. BatchNorm과 공변량 변화

        **공변량 변화(covariate shift)** 는 모델이 학습한 데이터와 나중에 만나는 데이터
        사이에서 모델 입력의 분포가 바뀌는 것입니다. 여름 사진으로 맞춘 모델을 겨울에 쓰는
        경우가 그렇습니다. Ioffe와 Szegedy(2015)는 이 생각을 신경망 안으로 가져왔습니다.
        각 층은 앞선 층들의 출력을 입력으로 받는 모델이고, 그 출력은 갱신할 때마다 바뀌므로,
        각 층은 계속 움직이는 분포를 쫓게 됩니다. 이것이 **내부 공변량 변화(internal
        covariate shift)** 입니다. 두 사람의 처방인 배치 정규화는 층 입력의 특성마다 배치에
        대해 표준화한 다음, 학습되는 `gamma`와 `beta`로 다시 크기를 맞춥니다. 그러면 앞선
        층들이 무엇을 하든 다음 층은 중심과 크기가 일정한 입력을 받습니다.

        아래는 64 유닛짜리 `tanh` 층 여섯 개로 된 같은 깊은 신경망을, 같은 옵티마이저와
        학습률로, BatchNorm이 있을 때와 없을 때 학습시킨 것입니다. 탐침(probe) 배치를 준
        `GradientFlow` 콜백이 에포크가 끝날 때마다 각 층 출력의 백분위수를 기록합니다.
        """,
    ),
    code("""
        def deep(batchnorm):
            model = mt.MLP([2] + [64] * 6 + [3], activation="tanh", batchnorm=batchnorm, seed=0)
            return compiled(model, mt.SGD(0.1, momentum=0.9))


        deep_models = {"without BatchNorm": deep(False), "with BatchNorm": deep(True)}
        initial = {label: copy.deepcopy(model) for label, model in deep_models.items()}
        flows = {label: mt.callbacks.GradientFlow(x_val) for label in deep_models}
        fig, axes = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
        for ax, (label, model) in zip(axes, deep_models.items(), strict=True):
            history = model.fit(
                x_train, y_train, epochs=30, verbose=0, validation_data=(x_val, y_val), callbacks=[flows[label]]
            )
            curves = {k: v for k, v in history.history.items() if k != "learning_rate"}
            plot_history(curves, ax=ax)  # the rate is the same 0.1 throughout
            ax.set_title(f"{label}: val_accuracy {history.history['val_accuracy'][-1]:.3f}")
        plt.show()
        """),
    text(
        en="""
        Without BatchNorm the same steps are too large for this deep stack: the
        loss jumps around and the accuracy falls back towards chance (1/3). With
        BatchNorm it trains. Internal covariate shift, made visible: the
        distribution (15th, 50th and 85th percentiles over the validation points
        and all 64 units) of the input of the last `tanh` layer, epoch by epoch.
        """,
        ko="""
        BatchNorm이 없으면 같은 걸음이 이 깊은 층들에는 너무 커서, 손실이 이리저리 튀고
        정확도는 우연 수준(1/3) 쪽으로 떨어집니다. BatchNorm이 있으면 학습됩니다. 내부
        공변량 변화를 눈으로 봅시다. 마지막 `tanh` 층 입력의 분포(검증 데이터와 64 유닛
        전체에 대한 15, 50, 85번째 백분위수)를 에포크마다 그린 것입니다.
        """,
    ),
    code("""
        fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), layout="constrained", sharey=True)
        for ax, (label, model) in zip(axes, deep_models.items(), strict=True):
            last_tanh = max(i for i, layer in enumerate(model.layers) if isinstance(layer, mt.Tanh))
            source = model.layers[last_tanh - 1]
            stats = flows[label].activations[f"{last_tanh - 1}.{type(source).__name__}"]
            for p, style in (("p15", ":"), ("p50", "-"), ("p85", ":")):
                ax.plot(flows[label].epochs, stats[p], style, color="C0", label=f"{p[1:]}th percentile")
            spread = np.array(stats["p85"]) - np.array(stats["p15"])
            ax.set(title=f"{label}: input of the last tanh ({type(source).__name__} output)", xlabel="epoch")
            print(f"{label:<18} 15-85 spread: epoch 0 {spread[0]:.2f}, epoch 29 {spread[-1]:.2f}, "
                  f"median moved by {abs(stats['p50'][-1] - stats['p50'][0]):.2f}")
            ax.legend(fontsize="small")
        axes[0].set_ylabel("pre-activation")
        plt.show()
        """),
    text(
        en="""
        Without BatchNorm the distribution wanders and spreads as the earlier
        layers change: the last layer trains on a moving target. With BatchNorm
        it stays centred on 0, and its width changes only slowly and smoothly,
        through the learned `gamma` (which narrows it here), whatever the layers
        below do. That is the paper's explanation.
        It is not the last word: Santurkar et al. (2018, "How Does Batch
        Normalization Help Optimization?") trained networks with BatchNorm
        followed by deliberately injected noise that *increased* the shift, and
        they trained as well as with plain BatchNorm; they argue that the benefit
        comes mostly from a smoother loss landscape, whose gradients stay
        predictive over larger steps, which is why BatchNorm tolerates larger
        learning rates. Both effects are seen here; which one matters more is
        still debated.

        What each `tanh` layer receives, before and after training (violins over
        the training points): a `tanh` fed values far from 0 is flat, with a
        gradient near 0.
        """,
        ko="""
        BatchNorm이 없으면 앞선 층들이 바뀜에 따라 분포가 떠돌며 퍼집니다. 마지막 층은
        움직이는 과녁을 향해 학습하는 셈입니다. BatchNorm이 있으면 분포는 0을 중심으로
        머물고, 폭은 아래 층들이 무엇을 하든 학습되는 `gamma`를 통해서만 천천히, 매끄럽게
        바뀝니다(여기서는 `gamma`가 폭을 좁힙니다). 이것이 논문의 설명입니다. 하지만 마지막 결론은 아닙니다.
        Santurkar 외(2018, "How Does Batch Normalization Help Optimization?")는 BatchNorm
        뒤에 일부러 잡음을 넣어 변화를 *키운* 신경망을 학습시켰는데, 평범한 BatchNorm만큼
        잘 학습되었습니다. 그들은 이점의 대부분이 더 매끄러운 손실 지형에서 온다고
        주장합니다. 매끄러운 지형에서는 기울기가 더 큰 걸음에서도 믿을 만하고, 그래서
        BatchNorm은 더 큰 학습률을 견딘다는 것입니다. 여기서도 두 효과가 모두 보이며,
        어느 쪽이 더 중요한지는 아직 논쟁 중입니다.

        각 `tanh` 층이 받는 값을 학습 전과 후에 그려 봅니다(학습 데이터에 대한 바이올린
        그림). 0에서 먼 값을 받은 `tanh`는 평평해서 기울기가 0에 가깝습니다.
        """,
    ),
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
                    h = layer(h, training=False)
            print(f"{label:<20}{'  '.join(shares)}")
        """),
    text(
        en="""
        The running statistics are what makes eval mode work. In training mode
        BatchNorm normalises with the batch's own mean and variance and updates
        `running = (1 - momentum) * running + momentum * batch_stat`
        (momentum 0.1, as PyTorch); eval mode uses the running values instead, so
        the output no longer depends on the rest of the batch and a single sample
        works. Batches drawn from a mean of 5 and a standard deviation of 2:
        """,
        ko="""
        eval 모드가 제대로 동작하게 하는 것은 이동 통계입니다. 학습 모드에서 BatchNorm은
        배치 자신의 평균과 분산으로 정규화하고,
        `running = (1 - momentum) * running + momentum * batch_stat`으로 이동 통계를
        갱신합니다(PyTorch처럼 momentum은 0.1). eval 모드에서는 대신 이동 통계를 쓰므로,
        출력이 배치의 나머지에 더 이상 좌우되지 않고 샘플 하나도 처리할 수 있습니다. 평균 5,
        표준편차 2에서 뽑은 배치들로 확인해 봅니다.
        """,
    ),
    code("""
        bn = mt.BatchNorm(3)
        rng = np.random.default_rng(0)
        print(
            "batches seen   running_mean              running_var        5 (1 - 0.9^k)   4 + (1 - 4) 0.9^k"
        )
        means = []
        for k in range(1, 41):
            bn(rng.normal(5.0, 2.0, size=(256, 3)).astype(np.float32))
            means.append(bn.buffers["running_mean"].copy())
            if k in (1, 2, 5, 10, 20, 40):
                print(
                    f"{k:>12}   {bn.buffers['running_mean']}  {bn.buffers['running_var']}"
                    f"  {5 * (1 - 0.9**k):>12.3f}  {4 - 3 * 0.9**k:>17.3f}"
                )

        shifted = rng.normal(8.0, 2.0, size=(256, 3)).astype(np.float32)  # the data moved
        eval_out = bn(shifted, training=False)
        train_out = bn(shifted, training=True)
        print(f"\\nbatch from mean 8, std 2: {'output mean':>12}{'output std':>12}")
        print(f"  eval mode (running):     {eval_out.mean():>12.3f}{eval_out.std():>12.3f}")
        print(f"  training mode (batch):   {train_out.mean():>12.3f}{train_out.std():>12.3f}")
        try:
            bn(shifted[:1])
        except ValueError as err:
            print(f"\\nValueError: {err}")

        fig, ax = plt.subplots(figsize=(7, 3), layout="constrained")
        k = np.arange(1, 41)
        ax.plot(k, np.array(means), ".", label=["running_mean[0]", "[1]", "[2]"])
        ax.plot(k, 5 * (1 - 0.9**k), "k-", lw=1, label="5 (1 - 0.9^k)")
        ax.set(xlabel="batches seen k", ylabel="running_mean", title="the running mean approaches 5")
        ax.legend(fontsize="small")
        plt.show()
        """),
    text(
        en="""
        The running mean approaches 5 as $5(1 - 0.9^k)$ and the running variance
        approaches 4, as the formula says. In eval mode the shifted batch comes out
        shifted, by (8 - 5)/2 = 1.5 standard deviations: the layer reports what it
        learned during training. In training mode the batch statistics erase the
        shift, which is right for training and wrong for inference: forget
        `eval()` and the predictions depend on the batch they come in.

        **PyTorch's `BatchNorm` and Keras's `BatchNormalization`** compute the
        same normalisation with different conventions, and a value copied from one
        to the other silently means something else:

        | | `mt.BatchNorm` (PyTorch `BatchNorm1d`) | `mt.layers.BatchNormalization` (Keras) |
        |---|---|---|
        | running update | `(1 - m) * running + m * batch` | `m * moving + (1 - m) * batch` |
        | default `momentum` | 0.1 (weight of the new batch) | 0.99 (weight of the old value) |
        | epsilon | `eps=1e-5` | `epsilon=1e-3` |
        | variance fed to the running value | unbiased, × N/(N - 1) | biased, as normalised |
        | names | `running_mean`, `running_var` | `moving_mean`, `moving_variance` |
        | a training batch of one | an error | allowed (the output is `beta`) |

        So `BatchNorm(momentum=0.01)` and `BatchNormalization(momentum=0.99)` weigh
        each batch alike, and `BatchNorm(momentum=0.99)`, Keras's number in
        PyTorch's convention, is almost surely a mistake: minitrain warns.
        """,
        ko="""
        이동 평균은 식대로 $5(1 - 0.9^k)$로 5에 다가가고, 이동 분산은 4에 다가갑니다.
        eval 모드에서는 이동한 배치가 (8 - 5)/2 = 1.5 표준편차만큼 이동한 채로 나옵니다.
        층이 학습 중에 배운 것을 보고하는 것입니다. 학습 모드에서는 배치 통계가 이동을
        지워 버립니다. 학습에는 맞지만 추론에는 틀린 동작입니다. `eval()`을 잊으면 예측이
        함께 들어온 배치에 따라 달라집니다.

        **PyTorch의 `BatchNorm`과 Keras의 `BatchNormalization`** 은 같은 정규화를 다른
        관례로 계산합니다. 한쪽의 값을 다른 쪽으로 그대로 옮기면 아무 말 없이 다른 뜻이
        됩니다.

        | | `mt.BatchNorm` (PyTorch `BatchNorm1d`) | `mt.layers.BatchNormalization` (Keras) |
        |---|---|---|
        | 이동 통계 갱신 | `(1 - m) * running + m * batch` | `m * moving + (1 - m) * batch` |
        | 기본 `momentum` | 0.1 (새 배치의 가중치) | 0.99 (예전 값의 가중치) |
        | 엡실론 | `eps=1e-5` | `epsilon=1e-3` |
        | 이동 분산에 넣는 분산 | 불편 분산, × N/(N - 1) | 정규화에 쓴 편향 분산 |
        | 이름 | `running_mean`, `running_var` | `moving_mean`, `moving_variance` |
        | 샘플 하나짜리 학습 배치 | 오류 | 허용 (출력은 `beta`) |

        그래서 `BatchNorm(momentum=0.01)`과 `BatchNormalization(momentum=0.99)`는 각
        배치에 같은 무게를 주고, Keras의 숫자를 PyTorch의 관례로 쓴
        `BatchNorm(momentum=0.99)`는 거의 틀림없이 실수입니다. minitrain은 경고합니다.
        """,
    ),
    code("""
        torch_style = mt.BatchNorm(2, momentum=0.01)
        keras_style = mt.layers.BatchNormalization(2, momentum=0.99)
        rng = np.random.default_rng(1)
        variances = {"BatchNorm(momentum=0.01)": [], "BatchNormalization(momentum=0.99)": []}
        for _ in range(300):
            batch = rng.normal(0.0, 3.0, size=(4, 2)).astype(np.float32)  # small batches: N/(N-1) = 4/3
            torch_style(batch)
            keras_style(batch)
            variances["BatchNorm(momentum=0.01)"].append(torch_style.buffers["running_var"][0])
            variances["BatchNormalization(momentum=0.99)"].append(keras_style.buffers["moving_variance"][0])
        print(f"running means: {torch_style.buffers['running_mean']} and {keras_style.buffers['moving_mean']}")
        ratio = torch_style.buffers["running_var"] / keras_style.buffers["moving_variance"]
        print(f"variance ratio, BatchNorm / BatchNormalization: {ratio} (N / (N - 1) = {4 / 3:.4f})")
        print(f"one sample in training mode, BatchNormalization: {keras_style(batch[:1])}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            mt.BatchNorm(2, momentum=0.99)
        print(f"BatchNorm(momentum=0.99): {caught[0].category.__name__}: {caught[0].message}")

        fig, ax = plt.subplots(figsize=(8, 3.2), layout="constrained")
        for label, values in variances.items():
            ax.plot(values, label=label)
        ax.axhline(9.0, color="0.5", ls=":", label="true variance 9")
        ax.axhline(9.0 * 3 / 4, color="0.7", ls=":", label="biased batch variance: 9 x 3/4")
        ax.set(xlabel="batches of 4", ylabel="running variance", title="same weighting, different variance")
        ax.legend(fontsize="small")
        plt.show()
        """),
]
