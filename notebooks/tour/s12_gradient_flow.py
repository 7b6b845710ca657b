"""Section 12: vanishing gradients, and what BatchNorm and He initialisation change."""

from tour.cells import code, text

CELLS = [
    text(
        en="""
        ## 12. Gradient flow

        Backpropagation multiplies the gradient by each layer's local derivative
        on its way down. The sigmoid's derivative is
        $\\sigma'(z) = \\sigma(z)(1 - \\sigma(z)) \\le 1/4$, so through eight
        sigmoid layers the gradient can shrink by $4^8 \\approx 65{,}000$ before
        it reaches the first one: the first layers barely learn. This is the
        **vanishing gradient**. `tanh` is better ($\\tanh' \\le 1$, and 1 at 0);
        ReLU passes the gradient unchanged where it is active, and **He
        initialisation** (weights of variance $2/\\text{fan\\_in}$) keeps the
        signal's scale constant through ReLU layers; **BatchNorm** re-centres
        every layer's input, keeping the sigmoid in its steep middle.

        `GradientFlow` records, per epoch, the mean L2 norm of each parameter's
        gradient, read from `layer.grads` after every batch. Eight hidden layers
        of 32 units, four ways:
        """,
        ko="""
        ## 12. 기울기 흐름

        역전파는 기울기가 아래로 내려가는 동안 각 층의 국소 도함수를 곱합니다. 시그모이드의
        도함수는 $\\sigma'(z) = \\sigma(z)(1 - \\sigma(z)) \\le 1/4$이므로, 시그모이드 층
        여덟 개를 지나면 기울기가 첫 층에 닿기 전에 $4^8 \\approx 65{,}000$분의 1까지
        작아질 수 있습니다. 그러면 첫 층들은 거의 배우지 못합니다. 이것이 **기울기 소실
        (vanishing gradient)** 입니다. `tanh`는 조금 낫고($\\tanh' \\le 1$, 0에서 1),
        ReLU는 활성화된 곳에서 기울기를 그대로 넘겨주며, **He 초기화**(분산이
        $2/\\text{fan\\_in}$인 가중치)는 ReLU 층을 지나는 신호의 크기를 일정하게
        유지합니다. **BatchNorm** 은 모든 층의 입력을 다시 중심에 놓아서 시그모이드를 기울기가
        가파른 가운데에 머물게 합니다.

        `GradientFlow`는 배치마다 `layer.grads`를 읽어서, 에포크마다 각 파라미터 기울기의
        L2 노름 평균을 기록합니다. 32 유닛짜리 은닉층 여덟 개를 네 가지 방법으로 만들어
        봅니다.
        """,
    ),
    code("""
        depth = 8
        variants = {
            "sigmoid, Glorot": {"activation": "sigmoid"},
            "tanh, Glorot": {"activation": "tanh"},
            "relu, He": {"activation": "relu"},
            "sigmoid + BatchNorm": {"activation": "sigmoid", "batchnorm": True},
        }
        gradient_flows = {}
        for label, options in variants.items():
            model = compiled(mt.MLP([2] + [32] * depth + [3], seed=0, **options), mt.SGD(0.1, momentum=0.9))
            gradient_flows[label] = mt.callbacks.GradientFlow()
            history = model.fit(x_train, y_train, epochs=10, verbose=0, callbacks=[gradient_flows[label]])
            weights = [k for k in gradient_flows[label].grad_norms if k.endswith(".W")]
            first, last = gradient_flows[label].grad_norms[weights[0]][0], gradient_flows[label].grad_norms[weights[-1]][0]
            print(f"{label:<22} epoch 0: first W {first:.2e}, last W {last:.2e}, ratio {last / first:>9.1f};"
                  f" accuracy after 10 epochs {history.history['accuracy'][-1]:.3f}")

        fig, (ax_depth, ax_time) = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
        for label, flow in gradient_flows.items():
            weights = [k for k in flow.grad_norms if k.endswith(".W")]
            ax_depth.semilogy(range(1, len(weights) + 1), [flow.grad_norms[k][0] for k in weights], "o-", label=label)
        ax_depth.set(xlabel="Dense layer (1 = next to the input)", ylabel="mean gradient norm, epoch 0",
                     title="gradient size by depth")
        ax_depth.legend(fontsize="small")
        plot_gradient_flow(gradient_flows["sigmoid, Glorot"], ax=ax_time)
        ax_time.set_title("sigmoid, Glorot: every W, epoch by epoch")
        plt.show()
        """),
    text(
        en="""
        In the plain sigmoid stack the gradient falls by orders of magnitude from
        the output back to the input, and stays so: the first layers hardly move,
        and ten epochs leave the network near chance. `tanh` loses less, ReLU with
        He initialisation keeps the gradient of the same order at every depth,
        and BatchNorm rescues even the sigmoid stack. Looking at gradient norms
        layer by layer is the first thing to do when a deep network will not
        train.
        """,
        ko="""
        평범한 시그모이드 층들에서는 기울기가 출력에서 입력 쪽으로 몇 자릿수나 떨어지고,
        계속 그렇게 머뭅니다. 첫 층들은 거의 움직이지 않고, 열 에포크가 지나도 신경망은
        우연 수준 근처에 있습니다. `tanh`는 덜 잃고, He 초기화를 한 ReLU는 모든 깊이에서
        기울기를 같은 크기 정도로 유지하며, BatchNorm은 시그모이드 층들까지 구해 냅니다.
        깊은 신경망이 학습되지 않을 때 가장 먼저 할 일은 층마다 기울기 노름을 보는 것입니다.
        """,
    ),
]
