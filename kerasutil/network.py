"""The network that ``.to_network()`` returns, with CNTKUtil's learners and trainers.

A :class:`Network` is a plain functional ``keras.Model`` plus the two helpers the tutorial
calls on it: ``get_ada_delta_learner`` and ``get_trainer``. A :class:`Trainer` runs one
compiled training step per ``train_batch`` call and reports that batch's loss, like CNTK's
``Trainer.TrainBatch``.
"""

from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

# CNTK's AdaDelta constants; Keras's own Adadelta defaults (lr 0.001, epsilon 1e-7) differ
ADA_DELTA_RHO = 0.95
ADA_DELTA_EPSILON = 1e-8

_LOSSES = {
    "binary_crossentropy": keras.losses.binary_crossentropy,
    "mean_squared_error": keras.losses.mean_squared_error,
}


@keras.saving.register_keras_serializable(package="kerasutil")
class Network(keras.Model):
    """A Keras functional model with the tutorial's ``GetAdaDeltaLearner`` and ``GetTrainer``.

    Some of its weights can be frozen for its own trainer (``freeze``) without touching the
    ``trainable`` flags, so the sub-network that owns them keeps training with its own trainer.
    """

    @property
    def frozen_variables(self):
        """The variables this network's trainers never update (see :meth:`freeze`)."""
        ids = getattr(self, "_frozen_ids", frozenset())
        return [v for v in self.trainable_variables if id(v) in ids]

    @property
    def learnable_variables(self):
        """The variables a trainer of this network updates: trainable and not frozen."""
        ids = getattr(self, "_frozen_ids", frozenset())
        return [v for v in self.trainable_variables if id(v) not in ids]

    def freeze(self, network):
        """Keep this network's trainers from updating the weights of ``network`` (a part of it).

        Keras 3's ``network.trainable = False`` before compiling is unreliable for a GAN (the
        part can stop training in its own trainer too); this only narrows the variable list
        that this network's trainers optimise.
        """
        ids = {id(v) for v in self.trainable_variables}
        theirs = [v for v in network.trainable_variables if id(v) in ids]
        if not theirs:
            raise ValueError(f"freeze: {network.name!r} is not a part of {self.name!r}")
        # a frozenset of ints is not tracked by Keras, unlike a list of variables would be
        self._frozen_ids = getattr(self, "_frozen_ids", frozenset()) | {id(v) for v in theirs}

    def get_ada_delta_learner(self, learning_rate):
        """Return an AdaDelta optimizer with CNTK's constants (GetAdaDeltaLearner).

        Args:
            learning_rate: the learning rate; the tutorial's integer ``1`` is accepted (Keras 3
                itself rejects an int).

        Returns:
            A ``keras.optimizers.Adadelta`` with rho 0.95 and epsilon 1e-8.
        """
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) \
                or learning_rate <= 0:
            raise ValueError(f"learning_rate must be a number > 0, got {learning_rate!r}")
        return keras.optimizers.Adadelta(
            learning_rate=float(learning_rate), rho=ADA_DELTA_RHO, epsilon=ADA_DELTA_EPSILON)

    def get_trainer(self, learner, loss, metric):
        """Return a :class:`Trainer` that trains this network with ``learner`` (GetTrainer).

        Args:
            learner: a Keras optimizer, e.g. from :meth:`get_ada_delta_learner`; one per trainer.
            loss: the loss to minimise: "binary_crossentropy" or "mean_squared_error".
            metric: the figure reported beside the loss, from the same names.
        """
        return Trainer(self, learner, loss, metric)


class TrainResult(NamedTuple):
    """What one ``train_batch`` call reports: the batch's mean loss and metric.

    Floats when called eagerly; scalar tensors inside a compiled step (a named tuple, so a
    ``tf.function`` can return it).
    """

    loss: float
    metric: float


