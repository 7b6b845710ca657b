"""The title, the table of contents and the set-up cell."""

from tour.cells import code, text

CELLS = [
    text(
        en="""
        # A tour of minitrain

        minitrain trains neural networks with NumPy alone: every layer's backward
        pass is written by hand, next to its forward, and `fit` runs the Keras
        callbacks in Keras's order. This notebook walks through the ideas a
        training loop is made of, one section each, with code you can run, a
        figure, and a few sentences on what to see:

        1. hyperparameters versus parameters
        2. hyperparameter search
        3. the fit loop and its callbacks
        4. EarlyStopping on a run that overfits
        5. categorical, sparse categorical and binary crossentropy
        6. `no_grad` versus `eval()`
        7. ModelCheckpoint
        8. TerminateOnNaN
        9. learning-rate schedules
        10. the learning-rate range test
        11. BatchNorm and covariate shift
        12. gradient flow
        13. backprop by hand, checked with `gradcheck`
        14. MNIST
        15. a paper's figure: BatchNorm, Ioffe and Szegedy (2015)

        Run it from top to bottom: it takes about a minute on two cores. The
        files it writes go to a temporary folder, removed by the last cell.
        A Korean edition with the same code is `minitrain_tour.ko.ipynb`.
        """,
        ko="""
        # minitrain 둘러보기

        minitrain은 NumPy만으로 신경망을 학습시킵니다. 모든 층의 역전파(backward)는
        순전파(forward) 바로 옆에 손으로 쓰여 있고, `fit`은 Keras의 콜백을 Keras와
        같은 순서로 호출합니다. 이 노트북은 학습 루프를 이루는 개념을 한 절에 하나씩,
        실행해 볼 수 있는 코드와 그림, 그리고 무엇을 보면 되는지에 대한 짧은 설명과
        함께 살펴봅니다.

        1. 하이퍼파라미터와 파라미터
        2. 하이퍼파라미터 탐색
        3. fit 루프와 콜백
        4. 과적합하는 학습에서의 EarlyStopping
        5. 범주형, 희소 범주형, 이진 크로스엔트로피
        6. `no_grad`와 `eval()`
        7. ModelCheckpoint
        8. TerminateOnNaN
        9. 학습률 스케줄
        10. 학습률 범위 테스트
        11. BatchNorm과 공변량 변화
        12. 기울기 흐름
        13. 손으로 하는 역전파와 `gradcheck`
        14. MNIST
        15. 논문의 그림 재현: BatchNorm, Ioffe와 Szegedy (2015)

        위에서 아래로 차례대로 실행하세요. 코어 두 개에서 1분 정도 걸립니다. 노트북이
        쓰는 파일은 임시 폴더에 저장되고, 마지막 셀이 그 폴더를 지웁니다. 코드는 영어판
        `minitrain_tour.ipynb`와 똑같고, 설명만 한국어입니다.
        """,
    ),
    code("""
        import copy
        import math
        import shutil
        import tempfile
        import time
        import tracemalloc
        import warnings
        from pathlib import Path

        import matplotlib.pyplot as plt
        import numpy as np

        import minitrain as mt
        from minitrain.plot import (
            plot_activations,
            plot_decision_boundary,
            plot_gradient_flow,
            plot_history,
            plot_lr_find,
            plot_schedules,
        )

        np.set_printoptions(precision=4, suppress=True)
        workdir = Path(tempfile.mkdtemp(prefix="minitrain-tour-"))  # removed at the end

        # Three interleaved spiral arms: a classic that no straight line can separate.
        x, y = mt.data.make_spirals(n_per_class=200, seed=0)
        x_train, x_val, y_train, y_val = mt.data.train_test_split(x, y, test_size=0.25, seed=0)
        print(f"{len(x_train)} training and {len(x_val)} validation points")
        print(f"points per class in training: {np.bincount(y_train)}")

        fig, ax = plt.subplots(figsize=(4.5, 4.5), layout="constrained")
        ax.scatter(*x_train.T, c=y_train, cmap="viridis", s=12)
        ax.set(title="the spirals: three classes", aspect="equal")
        plt.show()


        def compiled(model, optimizer, loss="sparse_categorical_crossentropy"):
            \"\"\"``model``, compiled with ``optimizer``, ``loss`` and the accuracy metric.\"\"\"
            model.compile(optimizer, loss, metrics=["accuracy"])
            return model
        """),
]
