"""``fit``, ``evaluate`` and ``predict``, written once in ``Trainer`` (Keras 3's ``Trainer``).

``Sequential`` inherits them. ``fit`` orchestrates; ``model._train_step`` computes (forward,
loss, backward, update). The hooks fire in Keras 3 order (``minitrain.callbacks``
documents each one)::

    on_train_begin
    for epoch in range(initial_epoch, epochs):
        reset the loss tracker and the metrics
        on_epoch_begin(epoch)
        for step, (x, y, w) in epoch's batches:              # minitrain.data.dataset
            on_train_batch_begin(step)
            loss, y_pred = model._train_step(x, y, w)          # one update
            tracker.update_state(loss, n), metrics.update_state(y, y_pred[, w])
            on_train_batch_end(step, running results)
            if model.stop_training: break
        if (epoch + 1) % validation_freq == 0:                 # training=False, no_grad
            on_test_begin; on_test_batch_begin/end per batch; on_test_end(val logs)
        on_epoch_end(epoch, logs + val_ logs + learning_rate)
        if model.stop_training: break
    on_train_end(logs)

``model.metrics`` ignore sample and class weights; ``model.weighted_metrics`` and the
loss get them (Keras 3). The running loss is a ``metrics.Mean`` weighted by each batch's
sample count. ``evaluate`` and ``predict`` pass ``training=False`` to ``model._forward``
and work on their own copies of the metrics: they write nothing shared, so several
threads may call them on one model at once.

Modules: ``trainer`` (the loops), ``epoch_metrics`` (the loss tracker and the metrics of
one loop), ``refusals`` (batches a layer cannot take, refused before the first update)
and ``inputs`` (training and validation data for ``fit``); the adapters that read the
data in batches live in ``minitrain.data.dataset``.
"""

from .trainer import Trainer, check_verbose

__all__ = ["Trainer", "check_verbose"]
