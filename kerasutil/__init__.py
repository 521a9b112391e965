"""kerasutil: the tutorial's C# helper library CNTKUtil, in Python on Keras 3.

The public names mirror CNTKUtil's::

    from kerasutil import input_variable, leaky_relu, Gan, DataUtil
"""

import os

# the port's trainers use TensorFlow's GradientTape, so Keras must run on TensorFlow
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402

if keras.backend.backend() != "tensorflow":
    raise ImportError(f"kerasutil needs Keras's TensorFlow backend, but KERAS_BACKEND is "
                      f"{keras.backend.backend()!r}: unset it or set it to 'tensorflow'")

from kerasutil.data import DataError, DataUtil  # noqa: E402
from kerasutil.gan import Gan  # noqa: E402
from kerasutil.layers import Variable, input_variable, leaky_relu  # noqa: E402
from kerasutil.network import Network, Trainer, TrainResult  # noqa: E402
from kerasutil.step import compile_step, step_random  # noqa: E402

__all__ = ["DataError", "DataUtil", "Gan", "Network", "Trainer", "TrainResult", "Variable",
           "compile_step", "input_variable", "leaky_relu", "step_random"]
