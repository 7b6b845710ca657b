"""Section 2: searching hyperparameters with scikit-learn, the test set kept out."""

from tour.cells import code, text

CELLS = [
    text(
        en="""
        ## 2. Hyperparameter search

        Hyperparameters are not learned by `fit`, so they are chosen by trying
        them. scikit-learn's `GridSearchCV` trains one model per setting and per
        fold of a *cross-validation*: the training data are cut into k parts,
        each part validates a model trained on the other k - 1, and a setting is
        scored by its mean validation accuracy. `minitrain.sklearn.MLPClassifier`
        is a scikit-learn estimator around minitrain's `MLP`, so it works in
        `GridSearchCV`, `Pipeline` and `cross_val_score` like any other.

        One rule matters more than the grid: **the test set stays out of the
        search**. It is split off first and used once, at the very end, to report
        the chosen model; a test set that helped choose is no longer a test.
        Below, the 1,797 8x8 digits that come with scikit-learn, a grid over
        learning rate, batch size and width, 3-fold cross-validation.
        """,
        ko="""
        ## 2. 하이퍼파라미터 탐색

        하이퍼파라미터는 `fit`이 배우지 않으므로 직접 시도해 보고 고릅니다.
        scikit-learn의 `GridSearchCV`는 설정마다, 그리고 *교차 검증*의 폴드마다 모델을
        하나씩 학습시킵니다. 학습 데이터를 k 조각으로 나누고, 각 조각이 나머지 k - 1
        조각으로 학습한 모델을 검증하며, 설정의 점수는 검증 정확도의 평균입니다.
        `minitrain.sklearn.MLPClassifier`는 minitrain의 `MLP`를 감싼 scikit-learn
        추정기(estimator)이므로, 다른 추정기처럼 `GridSearchCV`, `Pipeline`,
        `cross_val_score`에서 쓸 수 있습니다.

        격자보다 더 중요한 규칙이 하나 있습니다. **테스트 세트는 탐색에 쓰지 않습니다.**
        테스트 세트는 맨 먼저 떼어 두었다가, 고른 모델을 보고할 때 마지막에 한 번만
        씁니다. 고르는 데 도움을 준 테스트 세트는 더 이상 테스트가 아닙니다. 아래는
        scikit-learn에 들어 있는 8x8 숫자 이미지 1,797장으로, 학습률, 배치 크기, 너비에
        대한 격자를 3-폴드 교차 검증으로 탐색합니다.
        """,
    ),
    code("""
        from sklearn.model_selection import GridSearchCV
        from sklearn.neural_network import MLPClassifier as SklearnMLP

        from minitrain.sklearn import MLPClassifier

        xd, yd = mt.data.load_digits()
        xd_train, xd_test, yd_train, yd_test = mt.data.train_test_split(xd, yd, test_size=0.25, seed=0)

        grid = {
            "learning_rate": [0.0003, 0.003, 0.03],
            "batch_size": [32, 256],
            "hidden_layer_sizes": [(32,), (128,)],
        }
        search = GridSearchCV(MLPClassifier(epochs=10, random_state=0), grid, cv=3)
        start = time.perf_counter()
        search.fit(xd_train, yd_train)  # the test set is not given to the search
        search_seconds = time.perf_counter() - start
        print(f"{len(search.cv_results_['params'])} settings x 3 folds in {search_seconds:.1f} s")
        print(f"best setting: {search.best_params_}")
        print(f"its mean cross-validated accuracy: {search.best_score_:.4f}")
        print(f"the test set, used once, at the end: {search.score(xd_test, yd_test):.4f}")

        results = search.cv_results_
        width = search.best_params_["hidden_layer_sizes"]
        scores = np.full((len(grid["batch_size"]), len(grid["learning_rate"])), np.nan)
        for params, score in zip(results["params"], results["mean_test_score"], strict=True):
            if params["hidden_layer_sizes"] == width:
                row = grid["batch_size"].index(params["batch_size"])
                col = grid["learning_rate"].index(params["learning_rate"])
                scores[row, col] = score
        fig, ax = plt.subplots(figsize=(7, 3.2), layout="constrained")
        image = ax.imshow(scores, cmap="viridis", vmin=0.5, vmax=1.0)
        for (row, col), score in np.ndenumerate(scores):
            ax.text(col, row, f"{score:.3f}", ha="center", va="center", color="w" if score < 0.8 else "k")
        ax.set_xticks(range(len(grid["learning_rate"])), grid["learning_rate"])
        ax.set_yticks(range(len(grid["batch_size"])), grid["batch_size"])
        ax.set(xlabel="learning rate", ylabel="batch size", title=f"mean CV accuracy, width {width[0]}")
        fig.colorbar(image, ax=ax)
        plt.show()
        """),
    text(
        en="""
        The grid shows the trade-off the next sections come back to: with a small
        rate the model has barely moved after 10 epochs, and large batches make
        it worse (fewer updates per epoch); a larger rate makes up for larger
        batches, up to the point where the steps overshoot. The same split and
        the best setting, given to scikit-learn's own `MLPClassifier` (Adam, the
        same width, rate, batch size and number of epochs):
        """,
        ko="""
        격자는 뒤의 절에서 다시 만날 균형을 보여 줍니다. 학습률이 작으면 10 에포크 뒤에도
        모델이 거의 움직이지 않았고, 배치가 크면 에포크당 갱신 횟수가 줄어 더 나빠집니다.
        학습률을 키우면 큰 배치를 보상할 수 있지만, 한 걸음이 너무 커지는 지점까지만
        그렇습니다. 같은 분할과 가장 좋은 설정을 scikit-learn 자체의 `MLPClassifier`에
        주면(Adam, 같은 너비, 학습률, 배치 크기, 에포크 수) 다음과 같습니다.
        """,
    ),
    code("""
        best = search.best_params_
        contenders = {
            "minitrain.sklearn.MLPClassifier": MLPClassifier(epochs=10, random_state=0, **best),
            "sklearn.neural_network.MLPClassifier": SklearnMLP(
                hidden_layer_sizes=best["hidden_layer_sizes"],
                learning_rate_init=best["learning_rate"],
                batch_size=best["batch_size"],
                max_iter=10,
                alpha=0.0,
                random_state=0,
            ),
        }
        print(f"{'estimator':<40}{'test accuracy':>14}{'fit time':>10}")
        timings = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scikit-learn warns that 10 iterations did not converge
            for name, estimator in contenders.items():
                start = time.perf_counter()
                estimator.fit(xd_train, yd_train)
                timings[name] = time.perf_counter() - start
                print(f"{name:<40}{estimator.score(xd_test, yd_test):>14.4f}{timings[name]:>9.2f}s")

        fig, ax = plt.subplots(figsize=(7, 2.2), layout="constrained")
        ax.barh(list(timings), list(timings.values()), color=["C0", "C1"])
        ax.set(xlabel="seconds to fit, same data and settings")
        plt.show()
        """),
]
