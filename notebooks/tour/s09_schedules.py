"""Section 9: learning-rate schedules, each with its formula, and what they do to a run."""

from tour.cells import code, text

CELLS = [
    text(
        en="""
        ## 9. Learning-rate schedules

        `LearningRateScheduler(schedule)` calls `schedule(epoch, lr)` at the start
        of every epoch and sets the optimizer's rate to the result. The classic
        example keeps the rate for ten epochs, then shrinks it by a factor
        $e^{-0.1}$ per epoch:
        """,
        ko="""
        ## 9. 학습률 스케줄

        `LearningRateScheduler(schedule)`는 에포크가 시작될 때마다 `schedule(epoch, lr)`을
        호출해서, 그 결과를 옵티마이저의 학습률로 정합니다. 고전적인 예는 열 에포크 동안
        학습률을 유지하다가, 그 뒤로는 에포크마다 $e^{-0.1}$배씩 줄이는 것입니다.
        """,
    ),
    code("""
        def scheduler(epoch, lr):
            return lr if epoch < 10 else lr * math.exp(-0.1)


        model = compiled(mt.MLP([2, 64, 64, 3], seed=0), mt.SGD(0.1, momentum=0.9))
        history = model.fit(
            x_train, y_train, epochs=15, verbose=0, callbacks=[mt.LearningRateScheduler(scheduler)]
        )
        print("epoch   learning rate   0.1 * exp(-0.1 * max(0, epoch - 9))")
        for epoch, rate in zip(history.epoch, history.history["learning_rate"], strict=True):
            print(f"{epoch:>5}   {rate:.8f}      {0.1 * math.exp(-0.1 * max(0, epoch - 9)):.8f}")

        fig, ax = plt.subplots(figsize=(6, 2.8), layout="constrained")
        ax.plot(history.epoch, history.history["learning_rate"], "o-")
        ax.set(xlabel="epoch", ylabel="learning rate", title="the rate LearningRateScheduler set")
        plt.show()
        """),
    text(
        en="""
        minitrain's schedules are functions of a step counter,
        `schedule(step) -> float`, with η₀ the initial rate and t the step
        (0-based). The same object works per update (as an optimizer's
        `learning_rate`, t counts updates) or per epoch (through
        `LearningRateScheduler`, t is the epoch):

        | schedule | η(t) | arguments |
        |---|---|---|
        | `Constant` | η₀ | `learning_rate` |
        | `StepDecay` | η₀ · γ^⌊t / s⌋ | `initial_learning_rate`, `step_size` s, `gamma` γ |
        | `ExponentialDecay` | η₀ · r^(t / D) (⌊t / D⌋ with `staircase`) | `decay_steps` D, `decay_rate` r |
        | `InverseTimeDecay` | η₀ / (1 + r · t / D) | `decay_steps` D, `decay_rate` r |
        | `CosineDecay` | η₀ · (α + (1 − α) · ½ (1 + cos(π · min(t, D) / D))) | `decay_steps` D, `alpha` α, warmup |
        | `CosineDecayRestarts` | the cosine, restarted after D, then 2D, 4D, ... steps | `first_decay_steps` D, `t_mul`, `m_mul` |
        | `LinearDecay` | (η₀ − e) · (1 − min(t, D) / D) + e | `decay_steps` D, `end_learning_rate` e |
        | `PolynomialDecay` | (η₀ − e) · (1 − min(t, D) / D)^p + e | D, e, `power` p, `cycle` |
        | `InverseSqrtDecay` | η₀ · min((t + 1) / W, √(W / (t + 1))) | `warmup_steps` W |

        Each curve, with its formula and the arguments that drew it, over 60 steps:
        """,
        ko="""
        minitrain의 스케줄은 걸음 카운터의 함수 `schedule(step) -> float`입니다. η₀은 처음
        학습률, t는 (0부터 센) 걸음입니다. 같은 객체를 갱신마다(옵티마이저의
        `learning_rate`로, t는 갱신 횟수) 쓸 수도 있고, 에포크마다(`LearningRateScheduler`를
        통해, t는 에포크) 쓸 수도 있습니다.

        | 스케줄 | η(t) | 인자 |
        |---|---|---|
        | `Constant` | η₀ | `learning_rate` |
        | `StepDecay` | η₀ · γ^⌊t / s⌋ | `initial_learning_rate`, `step_size` s, `gamma` γ |
        | `ExponentialDecay` | η₀ · r^(t / D) (`staircase`이면 ⌊t / D⌋) | `decay_steps` D, `decay_rate` r |
        | `InverseTimeDecay` | η₀ / (1 + r · t / D) | `decay_steps` D, `decay_rate` r |
        | `CosineDecay` | η₀ · (α + (1 − α) · ½ (1 + cos(π · min(t, D) / D))) | `decay_steps` D, `alpha` α, 워밍업 |
        | `CosineDecayRestarts` | D, 2D, 4D, ... 걸음마다 다시 시작하는 코사인 | `first_decay_steps` D, `t_mul`, `m_mul` |
        | `LinearDecay` | (η₀ − e) · (1 − min(t, D) / D) + e | `decay_steps` D, `end_learning_rate` e |
        | `PolynomialDecay` | (η₀ − e) · (1 − min(t, D) / D)^p + e | D, e, `power` p, `cycle` |
        | `InverseSqrtDecay` | η₀ · min((t + 1) / W, √(W / (t + 1))) | `warmup_steps` W |

        아래는 각 곡선을, 그 식과 곡선을 그린 인자와 함께 60 걸음에 걸쳐 그린 것입니다.
        """,
    ),
    code("""
        EPOCHS = 60
        gallery = [
            (mt.Constant(0.1), r"$\\eta_0$"),
            (mt.StepDecay(0.1, step_size=15, gamma=0.5), r"$\\eta_0\\,\\gamma^{\\lfloor t/s \\rfloor}$"),
            (mt.ExponentialDecay(0.1, decay_steps=EPOCHS, decay_rate=0.05), r"$\\eta_0\\,r^{t/D}$"),
            (mt.InverseTimeDecay(0.1, decay_steps=6, decay_rate=1.0), r"$\\eta_0 / (1 + r\\,t/D)$"),
            (mt.CosineDecay(0.1, decay_steps=EPOCHS), r"$\\eta_0\\,\\frac{1}{2}(1 + \\cos(\\pi t / D))$"),
            (mt.CosineDecayRestarts(0.1, first_decay_steps=12), "cosine, restarts at 12, 36"),
            (mt.LinearDecay(0.1, decay_steps=EPOCHS), r"$\\eta_0\\,(1 - t/D)$"),
            (mt.PolynomialDecay(0.1, decay_steps=EPOCHS, end_learning_rate=0.001, power=2.0),
             r"$(\\eta_0 - e)(1 - t/D)^p + e$"),
            (mt.InverseSqrtDecay(0.1, warmup_steps=6), r"$\\eta_0 \\min(\\frac{t+1}{W}, \\sqrt{\\frac{W}{t+1}})$"),
        ]
        fig, axes = plt.subplots(3, 3, figsize=(13, 8), layout="constrained", sharex=True, sharey=True)
        for ax, (schedule, formula) in zip(axes.flat, gallery, strict=True):
            steps = np.arange(EPOCHS)
            ax.plot(steps, [schedule(int(t)) for t in steps])
            ax.set_title(repr(schedule).replace("initial_learning_rate=", ""), fontsize=7.5)
            ax.text(0.95, 0.9, formula, transform=ax.transAxes, ha="right", va="top", fontsize=11)
            ax.grid(alpha=0.3)
        for ax in axes[-1]:
            ax.set_xlabel("step t")
        for ax in axes[:, 0]:
            ax.set_ylabel("learning rate")
        plt.show()
        """),
    text(
        en="""
        The same network trained with six of them, per epoch: SGD with momentum
        from a rate of 0.1, on a harder problem, five spiral arms.
        """,
        ko="""
        같은 신경망을 그중 여섯 개로, 에포크마다 학습시켜 봅니다. 학습률 0.1에서 시작하는
        모멘텀 SGD를, 나선 팔이 다섯 개인 더 어려운 문제에 씁니다.
        """,
    ),
    code("""
        schedules = {
            "constant": mt.Constant(0.1),
            "step: halved every 15": mt.StepDecay(0.1, step_size=15, gamma=0.5),
            "exponential: to 5%": mt.ExponentialDecay(0.1, decay_steps=EPOCHS, decay_rate=0.05),
            "cosine": mt.CosineDecay(0.1, decay_steps=EPOCHS),
            "linear": mt.LinearDecay(0.1, decay_steps=EPOCHS),
            "inverse sqrt, warmup 6": mt.InverseSqrtDecay(0.1, warmup_steps=6),
        }
        x5, y5 = mt.data.make_spirals(n_per_class=200, n_classes=5, noise=0.3, seed=0)
        x5_train, x5_val, y5_train, y5_val = mt.data.train_test_split(x5, y5, test_size=0.25, seed=0)

        runs = {}
        for name, schedule in schedules.items():
            model = compiled(mt.MLP([2, 64, 64, 5], seed=0), mt.SGD(0.1, momentum=0.9))
            runs[name] = model.fit(
                x5_train,
                y5_train,
                epochs=EPOCHS,
                verbose=0,
                validation_data=(x5_val, y5_val),
                callbacks=[mt.LearningRateScheduler(schedule)],
            ).history

        fig, (ax_rate, ax_loss) = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
        plot_schedules(schedules, EPOCHS, ax=ax_rate)
        ax_rate.set(xlabel="epoch", title="the schedules")
        ax_rate.legend(fontsize="small", loc="upper right")  # inside the axes, by the curves
        for name, logs in runs.items():
            ax_loss.plot(logs["val_loss"], label=name)
        ax_loss.set(xlabel="epoch", ylabel="val_loss", title="validation loss", ylim=(0, 1.5))
        ax_loss.legend(fontsize="small")
        plt.show()

        print(f"{'schedule':<24}{'last loss':>10}{'last val_loss':>15}{'last val_accuracy':>19}")
        for name, logs in runs.items():
            print(
                f"{name:<24}{logs['loss'][-1]:>10.4f}{logs['val_loss'][-1]:>15.4f}"
                f"{logs['val_accuracy'][-1]:>19.4f}"
            )
        """),
    text(
        en="""
        At a constant 0.1 the steps stay large to the end: the validation loss
        keeps jumping and the last epoch lands wherever the last step threw it.
        Every decaying schedule takes smaller steps late in the run and settles
        into a minimum. Step decay gets there in stairs, exponential, cosine and
        linear smoothly; the inverse square root warms up for six epochs, then
        decays quickly at first and slowly after, so it is still at about a third
        of its peak at the end and ends noisier. A schedule gives both the large
        early steps that make fast progress and the small late ones that settle.
        """,
        ko="""
        0.1로 일정하면 걸음이 끝까지 커서, 검증 손실이 계속 튀고 마지막 에포크는 마지막
        걸음이 던져 놓은 곳에 떨어집니다. 줄어드는 스케줄은 모두 학습 후반에 더 작은 걸음을
        걸어 최솟값에 자리 잡습니다. 계단식 감소는 계단을 따라, 지수, 코사인, 선형 감소는
        부드럽게 그곳에 이릅니다. 역제곱근 스케줄은 여섯 에포크 동안 워밍업한 뒤 처음에는
        빠르게, 나중에는 천천히 줄어들어서, 끝에서도 최고점의 3분의 1쯤에 머물고 더
        시끄럽게 끝납니다. 스케줄은 빠르게 나아가는 초반의 큰 걸음과, 자리를 잡는 후반의
        작은 걸음을 둘 다 줍니다.
        """,
    ),
]
