"""Section 10: the learning-rate range test, and too small, right, too large."""

from tour.cells import code, text

CELLS = [
    text(
        en="""
        ## 10. The learning-rate range test

        The learning rate is the hyperparameter that matters most, and the one
        with the clearest trade-off: too small and training crawls, too large and
        it overshoots, oscillates or diverges. The range test (Smith, 2017) finds
        the workable range in one short run: train for a few hundred batches while
        the rate grows geometrically, say from $10^{-6}$ to $10$, and record each
        batch's loss. The curve is flat (too small to matter), then falls (the
        useful range), then shoots up (too large). `minitrain.lr_finder.lr_find`
        runs it and suggests the rate where the smoothed loss falls fastest; it
        then puts the model back exactly as it was (weights, optimizer state,
        random generators), so the real training starts from the same point.
        """,
        ko="""
        ## 10. 학습률 범위 테스트

        학습률은 가장 중요한 하이퍼파라미터이고, 균형이 가장 뚜렷한 하이퍼파라미터이기도
        합니다. 너무 작으면 학습이 기어가고, 너무 크면 지나치거나 진동하거나 발산합니다.
        범위 테스트(Smith, 2017)는 쓸 만한 범위를 짧은 학습 한 번으로 찾습니다. 학습률을
        예컨대 $10^{-6}$에서 $10$까지 기하급수적으로 키우면서 수백 배치를 학습하고, 배치마다
        손실을 기록합니다. 곡선은 평평하다가(너무 작아서 효과가 없음), 내려가고(쓸모 있는
        범위), 치솟습니다(너무 큼). `minitrain.lr_finder.lr_find`는 이 테스트를 실행하고
        평활화한 손실이 가장 빨리 내려가는 학습률을 제안합니다. 그런 다음 모델을 정확히
        원래대로(가중치, 옵티마이저 상태, 난수 생성기까지) 되돌려 놓으므로, 실제 학습은
        같은 지점에서 시작합니다.
        """,
    ),
    code("""
        from minitrain.lr_finder import lr_find

        model = compiled(mt.MLP([2, 64, 64, 5], seed=0), mt.SGD(0.01, momentum=0.9))
        before = model.state_dict()
        found = lr_find(model, x5_train, y5_train, min_lr=1e-6, max_lr=10.0, num_steps=300)
        unchanged = all(np.array_equal(v, before[k]) for k, v in model.state_dict().items())
        print(f"{len(found.losses)} of 300 batches swept (a sweep stops early once the loss diverges)")
        print(f"suggested learning rate: {found.suggestion:.3g}")
        print(f"model unchanged by the sweep: {unchanged}")

        rates = {"too small": found.suggestion / 100, "suggested": found.suggestion, "too large": found.suggestion * 100}
        fig, (ax_find, ax_runs) = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
        plot_lr_find(found, ax=ax_find)
        for (label, rate), colour in zip(rates.items(), ("C2", "C3", "C4"), strict=True):
            ax_find.axvline(rate, color=colour, ls=":", lw=1)
            run = compiled(mt.MLP([2, 64, 64, 5], seed=0), mt.SGD(rate, momentum=0.9))
            with np.errstate(over="ignore", invalid="ignore"):
                logs = run.fit(x5_train, y5_train, epochs=30, verbose=0, validation_data=(x5_val, y5_val)).history
            ax_runs.plot(logs["val_loss"], color=colour, label=f"{label}: lr={rate:.2g}, val_acc {logs['val_accuracy'][-1]:.2f}")
        ax_find.set_title("loss during the sweep")
        ax_runs.set(xlabel="epoch", ylabel="val_loss", ylim=(0, 2.5), title="30 epochs at three rates")
        ax_runs.legend(fontsize="small")
        plt.show()
        """),
    text(
        en="""
        A hundred times below the suggestion, 30 epochs barely move the loss; at
        the suggestion it falls steadily; a hundred times above, the steps overshoot
        and the loss stalls high or jumps (with a larger factor it diverges, as in
        section 8). The suggestion is a starting point, not an optimum: the
        fastest fall of a short sweep says where learning is quick, and a
        schedule (section 9) can then decay from there.
        """,
        ko="""
        제안값의 100분의 1에서는 30 에포크가 지나도 손실이 거의 움직이지 않고, 제안값에서는
        꾸준히 내려가며, 100배에서는 걸음이 지나쳐서 손실이 높은 곳에 머물거나 튑니다(더 큰
        배율에서는 8절처럼 발산합니다). 제안값은 최적값이 아니라 출발점입니다. 짧은 탐색에서
        가장 빨리 내려간 곳은 학습이 빠른 곳을 알려 줄 뿐이고, 그다음에는 스케줄(9절)로
        거기서부터 줄여 나갈 수 있습니다.
        """,
    ),
]
