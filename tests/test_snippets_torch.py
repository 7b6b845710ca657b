"""Snippets from the PyTorch basics tutorials, as a student types them, with the import changed.

Each test is one snippet from "Build the neural network", "Optimizing model parameters"
or "Save and load the model" (pytorch.org tutorials), with ``torch.nn`` replaced by
minitrain's names (``nn.Linear`` is ``Dense``, ``nn.CrossEntropyLoss()`` is
``SparseCategoricalCrossentropy(from_logits=True)``). A snippet either runs (and the test
checks what it computed, against PyTorch run live where PyTorch has the operation) or
fails with a message that says what to write instead (and the test checks the message).
"""

from __future__ import annotations

import numpy as np
import pytest

import minitrain as mt
from minitrain import BatchNorm, Dense, Dropout, ReLU, Sequential, Softmax, no_grad
from minitrain.losses import MeanSquaredError, SparseCategoricalCrossentropy
from minitrain.optimizers import SGD, Adam
from tests import oracles


def neural_network(dtype=np.float64):
    """The tutorial's NeuralNetwork, its nn.Sequential of Linear and ReLU (after Flatten)."""
    return Sequential(
        [
            Dense(28 * 28, 512, dtype=dtype),
            ReLU(),
            Dense(512, 512, dtype=dtype),
            ReLU(),
            Dense(512, 10, dtype=dtype),
        ],
        seed=0,
    )


def images(n=8, dtype=np.float64, seed=0):
    """``X = torch.rand(n, 28, 28)`` already flattened, and labels in [0, 10)."""
    rng = np.random.default_rng(seed)
    return rng.random((n, 28 * 28)).astype(dtype), rng.integers(0, 10, size=n)


def to_torch_linear_stack(model):
    """The same network in PyTorch, with our weights (W is (in, out); torch's is (out, in))."""
    torch = oracles.torch()
    modules = []
    for layer in model.layers:
        if isinstance(layer, Dense):
            linear = torch.nn.Linear(*layer.params["W"].shape, dtype=torch.float64)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(layer.params["W"].T.copy()))
                linear.bias.copy_(torch.from_numpy(layer.params["b"].copy()))
            modules.append(linear)
        else:
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


# --------------------------------------------------------- build the neural network


