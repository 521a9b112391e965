"""Compile a training step, written with the tutorial's helpers, into one TensorFlow graph."""

import contextlib

import keras
import numpy as np
import tensorflow as tf


def compile_step(step, jit_compile=False):
    """Run ``step`` as one compiled TensorFlow graph: no Python between its operations.

    The tutorial's epoch is five calls (generate, batch, train, batch, train), each a round trip
    from Python to TensorFlow and back through NumPy. Written with the helpers given a
    ``tf.random.Generator`` (see :class:`kerasutil.Gan`), the same five calls become one graph,
    traced on the first call and reused after: the noise is drawn and the batch sliced on the
    device, and only the results come back.

    Args:
        step: a function of tensors returning a nest of tensors (tuples, named tuples such as
            :class:`kerasutil.TrainResult`).
        jit_compile: compile the graph with XLA as well (the first call then takes longer;
            an input that XLA needs as a constant, such as a slice's start, recompiles it for
            every new value: gather instead).

    Returns:
        A function taking the same arguments (numbers or arrays: they become tensors, so a new
        value does not trace the graph again) and returning the results as NumPy values.

    Example:
        >>> import tensorflow as tf
        >>> from kerasutil import compile_step
        >>> rng = tf.random.Generator.from_seed(1)
        >>> add_noise = compile_step(lambda x, scale: x + scale * rng.normal(()))
        >>> float(add_noise(5.0, 0.0))
        5.0
        >>> bool(add_noise(5.0, 1.0) != add_noise(5.0, 1.0))  # fresh noise drawn on every call
        True
        >>> add_noise.graph.experimental_get_tracing_count()  # traced once, new values or not
        1
    """
    graph = tf.function(step, jit_compile=jit_compile)

    def run(*args):
        results = graph(*(tf.convert_to_tensor(arg) for arg in args))
        # np.asarray, not .numpy(): run eagerly (tf.config.run_functions_eagerly), a step
        # may return plain floats
        return tf.nest.map_structure(np.asarray, results)

    run.graph = graph
    return run


def step_random(seed=None):
    """The ``tf.random.Generator`` a compiled step draws its noise and batches from.

    Checkpoints save its state, so a resumed run draws the numbers it would have drawn.

    Args:
        seed: an int for a repeatable run; None for fresh randomness every run.

    Example:
        >>> from kerasutil import step_random
        >>> float(step_random(1).normal(())) == float(step_random(1).normal(()))
        True
    """
    if seed is None:
        return tf.random.Generator.from_non_deterministic_state()
    return tf.random.Generator.from_seed(seed)


def mirrored_strategy():
    """A ``tf.distribute.MirroredStrategy`` over every GPU, or every logical CPU without one.

    Build the networks, learners and trainers inside its ``scope()``: each compiled training
    step then splits its batches between the replicas (see :meth:`Trainer.train_batch`).
    """
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([device.name for device in devices])


@contextlib.contextmanager
def precision(policy):
    """Build the networks of the ``with`` block under a Keras dtype policy, then restore it.

    "mixed_bfloat16" computes in bfloat16 and keeps float32 weights (no loss scaling needed,
    unlike float16); the trainers still compute their losses in float32.

    Args:
        policy: a Keras dtype policy name: "float32" or "mixed_bfloat16".
    """
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
