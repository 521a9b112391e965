"""The fluent chain: a variable whose methods add Keras layers (CNTKUtil's extension methods).

The tutorial builds its networks as one chain of calls on an input variable::

    generator = (input_variable((32,), name="generator_input")
                 .dense(128 * 16 * 16, activation=leaky_relu(0.1))
                 .reshape((16, 16, 128))
                 ...
                 .to_network())

Every method returns a new ``Variable`` wrapping the Keras tensor after the added layer, so
the chain reads top to bottom like the network diagram. Shapes are Keras's channels-last
(height, width, channels), where CNTK wrote the same numbers column-major.
"""

from dataclasses import dataclass

import keras

from kerasutil.network import Network

_ACTIVATION_NAMES = ("tanh", "sigmoid", "relu", "linear")


@dataclass(frozen=True)
class LeakyReLU:
    """A LeakyReLU activation with the tutorial's explicit negative slope (CNTKLib.LeakyReLU)."""

    alpha: float

    def layer(self, name=None):
        return keras.layers.LeakyReLU(negative_slope=self.alpha, name=name)


def leaky_relu(alpha):
    """Return the activation ``v => CNTKLib.LeakyReLU(v, alpha)``.

    Keras's own LeakyReLU defaults to a slope of 0.3; the tutorial uses 0.1 everywhere, so the
    slope is always given explicitly here.

    Args:
        alpha: the negative slope, e.g. 0.1.

    Returns:
        An activation to pass as ``activation=`` to any layer method.

    Raises:
        ValueError: if alpha is not a number >= 0.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha < 0:
        raise ValueError(f"leaky_relu: alpha must be a number >= 0, got {alpha!r}")
    return LeakyReLU(float(alpha))


def _pair(value, what):
    """Normalise an int or a 2-sequence (the C# ``new int[] { 5, 5 }``) to a tuple of two ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) and v > 0 for v in value):
        raise ValueError(f"{what} must be a positive int or two positive ints, got {value!r}")
    return value


class Variable:
    """A point in a network under construction: an input variable or a layer's output.

    Create the first one with :func:`input_variable`; every layer method returns the next.
    """

    def __init__(self, tensor, inputs):
        self.tensor = tensor
        self.inputs = inputs

    @property
    def shape(self):
        """The shape of this variable, without the batch dimension."""
        return tuple(self.tensor.shape[1:])

    def _then(self, layer, activation=None):
        tensor = layer(self.tensor)
        if activation is not None:
            tensor = _activation_layer(activation)(tensor)
        return Variable(tensor, self.inputs)

    def dense(self, units, activation=None):
        """Add a fully connected layer (Dense); flattens an input of rank > 1 first, as CNTK does.

        Glorot-uniform weights and zero bias, as CNTKUtil's Dense.
        """
        variable = self
        if len(self.shape) > 1:
            variable = self._then(keras.layers.Flatten())
        return variable._then(keras.layers.Dense(units), activation)

    def reshape(self, shape):
        """Add a Reshape layer to ``shape`` (channels-last, e.g. (16, 16, 128))."""
        return self._then(keras.layers.Reshape(tuple(shape)))

    def convolution2d(self, filters, filter_shape, padding=False, strides=(1, 1), bias=True,
                      activation=None):
        """Add a 2D convolution (Convolution2D): padding False is "valid", True is "same"."""
        layer = keras.layers.Conv2D(
            filters, _pair(filter_shape, "filter_shape"), strides=_pair(strides, "strides"),
            padding="same" if padding else "valid", use_bias=bias)
        return self._then(layer, activation)

    def convolution_transpose(self, filter_shape, number_of_filters, strides=(1, 1),
                              output_shape=None, padding=True, bias=True, activation=None):
        """Add a transposed convolution (ConvolutionTranspose) that grows the image.

        Args:
            output_shape: the (height, width) the layer must produce, as in the tutorial's
                ``outputShape: new int[] { 32, 32 }``; None accepts what the strides give.

        Raises:
            ValueError: if no output padding can make the layer produce ``output_shape``.
        """
        kernel = _pair(filter_shape, "filter_shape")
        strides = _pair(strides, "strides")
        pad = "same" if padding else "valid"
        output_padding = None
        if output_shape is not None:
            output_padding = _output_padding(self.shape, kernel, strides, pad,
                                             _pair(output_shape, "output_shape"))
        layer = keras.layers.Conv2DTranspose(
            number_of_filters, kernel, strides=strides, padding=pad,
            output_padding=output_padding, use_bias=bias)
        return self._then(layer, activation)

    def upsampling2d(self, size=(2, 2)):
        """Add an UpSampling2D layer: each pixel repeated ``size`` times (nearest neighbour).

        Followed by a convolution it grows an image as a strided transposed convolution does,
        a "resize-convolution" (Odena et al. 2016): every output pixel is made by the same
        filter, so the network cannot paint the checkerboard a transposed convolution can.

        Raises:
            ValueError: if size is not a positive int or two positive ints.
        """
        return self._then(keras.layers.UpSampling2D(_pair(size, "size"), interpolation="nearest"))

    def dropout(self, rate):
        """Add a Dropout layer that drops ``rate`` of its inputs while training.

        CNTKUtil's Dropout ignored ``rate`` and always dropped 0.5; this one uses ``rate``.
        """
        if not 0 <= rate < 1:
            raise ValueError(f"dropout: rate must be in [0, 1), got {rate!r}")
        return self._then(keras.layers.Dropout(rate))

    def batch_normalization(self, momentum=0.9, activation=None):
        """Add a BatchNormalization layer, then ``activation`` (CNTKLib.BatchNormalization).

        Args:
            momentum: how much of its running mean and variance a batch keeps; 0.9 follows
                the last ten or so batches (PyTorch's 0.1 and DCGAN's; Keras's own is 0.99).
            activation: applied after the normalisation, as DCGAN does.

        Raises:
            ValueError: if momentum is not in [0, 1).
        """
        if not 0 <= momentum < 1:
            raise ValueError(f"batch_normalization: momentum must be in [0, 1), got {momentum!r}")
        return self._then(keras.layers.BatchNormalization(momentum=momentum), activation)

    def to_network(self, name=None):
        """Finish the chain: a :class:`~kerasutil.network.Network` from the input to here."""
        return Network(inputs=self.inputs, outputs=self.tensor, name=name)


def _output_padding(input_shape, kernel, strides, padding, output_shape):
    """The output_padding that makes a transposed convolution produce ``output_shape``."""
    if len(input_shape) != 3:
        raise ValueError(f"convolution_transpose needs an (height, width, channels) input, "
                         f"got shape {input_shape}")
    result = []
    for size, k, s, want in zip(input_shape[:2], kernel, strides, output_shape):
        natural = size * s if padding == "same" else (size - 1) * s + k
        extra = want - natural
        if not 0 <= extra < s:
            raise ValueError(
                f"convolution_transpose: a {k}x{k} filter with stride {s} turns {size} into "
                f"{natural}, not the requested {want}")
        result.append(extra)
    # Keras only accepts an explicit output_padding when it is needed
    return tuple(result) if any(result) else None


def _activation_layer(activation):
    if isinstance(activation, LeakyReLU):
        return activation.layer()
    if isinstance(activation, str) and activation in _ACTIVATION_NAMES:
        return keras.layers.Activation(activation)
    raise ValueError(
        f"unknown activation {activation!r}: use leaky_relu(alpha) or one of "
        f"{', '.join(repr(n) for n in _ACTIVATION_NAMES)}")


def input_variable(shape, name=None):
    """Create the network's input (CNTK.Variable.InputVariable).

    Args:
        shape: the shape of one sample, channels-last for images, e.g. ``(32,)`` or
            ``(32, 32, 3)``.
        name: an optional name for the input.

    Returns:
        A :class:`Variable` to chain layer methods on.

    Example:
        >>> net = input_variable((4,)).dense(1, activation="sigmoid").to_network()
        >>> net.output_shape
        (None, 1)
    """
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(shape)
    if not shape or not all(isinstance(d, int) and d > 0 for d in shape):
        raise ValueError(f"input_variable: shape must be positive ints, got {shape!r}")
    tensor = keras.Input(shape=shape, name=name)
    return Variable(tensor, tensor)