def test_logits_then_softmax_then_argmax_predict_a_class_as_pytorch():
    torch = oracles.torch()
    model = neural_network()
    X, _ = images(3)
    logits = model(X)
    pred_probab = Softmax()(logits)
    y_pred = pred_probab.argmax(1)
    reference = to_torch_linear_stack(model)(torch.from_numpy(X))
    np.testing.assert_allclose(logits, reference.detach().numpy(), rtol=1e-12, atol=1e-13)
    expected = torch.nn.Softmax(dim=1)(reference).detach().numpy()
    np.testing.assert_allclose(pred_probab, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(y_pred, expected.argmax(1))


def test_softmax_with_pytorch_dim_1_runs():
    logits = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(Softmax(dim=1)(logits), Softmax()(logits))


def test_linear_with_in_features_and_out_features_keywords():
    input_image = np.random.default_rng(0).random((3, 28 * 28))
    layer1 = Dense(in_features=28 * 28, out_features=20, dtype=np.float64)
    hidden1 = layer1(input_image)
    assert hidden1.shape == (3, 20)
    hidden1 = ReLU()(hidden1)
    assert hidden1.min() >= 0.0


def test_named_parameters_yields_state_dict_keys_and_shapes():
    model = neural_network()
    names = [(name, param.shape) for name, param in model.named_parameters()]
    # torch names them "0.weight" (512, 784); minitrain keeps W as (in, out), x @ W + b
    assert names == [
        ("0.W", (784, 512)),
        ("0.b", (512,)),
        ("2.W", (512, 512)),
        ("2.b", (512,)),
        ("4.W", (512, 10)),
        ("4.b", (10,)),
    ]
    torch_count = sum(p.numel() for p in to_torch_linear_stack(model).parameters())
    assert sum(p.size for p in model.parameters()) == torch_count == 669706


def test_linear_with_bias_false_says_use_bias():
    with pytest.raises(TypeError, match="did you mean 'use_bias'"):
        Dense(784, 10, bias=False)


def test_dropout_with_pytorch_p_says_rate():
    with pytest.raises(TypeError, match=r"rate= for PyTorch's p=: write Dropout\(rate=0\.2\)"):
        Dropout(p=0.2)


def test_batchnorm1d_in_training_mode_matches_pytorch():
    torch = oracles.torch()
    x = np.random.default_rng(0).normal(size=(16, 5))
    bn = BatchNorm(5, dtype=np.float64)
    ref = torch.nn.BatchNorm1d(5, dtype=torch.float64)
    np.testing.assert_allclose(bn(x), ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(bn.buffers["running_var"], ref.running_var.numpy(), rtol=1e-12)
    bn.eval()
    ref.eval()
    np.testing.assert_allclose(bn(x), ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-12)


def test_train_and_eval_return_the_model_and_switch_dropout():
    x = np.ones((4, 6))
    model = Sequential([Dense(6, 6, dtype=np.float64), Dropout(0.5)], seed=0)
    assert model.eval() is model
    assert model.training is False
    np.testing.assert_array_equal(model(x), model(x))  # identity in eval mode
    assert model.train() is model
    assert model.training is True
    assert not np.array_equal(model(x), model(x))  # a new mask each training forward


# ------------------------------------------------------------ the optimization loop


def test_cross_entropy_loss_matches_pytorch_cross_entropy():
    torch = oracles.torch()
    loss_fn = SparseCategoricalCrossentropy(from_logits=True)  # nn.CrossEntropyLoss()
    logits = np.random.default_rng(1).normal(size=(6, 10))
    y = np.array([0, 3, 9, 1, 1, 7])
    expected = torch.nn.CrossEntropyLoss()(torch.from_numpy(logits), torch.from_numpy(y))
    assert loss_fn(y, logits) == pytest.approx(expected.item(), rel=1e-13)


def test_mse_loss_matches_pytorch():
    torch = oracles.torch()
    pred = np.array([[2.5], [3.0]])
    target = np.array([[2.0], [3.5]])
    expected = torch.nn.MSELoss()(torch.from_numpy(pred), torch.from_numpy(target)).item()
    assert MeanSquaredError()(target, pred) == pytest.approx(expected, rel=1e-15)
    assert expected == pytest.approx(0.25)


def test_loss_called_in_pytorch_order_says_keras_order():
    loss_fn = SparseCategoricalCrossentropy(from_logits=True)
    pred = np.zeros((4, 10))
    y = np.array([0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"\(y_true, y_pred\).*loss_fn\(y, pred\)"):
        loss_fn(pred, y)


def test_sgd_with_model_parameters_and_lr_says_learning_rate_and_step_model():
    model = neural_network()
    with pytest.raises(TypeError) as info:
        SGD(model.parameters(), lr=1e-3)
    assert "SGD(learning_rate=0.001)" in str(info.value)
    assert "step(model)" in str(info.value)


def test_adam_with_model_parameters_says_step_model():
    model = neural_network()
    with pytest.raises(TypeError, match=r"take no parameters.*step\(model\)"):
        Adam(model.parameters())


def test_optimizer_zero_grad_says_model_zero_grad():
    with pytest.raises(TypeError, match=r"model\.zero_grad\(\)"):
        SGD(learning_rate=1e-3).zero_grad()


def test_optimizer_step_without_the_model_says_step_model():
    with pytest.raises(TypeError, match=r"optimizer\.step\(model\): .*read"):
        SGD(learning_rate=1e-3).step()


def test_train_loop_the_pytorch_way_follows_pytorch_step_for_step():
    torch = oracles.torch()
    learning_rate, batch_size = 1e-3, 4
    model = neural_network()
    reference = to_torch_linear_stack(model)
    loss_fn = SparseCategoricalCrossentropy(from_logits=True)
    optimizer = SGD(learning_rate=learning_rate)
    torch_loss_fn = torch.nn.CrossEntropyLoss()
    torch_optimizer = torch.optim.SGD(reference.parameters(), lr=learning_rate)
    X_all, y_all = images(12)
    losses, torch_losses = [], []
    model.train()
    for batch in range(len(X_all) // batch_size):
        X = X_all[batch * batch_size : (batch + 1) * batch_size]
        y = y_all[batch * batch_size : (batch + 1) * batch_size]
        # Compute prediction and loss
        pred = model(X)
        loss = loss_fn(y, pred)
        # Backpropagation: the loss's gradient goes back through the model by hand
        model.zero_grad()
        model.backward(loss_fn.gradient(y, pred))
        optimizer.step(model)
        losses.append(loss)

        torch_loss = torch_loss_fn(reference(torch.from_numpy(X)), torch.from_numpy(y))
        torch_loss.backward()
        torch_optimizer.step()
        torch_optimizer.zero_grad()
        torch_losses.append(torch_loss.item())
    np.testing.assert_allclose(losses, torch_losses, rtol=1e-12)
    np.testing.assert_allclose(
        model.parameters()[0], reference[0].weight.detach().numpy().T, rtol=1e-11, atol=1e-15
    )
    assert optimizer.iterations == 3


def test_test_loop_under_no_grad_in_eval_mode_counts_correct_predictions():
    model = neural_network()
    loss_fn = SparseCategoricalCrossentropy(from_logits=True)
    X, y = images(10)
    model.eval()
    test_loss, correct = 0.0, 0
    with no_grad():
        pred = model(X)
        test_loss += loss_fn(y, pred)
        correct += (pred.argmax(1) == y).astype(float).sum()
    model.compile("sgd", loss_fn)
    # evaluate, in batches of 32, sees the same 10 samples: one batch, the same mean
    assert test_loss == pytest.approx(model.evaluate(X, y, verbose=0), rel=1e-12)
    assert correct == (model.predict(X, verbose=0).argmax(1) == y).sum()
    with pytest.raises(RuntimeError, match="no_grad"):
        model.backward(np.ones_like(pred))


def test_no_grad_as_a_decorator():
    model = neural_network()
    X, _ = images(2)

    @mt.no_grad()
    def infer(x):
        return model(x)

    np.testing.assert_array_equal(infer(X), model(X))


# ---------------------------------------------------------------- save and load weights


def test_save_weights_to_a_pth_file_says_to_write_npz(tmp_path):
    model = neural_network()
    with pytest.raises(ValueError) as info:
        model.save_weights(tmp_path / "model_weights.pth")  # torch.save(model.state_dict(), ...)
    assert "minitrain writes its own .npz files, not PyTorch's pickled .pth files" in str(
        info.value
    )
    assert repr(str(tmp_path / "model_weights.npz")) in str(info.value)
    assert not any(tmp_path.iterdir())


def test_save_weights_then_load_weights_into_a_fresh_model_then_eval(tmp_path):
    model = neural_network()
    model.save_weights(tmp_path / "model_weights.npz")
    fresh = Sequential(
        [Dense(784, 512, dtype=np.float64), ReLU(), Dense(512, 512, dtype=np.float64), ReLU()]
        + [Dense(512, 10, dtype=np.float64)],
        seed=1,
    )
    fresh.load_weights(tmp_path / "model_weights.npz")
    fresh.eval()
    X, _ = images(3)
    np.testing.assert_array_equal(fresh(X), model(X))


def test_load_state_dict_of_another_model_copies_every_array():
    model = neural_network()
    other = Sequential(
        [Dense(784, 512, dtype=np.float64), ReLU(), Dense(512, 512, dtype=np.float64), ReLU()]
        + [Dense(512, 10, dtype=np.float64)],
        seed=7,
    )
    other.load_state_dict(model.state_dict())
    for (key, a), (other_key, b) in zip(
        model.state_dict().items(), other.state_dict().items(), strict=True
    ):
        assert key == other_key
        np.testing.assert_array_equal(a, b)


def test_sgd_with_momentum_follows_pytorch_step_for_step():
    torch = oracles.torch()
    model = Sequential([Dense(6, 4, dtype=np.float64), ReLU(), Dense(4, 1, dtype=np.float64)])
    reference = to_torch_linear_stack(model)
    loss_fn = MeanSquaredError()  # nn.MSELoss()
    optimizer = SGD(learning_rate=1e-2, momentum=0.9)
    torch_optimizer = torch.optim.SGD(reference.parameters(), lr=1e-2, momentum=0.9)
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(10, 6)), rng.normal(size=(10, 1))
    for _ in range(4):
        pred = model(X)
        model.zero_grad()
        model.backward(loss_fn.gradient(y, pred))
        optimizer.step(model)
        torch_optimizer.zero_grad()
        torch.nn.MSELoss()(reference(torch.from_numpy(X)), torch.from_numpy(y)).backward()
        torch_optimizer.step()
    for ours, theirs in zip(model.parameters()[::2], reference[::2], strict=True):
        np.testing.assert_allclose(ours, theirs.weight.detach().numpy().T, rtol=1e-11, atol=1e-14)


def test_bce_with_logits_loss_is_binary_crossentropy_from_logits():
    torch = oracles.torch()
    logits = np.array([[-3.0], [0.5], [12.0], [-0.2]])
    target = np.array([[0.0], [1.0], [1.0], [0.0]])
    expected = torch.nn.BCEWithLogitsLoss()(torch.from_numpy(logits), torch.from_numpy(target))
    got = mt.BinaryCrossentropy(from_logits=True)(target, logits)
    assert got == pytest.approx(expected.item(), rel=1e-13)
