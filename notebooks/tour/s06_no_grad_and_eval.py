"""Section 6: two switches, memory and behaviour."""

from tour.cells import code, text

CELLS = [
    text(
        en="""
        ## 6. `no_grad` versus `eval()`

        Two switches that are easy to confuse. **`no_grad()`** is about memory:
        inside it, layers keep none of the arrays that backward would need, so a
        forward pass holds only the activation it is computing. **`eval()`** is
        about behaviour: Dropout stops dropping and BatchNorm uses its running
        statistics. `predict` and `evaluate` do both (they pass `training=False`
        to every layer instead of flipping the model's switches, so several
        threads can predict at once); inference code of your own should do the
        same. First the memory, measured with `tracemalloc` (NumPy reports its
        allocations to it) on a batch of 4096 points through three hidden layers
        of 512 units:
        """,
        ko="""
        ## 6. `no_grad`와 `eval()`

        헷갈리기 쉬운 두 스위치입니다. **`no_grad()`** 는 메모리에 관한 것입니다. 그 안에서
        층들은 역전파에 필요한 배열을 하나도 보관하지 않으므로, 순전파는 지금 계산 중인
        활성값만 가집니다. **`eval()`** 은 동작에 관한 것입니다. Dropout은 더 이상 값을
        떨어뜨리지 않고, BatchNorm은 이동 통계를 씁니다. `predict`와 `evaluate`는 둘 다
        합니다(모델의 스위치를 바꾸는 대신 모든 층에 `training=False`를 넘기므로, 여러
        스레드가 동시에 예측할 수 있습니다). 여러분이 직접 쓰는 추론 코드도 그렇게 해야
        합니다. 먼저 메모리를 봅시다. 512 유닛짜리 은닉층 세 개에 4096개 점의 배치를
        통과시키며 `tracemalloc`으로 잽니다(NumPy는 할당을 여기에 보고합니다).
        """,
    ),
    code("""
        big = mt.MLP([2, 512, 512, 512, 3], seed=0)
        batch = np.random.default_rng(0).normal(size=(4096, 2)).astype(np.float32)


        def forward_memory(model, inputs):
            \"\"\"MiB still allocated after a forward pass (output included), and the peak.\"\"\"
            tracemalloc.start()
            output = model(inputs)
            held, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            del output
            return held / 2**20, peak / 2**20


        with_grad = forward_memory(big, batch)
        with mt.no_grad():
            without_grad = forward_memory(big, batch)
        print(f"one activation of 4096 x 512 float32: {4096 * 512 * 4 / 2**20:.0f} MiB\\n")
        print(f"{'':<10}{'held after':>14}{'peak during':>14}")
        for label, (held, peak) in (("grad", with_grad), ("no_grad", without_grad)):
            print(f"{label:<10}{held:>10.2f} MiB{peak:>10.2f} MiB")

        try:  # the no_grad pass also dropped the caches the first pass had kept
            big.backward(np.ones((4096, 3), np.float32))
        except RuntimeError as err:
            print(f"\\nRuntimeError: {err}")

        fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
        positions = np.arange(2)
        ax.bar(positions - 0.2, [with_grad[0], without_grad[0]], 0.4, label="held after the pass")
        ax.bar(positions + 0.2, [with_grad[1], without_grad[1]], 0.4, label="peak during the pass")
        ax.set_xticks(positions, ["gradients on", "no_grad()"])
        ax.set(ylabel="MiB", title="memory of one forward pass")
        ax.legend()
        plt.show()
        """),
    text(
        en="""
        With gradients on, each layer keeps its input (or a mask) until backward
        runs: several 8 MiB arrays stay alive after the pass. Under `no_grad` only
        the small output is left, and the peak halves. But `no_grad` changes
        nothing else: a model in training mode still drops units. Below,
        `Dropout(0.5)` fed rows of ones:
        """,
        ko="""
        기울기가 켜져 있으면 각 층은 역전파가 실행될 때까지 입력(또는 마스크)을 보관합니다.
        그래서 순전파가 끝난 뒤에도 8 MiB짜리 배열 여러 개가 살아 있습니다. `no_grad`
        안에서는 작은 출력만 남고, 최대 사용량도 절반이 됩니다. 하지만 `no_grad`는 그 밖의
        것은 아무것도 바꾸지 않습니다. 학습 모드의 모델은 여전히 유닛을 떨어뜨립니다.
        아래는 `Dropout(0.5)`에 1로 채운 행을 넣은 결과입니다.
        """,
    ),
    code("""
        net = mt.Sequential([mt.Dropout(0.5, seed=1)])
        ones = np.ones((1, 8), np.float32)
        many = np.ones((10_000, 8), np.float32)

        outputs = {}
        for label, switch in (("no_grad, training mode", net.train), ("no_grad, eval()", net.eval)):
            switch()
            with mt.no_grad():
                first, second, zeros = net(ones)[0], net(ones)[0], (net(many) == 0).mean()
                outputs[label] = net(np.ones((6, 8), np.float32))
            print(f"{label}\\n  first call  {first}\\n  second call {second}")
            print(f"  share of zeros over 10,000 rows: {zeros:.3f}")

        fig, axes = plt.subplots(1, 2, figsize=(9, 2.6), layout="constrained")
        for ax, (label, out) in zip(axes, outputs.items(), strict=True):
            ax.imshow(out, cmap="Greys", vmin=0, vmax=2)
            ax.set(title=f"{label}: six rows of ones", xticks=[], yticks=[])
        plt.show()
        """),
    text(
        en="""
        In training mode, even under `no_grad`, about half of the units are zeroed
        (a new half at every call) and the survivors doubled, so two calls on the
        same input disagree. After `eval()` Dropout is the identity and the output
        is the same every time. `no_grad` saves memory; only `eval()` (or
        `training=False`) changes what the model computes.
        """,
        ko="""
        학습 모드에서는 `no_grad` 안이라도 유닛의 절반쯤이 0이 되고(호출할 때마다 새로운
        절반), 살아남은 값은 두 배가 됩니다. 그래서 같은 입력에 대한 두 호출의 결과가
        다릅니다. `eval()` 뒤에는 Dropout이 항등 함수가 되어 출력이 매번 같습니다.
        `no_grad`는 메모리를 아낄 뿐이고, 모델이 계산하는 내용을 바꾸는 것은 `eval()`
        (또는 `training=False`)뿐입니다.
        """,
    ),
]