class Trainer:
    """Trains a network one batch at a time (CNTK's Trainer).

    Example:
        >>> import numpy as np
        >>> from kerasutil import input_variable
        >>> net = input_variable((2,)).dense(1, activation="sigmoid").to_network()
        >>> trainer = net.get_trainer(net.get_ada_delta_learner(1), "binary_crossentropy",
        ...                           "binary_crossentropy")
        >>> result = trainer.train_batch(np.zeros((4, 2)), np.ones((4, 1)))
        >>> round(result.loss, 4)
        0.6931
    """

    def __init__(self, network, learner, loss, metric):
        if not isinstance(learner, keras.optimizers.Optimizer):
            raise ValueError(f"learner must be a Keras optimizer, got {type(learner).__name__}")
        if learner.built:
            raise ValueError("this learner already trains another network: "
                             "create one learner per trainer")
        self.network = network
        self.learner = learner
        self.loss_name, self._loss = _loss_function(loss)
        self.metric_name, self._metric = _loss_function(metric)
        self.variables = network.learnable_variables
        learner.build(self.variables)
        self._step = tf.function(self._train_step, reduce_retracing=True)

    def _train_step(self, features, labels, replicas=1):
        with tf.GradientTape() as tape:
            # float32 losses, whatever the networks compute in (see kerasutil.step.precision)
            predictions = tf.cast(self.network(features, training=True), tf.float32)
            loss = tf.reduce_mean(self._loss(labels, predictions))
            # the learner sums the replicas' gradients: each gives its share of the mean
            share = loss / replicas
        gradients = tape.gradient(share, self.variables)
        self.learner.apply_gradients(zip(gradients, self.variables))
        return loss, tf.reduce_mean(self._metric(labels, predictions))

    def _distributed_step(self, features, labels, strategy):
        """The step under a tf.distribute strategy: each replica trains on its slice of the
        batch, in order, and the gradients are summed; reports the whole batch's means."""
        replicas = strategy.num_replicas_in_sync

        def replica_step(features, labels):
            context = tf.distribute.get_replica_context()
            size = tf.shape(features)[0] // replicas
            first = context.replica_id_in_sync_group * size
            loss, metric = self._train_step(features[first:first + size],
                                            labels[first:first + size], replicas)
            return context.all_reduce("MEAN", loss), context.all_reduce("MEAN", metric)

        results = strategy.run(replica_step, (features, labels))
        return [strategy.experimental_local_results(result)[0] for result in results]

    def train_batch(self, features, labels):
        """Train one step on a batch (TrainBatch) and return its :class:`TrainResult`.

        Args:
            features: the network's inputs, batch first.
            labels: the targets, shape (batch, 1) or (batch,).

        Inside a compiled step (see :func:`kerasutil.compile_step`) it takes tensors, adds the
        training step to the graph and returns tensors; the checks below need values, so they
        run only when called eagerly. Compiled under a ``tf.distribute`` strategy's scope with
        several replicas, it splits the batch between them (its size must divide evenly).

        Raises:
            ValueError: if the batch sizes differ, or binary cross-entropy gets labels outside
                [0, 1] (it has no lower bound there: clip noisy labels).
        """
        if not tf.executing_eagerly():
            features = tf.cast(features, tf.float32)
            labels = tf.reshape(tf.cast(labels, tf.float32), (tf.shape(labels)[0], -1))
            strategy = tf.distribute.get_strategy()
            if strategy.num_replicas_in_sync > 1 and tf.distribute.in_cross_replica_context():
                return TrainResult(*self._distributed_step(features, labels, strategy))
            return TrainResult(*self._train_step(features, labels))
        features = np.asarray(features, dtype=np.float32)
        labels = np.asarray(labels, dtype=np.float32).reshape(len(labels), -1)
        if len(features) != len(labels):
            raise ValueError(f"train_batch: {len(features)} features but {len(labels)} labels")
        if "binary_crossentropy" in (self.loss_name, self.metric_name) and labels.size and \
                (labels.min() < 0 or labels.max() > 1):
            raise ValueError("train_batch: binary cross-entropy needs labels in [0, 1], got "
                             f"[{labels.min():.3f}, {labels.max():.3f}]: clip noisy labels")
        loss, metric = self._step(features, labels)
        return TrainResult(loss=float(loss), metric=float(metric))


def _loss_function(name):
    if name not in _LOSSES:
        raise ValueError(f"unknown loss {name!r}: use one of {', '.join(map(repr, _LOSSES))}")
    return name, _LOSSES[name]
