"""The stable recipe's two pairs of networks, both built with kerasutil's chain.

* ``"tutorial"``: the tutorial's own generator and discriminator (program.py), narrowed.
* ``"dcgan"``: the layout of Radford et al. 2016 (DCGAN): the generator starts from a 4x4
  grid and doubles it three times with transposed convolutions, each followed by batch
  normalisation; the discriminator mirrors it with three strided convolutions. The tutorial's
  generator starts at 16x16 and spends most of its arithmetic on 5x5 filters at full size,
  where a filter only sees a small patch; the DCGAN generator decides the frog's outline at
  4x4 and 8x8, where each filter sees a large part of the picture.

``width`` is the generator's channel count at 16x16 for "dcgan" (4x at 4x4, 2x at 8x8, half
at 32x32; the discriminator mirrors it), and as program.py says for "tutorial".
"""

from gan_demo import program
from kerasutil import input_variable, leaky_relu

NETWORKS = ("tutorial", "dcgan")


def create_generator(networks, width):
    """The generator: latent vector -> 32x32x3 image in [-1, 1] (tanh).

    Example:
        >>> create_generator("dcgan", 64).output_shape
        (None, 32, 32, 3)
    """
    if networks == "tutorial":
        return program.create_generator(width)
    _check(networks, width)
    return (
        input_variable((program.latent_dimensions,), name="generator_input")
        .dense(4 * 4 * 4 * width)
        .reshape((4, 4, 4 * width))
        .batch_normalization(activation="relu")
        .convolution_transpose((4, 4), 2 * width, strides=(2, 2), bias=False)
        .batch_normalization(activation="relu")
        .convolution_transpose((4, 4), width, strides=(2, 2), bias=False)
        .batch_normalization(activation="relu")
        .convolution_transpose((4, 4), width // 2, strides=(2, 2), bias=False)
        .batch_normalization(activation="relu")
        .convolution2d(program.channels, (3, 3), padding=True, activation="tanh")
        .to_network(name="generator")
    )


def create_discriminator(networks, width):
    """The discriminator: 32x32x3 image -> P(fake) (sigmoid), as the tutorial's.

    Example:
        >>> create_discriminator("dcgan", 64).output_shape
        (None, 1)
    """
    if networks == "tutorial":
        return program.create_discriminator(width)
    _check(networks, width)
    # no normalisation here: the R1 penalty wants each picture's score to depend on it alone
    return (
        input_variable((program.image_height, program.image_width, program.channels),
                       name="discriminator_input")
        .convolution2d(width // 2, (4, 4), padding=True, strides=(2, 2),
                       activation=leaky_relu(0.2))
        .convolution2d(width, (4, 4), padding=True, strides=(2, 2), activation=leaky_relu(0.2))
        .convolution2d(2 * width, (4, 4), padding=True, strides=(2, 2),
                       activation=leaky_relu(0.2))
        .dense(1, activation="sigmoid")
        .to_network(name="discriminator")
    )


def check_networks(networks):
    """Raise ValueError unless ``networks`` names one of NETWORKS."""
    if networks not in NETWORKS:
        raise ValueError(f"networks must be one of {', '.join(map(repr, NETWORKS))}, "
                         f"got {networks!r}")


def _check(networks, width):
    check_networks(networks)
    if width % 2:
        raise ValueError(f"width must be even for the {networks} networks, got {width}")
