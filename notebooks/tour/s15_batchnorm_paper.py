"""Section 15: Figure 1 of Ioffe and Szegedy (2015), on the MNIST sample."""

from tour.cells import code, text

CELLS = [
    text(
        en="""
        ## 15. A paper's figure: BatchNorm, Ioffe and Szegedy (2015)

        The BatchNorm paper ("Batch Normalization: Accelerating Deep Network
        Training by Reducing Internal Covariate Shift") opens its experiments with
        a small MNIST network: three fully connected hidden layers of 100 sigmoid
        units, weights initialised to small random Gaussian values, a 10-way
        output with crossentropy, mini-batches of 60. Its Figure 1 shows (a) the
        test accuracy over the training steps, with and without BatchNorm, and
        (b, c) the 15th, 50th and 85th percentiles of the input of one sigmoid in
        the last hidden layer, over the same steps. The paper describes the
        curves this way: the network with BatchNorm trains faster and reaches a
        higher accuracy, and the distribution of that sigmoid's input is much
        more stable with BatchNorm, while without it the distribution changes
        significantly, in its mean and its spread, as training goes on.

        The same experiment here, built the Keras way (`Input`, lazily built
        `Dense` layers, a `kernel_initializer`), on the 4,000 training digits of
        section 14 rather than 60,000, and for 3,000 steps rather than 50,000:
        """,
        ko="""
        ## 15. 논문의 그림 재현: BatchNorm, Ioffe와 Szegedy (2015)

        BatchNorm 논문("Batch Normalization: Accelerating Deep Network Training by
        Reducing Internal Covariate Shift")은 작은 MNIST 신경망으로 실험을 시작합니다.
        시그모이드 유닛 100개짜리 완전 연결 은닉층 세 개, 작은 무작위 가우시안 값으로
        초기화한 가중치, 크로스엔트로피를 쓰는 10개 출력, 60개짜리 미니배치입니다.
        그림 1은 (a) BatchNorm이 있을 때와 없을 때의 학습 걸음에 따른 테스트 정확도와,
        (b, c) 같은 걸음 동안 마지막 은닉층의 시그모이드 하나가 받는 입력의 15, 50, 85번째
        백분위수를 보여 줍니다. 논문은 곡선을 이렇게 설명합니다. BatchNorm이 있는 신경망이
        더 빨리 학습하고 더 높은 정확도에 이르며, 그 시그모이드 입력의 분포는 BatchNorm이
        있을 때 훨씬 안정적이지만, 없을 때는 학습이 진행됨에 따라 평균과 퍼짐이 크게
        바뀝니다.

        여기서는 같은 실험을 Keras 방식(`Input`, 지연 생성되는 `Dense` 층,
        `kernel_initializer`)으로 만들어, 60,000개 대신 14절의 학습용 숫자 4,000개로,
        50,000 걸음 대신 3,000 걸음 동안 진행합니다.
        """,
    ),
    code("""
        class PaperProbe(mt.Callback):
            \"\"\"Every ``every`` steps: test accuracy and percentiles of one last-layer sigmoid's input.\"\"\"

            def __init__(self, x, y, every=50, unit=0):
                super().__init__()
                self.x, self.y, self.every, self.unit = x, y, every, unit

            def on_train_begin(self, logs=None):
                self.step, self.steps, self.accuracy, self.percentiles = 0, [], [], []

            def on_train_batch_end(self, batch, logs=None):
                self.step += 1
                if self.step % self.every:
                    return
                last_sigmoid = max(
                    i for i, layer in enumerate(self.model.layers) if isinstance(layer, mt.Sigmoid)
                )
                h = self.x
                with mt.no_grad():
                    for i, layer in enumerate(self.model.layers):
                        if i == last_sigmoid:
                            self.percentiles.append(np.percentile(h[:, self.unit], (15, 50, 85)))
                        h = layer(h, training=False)
                self.steps.append(self.step)
                self.accuracy.append(float((h.argmax(axis=1) == self.y).mean()))


        def paper_net(batchnorm):
            init = mt.initializers.RandomNormal(stddev=0.1)  # "small random Gaussian values"
            layers = [mt.Input((784,))]
            for _ in range(3):
                layers.append(mt.Dense(100, use_bias=not batchnorm, kernel_initializer=init))
                if batchnorm:
                    layers.append(mt.BatchNorm(100))
                layers.append(mt.Sigmoid())
            layers.append(mt.Dense(10, kernel_initializer=init))
            model = mt.Sequential(layers, seed=0)
            model.compile(mt.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
            return model


        probes = {}
        for label, batchnorm in (("without BN", False), ("with BN", True)):
            probes[label] = PaperProbe(xm_test, ym_test)
            paper_net(batchnorm).fit(xm_train, ym_train, batch_size=60, epochs=45, verbose=0, callbacks=[probes[label]])
            print(f"{label:<11} test accuracy after {probes[label].steps[-1]} steps: {probes[label].accuracy[-1]:.4f}")

        fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
        for label, style in (("with BN", "C0"), ("without BN", "C3")):
            axes[0].plot(probes[label].steps, probes[label].accuracy, color=style, label=label)
        axes[0].set(xlabel="training steps", ylabel="test accuracy", ylim=(0.0, 1.0), title="(a) test accuracy")
        axes[0].legend()
        for ax, label, tag in ((axes[1], "without BN", "(b)"), (axes[2], "with BN", "(c)")):
            percentiles = np.array(probes[label].percentiles)
            for column, style in ((0, ":"), (1, "-"), (2, ":")):
                ax.plot(probes[label].steps, percentiles[:, column], style, color="k")
            ax.set(xlabel="training steps", title=f"{tag} {label}: 15th, 50th, 85th percentiles")
        axes[1].set_ylabel("input of one last-layer sigmoid")
        plt.show()
        """),
    text(
        en="""
        The small replica shows what the paper's figure shows. With BatchNorm the
        accuracy is near its plateau within a few hundred steps, a level the plain
        network (same SGD, same rate 0.1) takes thousands of steps to approach;
        and the sigmoid's input keeps a steady median and spread, while without
        BatchNorm its distribution drifts as the layers below it learn. (On 4,000
        training digits both level off near 90%, below the paper's figures on
        60,000.) Section 11 gives the caveat that goes with the picture:
        a steadier distribution is what BatchNorm does; why that helps training
        so much is still argued over.
        """,
        ko="""
        작은 재현도 논문의 그림과 같은 것을 보여 줍니다. BatchNorm이 있으면 정확도가 몇백
        걸음 만에 거의 최고 수준에 이르는데, 평범한 신경망(같은 SGD, 같은 학습률 0.1)은 그
        수준에 다가가는 데 수천 걸음이 걸립니다. 또 BatchNorm이 있으면 시그모이드 입력의
        중앙값과 퍼짐이 일정하게 유지되지만, 없으면 아래 층들이 배우는 동안 분포가
        떠돕니다. (학습용 숫자 4,000개로는 둘 다 90% 근처에서 멈추며, 60,000개를 쓴 논문의
        수치보다 낮습니다.) 11절이 이 그림에 붙는 단서를 알려
        줍니다. 분포를 안정시키는 것은 BatchNorm이 하는 일이지만, 그것이 왜 학습을 그토록
        돕는지는 아직 논쟁 중입니다.
        """,
    ),
]
