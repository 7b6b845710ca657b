"""Section 1: what the user sets, what training sets."""

from tour.cells import code, text

CELLS = [
    text(
        en="""
        ## 1. Hyperparameters versus parameters

        A **hyperparameter** is a choice you make before training: the layer
        sizes, BatchNorm or not, the optimizer and its learning rate, the batch
        size, the number of epochs. A **parameter** is a number that training
        sets: every weight matrix `W`, bias `b`, and BatchNorm's `gamma` and
        `beta`. `fit` reads the first kind and changes every array of the second.
        BatchNorm's running mean and variance are a third kind, *buffers*: they
        too come from the data, but by averaging, not by gradient descent.
        """,
        ko="""
        ## 1. 하이퍼파라미터와 파라미터

        **하이퍼파라미터**는 학습 전에 사람이 정하는 값입니다. 층의 크기, BatchNorm을
        쓸지 말지, 옵티마이저와 그 학습률, 배치 크기, 에포크 수가 그렇습니다.
        **파라미터**는 학습이 정하는 숫자입니다. 모든 가중치 행렬 `W`, 편향 `b`,
        BatchNorm의 `gamma`와 `beta`가 그렇습니다. `fit`은 앞의 것을 읽기만 하고
        뒤의 것은 모든 배열을 바꿉니다. BatchNorm의 이동 평균과 이동 분산은 세 번째
        종류인 *버퍼*입니다. 버퍼도 데이터에서 오지만, 경사 하강이 아니라 평균을 내서
        얻습니다.
        """,
    ),
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
        trainable = {key for key, _ in model.named_parameters()}
        print(f"\\n{'array':<18}{'kind':<11}{'shape':<10}{'size':>6}   largest change made by fit")
        for key, value in after.items():
            kind = "parameter" if key in trainable else "buffer"
            change = np.abs(value - before[key]).max()
            print(f"{key:<18}{kind:<11}{str(value.shape):<10}{value.size:>6}   {change:.4f}")
        n_params = sum(p.size for p in model.parameters())
        print(f"\\n{n_params} parameters, learned by gradient descent")
        """),
    code("""
        ax = plot_decision_boundary(model, x_val, y_val)
        accuracy = model.evaluate(x_val, y_val, verbose=0)[1]
        ax.set_title(f"what the parameters learned: validation accuracy {accuracy:.3f}")
        plt.show()
        """),
    text(
        en="""
        The hidden `Dense` layers have no bias `b`: BatchNorm subtracts the batch
        mean right after them, which cancels any bias (its gradient is exactly
        zero), so `MLP(..., batchnorm=True)` leaves it out. The output layer keeps
        its bias.
        """,
        ko="""
        은닉 `Dense` 층에는 편향 `b`가 없습니다. 바로 뒤의 BatchNorm이 배치 평균을
        빼므로 어떤 편향이든 상쇄되고(편향의 기울기는 정확히 0입니다), 그래서
        `MLP(..., batchnorm=True)`는 편향을 빼고 만듭니다. 출력층은 편향을 그대로
        가집니다.
        """,
    ),
]
