"""Section 13: one Dense layer and a softmax by hand, then gradcheck."""

from tour.cells import code, text

CELLS = [
    text(
        en="""
        ## 13. Backprop by hand

        One `Dense` layer from 2 inputs to 3 classes, a softmax and crossentropy,
        for one sample, small enough for paper. With $x = (1, 2)$,

        $$W = \\begin{pmatrix} 0.5 & -0.2 & 0.1 \\\\ 0.3 & 0.4 & -0.6 \\end{pmatrix},
        \\qquad b = (0,\\ 0.1,\\ -0.1),\\qquad \\text{true class } 1:$$

        - forward: $z = xW + b = (1.1,\\ 0.7,\\ -1.2)$, $p = \\text{softmax}(z) =
          (0.5648,\\ 0.3786,\\ 0.0566)$, $L = -\\log p_1 = 0.9713$;
        - the loss's gradient with respect to the logits is
          $\\partial L/\\partial z = p - t = (0.5648,\\ -0.6214,\\ 0.0566)$: push the
          true class up, the others down, each by its probability;
        - the Dense layer turns it into
          $\\partial L/\\partial W = x^\\top (p - t)$ (the outer product: row $i$ is
          $x_i (p - t)$), $\\partial L/\\partial b = p - t$ and
          $\\partial L/\\partial x = (p - t) W^\\top = (0.4123,\\ -0.1131)$.

        The same numbers in NumPy, then from minitrain's `Dense.backward`:
        """,
        ko="""
        ## 13. 손으로 하는 역전파

        입력 2개에서 클래스 3개로 가는 `Dense` 층 하나와 소프트맥스, 크로스엔트로피를
        샘플 하나에 대해 계산합니다. 종이에 풀 수 있을 만큼 작습니다. $x = (1, 2)$이고

        $$W = \\begin{pmatrix} 0.5 & -0.2 & 0.1 \\\\ 0.3 & 0.4 & -0.6 \\end{pmatrix},
        \\qquad b = (0,\\ 0.1,\\ -0.1),\\qquad \\text{정답 클래스 } 1$$

        일 때,

        - 순전파: $z = xW + b = (1.1,\\ 0.7,\\ -1.2)$, $p = \\text{softmax}(z) =
          (0.5648,\\ 0.3786,\\ 0.0566)$, $L = -\\log p_1 = 0.9713$입니다.
        - 로짓에 대한 손실의 기울기는
          $\\partial L/\\partial z = p - t = (0.5648,\\ -0.6214,\\ 0.0566)$입니다. 정답
          클래스는 올리고, 나머지는 각자의 확률만큼 내리라는 뜻입니다.
        - Dense 층은 이를
          $\\partial L/\\partial W = x^\\top (p - t)$(외적: $i$번째 행은 $x_i (p - t)$),
          $\\partial L/\\partial b = p - t$,
          $\\partial L/\\partial x = (p - t) W^\\top = (0.4123,\\ -0.1131)$로 바꿉니다.

        같은 숫자를 NumPy로 계산하고, 이어서 minitrain의 `Dense.backward`로 계산합니다.
        """,
    ),
    code("""
        x1 = np.array([[1.0, 2.0]])
        W = np.array([[0.5, -0.2, 0.1], [0.3, 0.4, -0.6]])
        b = np.array([0.0, 0.1, -0.1])
        label = 1

        z = x1 @ W + b
        p = np.exp(z) / np.exp(z).sum()
        loss = -np.log(p[0, label])
        dz = p - np.eye(3)[label]  # softmax + crossentropy: dL/dz = p - t
        dW, db, dx = x1.T @ dz, dz[0], dz @ W.T
        print(f"z = {z[0]}\\np = {p[0]}\\nL = {loss:.4f}\\ndL/dz = {dz[0]}")
        print(f"dL/dW =\\n{dW}\\ndL/db = {db}\\ndL/dx = {dx[0]}")

        dense = mt.Dense(2, 3, dtype=np.float64)
        dense.set_weights([W, b])
        loss_fn = mt.SparseCategoricalCrossentropy(from_logits=True)
        logits = dense(x1)
        grad_x = dense.backward(loss_fn.gradient(np.array([label]), logits))
        print(
            f"\\nminitrain: loss {loss_fn(np.array([label]), logits):.4f}; "
            "largest differences from the hand: "
            f"dW {np.abs(dense.grads['W'] - dW).max():.1e}, "
            f"db {np.abs(dense.grads['b'] - db).max():.1e}, dx {np.abs(grad_x - dx).max():.1e}"
        )

        fig, axes = plt.subplots(1, 3, figsize=(11, 2.6), layout="constrained")
        for ax, (name, value) in zip(axes, (("dL/dz = p - t", dz), ("dL/dW = x.T (p - t)", dW), ("dL/dx", dx)), strict=True):
            ax.imshow(value, cmap="coolwarm", vmin=-1.3, vmax=1.3)
            for (i, j), v in np.ndenumerate(value):
                ax.text(j, i, f"{v:.3f}", ha="center", va="center")
            ax.set(title=name, xticks=[], yticks=[])
        plt.show()
        """),
    text(
        en="""
        `gradcheck` does the same check without any algebra: it nudges every input
        and every parameter by ±ε, measures how the output moves (central
        differences, in float64), and compares with what `backward` says. A correct
        layer agrees to about 1e-10. A layer with a classic bug, dividing its weight
        gradient by the batch size although the loss has already averaged over the
        batch, is caught at once. So is a student's own backward, written as a
        function and put on one layer instance: `gradcheck` checks the very object
        it is given, and leaves it as it was.
        """,
        ko="""
        `gradcheck`는 대수 계산 없이 같은 확인을 합니다. 모든 입력과 모든 파라미터를 ±ε만큼
        살짝 움직여서 출력이 얼마나 움직이는지(float64의 중앙 차분) 재고, `backward`가
        말하는 값과 비교합니다. 올바른 층은 1e-10 정도까지 일치합니다. 손실이 이미 배치에
        대해 평균을 냈는데도 가중치 기울기를 배치 크기로 한 번 더 나누는, 흔한 버그가 있는
        층은 바로 잡힙니다. 학생이 함수로 직접 써서 층 인스턴스 하나에 붙인 backward도
        마찬가지입니다. `gradcheck`는 주어진 바로 그 객체를 확인하고, 원래대로 남겨 둡니다.
        """,
    ),
    code("""
        class DoubleAveragedDense(mt.Dense):
            \"\"\"A Dense whose backward divides dL/dW by the batch size a second time.\"\"\"

            def backward(self, grad_y, **kwargs):
                grad_x = super().backward(grad_y, **kwargs)
                self.grads["W"] /= len(grad_y)
                return grad_x


        import types

        x2 = np.array([[1.0, 2.0], [-0.5, 0.3]])
        wrong = DoubleAveragedDense(2, 3, dtype=np.float64)
        wrong.set_weights([W, b])

        def my_sigmoid_backward(self, grad_y):
            (y,) = self.saved_tensors()
            return grad_y * y * (1 - y)  # sigma'(z) = sigma(z) (1 - sigma(z))


        student = mt.Sigmoid()
        student.backward = types.MethodType(my_sigmoid_backward, student)  # this instance only
        errors = {
            "Dense + Softmax": mt.gradcheck(mt.Sequential([dense, mt.Softmax()]), x2),
            "DoubleAveragedDense + Softmax": mt.gradcheck(mt.Sequential([wrong, mt.Softmax()]), x2),
            "Dense + a student's Sigmoid backward": mt.gradcheck(mt.Sequential([dense, student]), x2),
        }
        for label, error in errors.items():
            print(f"gradcheck({label}): {error:.1e}")

        fig, ax = plt.subplots(figsize=(8, 2.6), layout="constrained")
        ax.barh(list(errors), list(errors.values()), color=["C2", "C3", "C2"])
        ax.axvline(1e-6, color="0.4", ls=":", label="a typical pass mark, 1e-6")
        ax.set(xscale="log", xlabel="largest relative error, analytic vs finite differences")
        ax.legend(fontsize="small")
        plt.show()
        """),
]
