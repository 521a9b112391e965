"""The tutorial's ``Gan`` helper: assemble a GAN, make its batches, save its pictures.

Label convention, as in the C# helper: **fake = 1, real = 0**. The discriminator learns to
output 1 for generated images; the generator learns to make it output 0.

Randomness comes from ``rng`` where given, else from NumPy's global generator, which
``keras.utils.set_random_seed`` seeds. With a ``numpy.random.Generator`` (or none) the helpers
work on NumPy arrays, as the tutorial's do; with a ``tf.random.Generator`` they return tensors
and build TensorFlow operations instead, so that a whole training step can be compiled into
one graph (:func:`kerasutil.compile_step`) with its noise drawn and its batches sliced there.
"""

import numpy as np
import tensorflow as tf
from PIL import Image

from kerasutil.data import channels_last
from kerasutil.files import atomic_path
from kerasutil.network import Network

# the spread of the noise added to the labels (Gan.GetTrainingBatch's 0.05 * N(0, 1))
LABEL_NOISE = 0.05


def _normal(rng, shape):
    if _in_graph(rng):
        return rng.normal(shape)
    return (rng.standard_normal(shape) if rng is not None
            else np.random.standard_normal(shape)).astype(np.float32)


def _in_graph(rng):
    """True where the helpers build TensorFlow operations: a tf.random.Generator was given."""
    return isinstance(rng, tf.random.Generator)


def _check_batch_size(batch_size):
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")


class Gan:
    """CNTKUtil's Gan helper class, as static methods."""

    @staticmethod
    def create_gan(generator, discriminator):
        """Join the generator to the discriminator (CreateGan).

        The discriminator is shared, not copied: both networks see the same weights. It is
        frozen inside the GAN, so the GAN's trainer updates only the generator (the C# helper
        updated both: a bug the book it ports does not have).

        Returns:
            A :class:`~kerasutil.network.Network` from latent vectors to the discriminator's
            verdict.
        """
        if tuple(generator.output_shape[1:]) != tuple(discriminator.input_shape[1:]):
            raise ValueError(f"create_gan: the generator makes {generator.output_shape[1:]} "
                             f"but the discriminator takes {discriminator.input_shape[1:]}")
        gan = Network(inputs=generator.input, outputs=discriminator(generator.output),
                      name="gan")
        gan.freeze(discriminator)
        return gan

    @staticmethod
    def generate_images(generator, batch_size, latent_dimensions, rng=None):
        """Run the generator on latent vectors ~ N(0, 1) (GenerateImages).

        Returns:
            A float32 array of ``batch_size`` images, (batch, height, width, channels); a
            tensor where ``rng`` is a ``tf.random.Generator``.
        """
        _check_batch_size(batch_size)
        latent = _normal(rng, (batch_size, latent_dimensions))
        # float32 even where the generator computes in bfloat16 (mixed precision)
        images = tf.cast(generator(latent, training=False), tf.float32)
        return images if _in_graph(rng) else images.numpy()

    @staticmethod
    def get_training_batch(generated_images, training_data, batch_size, start, rng=None):
        """A batch of fakes labelled 1 and real images labelled 0, plus noise (GetTrainingBatch).

        The fakes come first, then ``training_data[start:start + batch_size]``. Each label gets
        0.05 * N(0, 1) noise and is clipped to [0, 1] (binary cross-entropy is unbounded
        outside, so unclipped noise would let the loss run off below zero).

        With a ``tf.random.Generator`` as ``rng``, ``training_data`` is a tensor (the frogs on
        the device), ``start`` may be a scalar tensor, and the batch is sliced there.

        Args:
            generated_images: the fakes, (at least batch_size, height, width, channels).
            training_data: the real images, either shaped like the fakes, (count, height,
                width, channels), as ``DataUtil.load_frog_pictures`` returns them, or the
                tutorial's flat channels-first records, (count, channels * height * width), as
                ``DataUtil.load_binary`` returns them; records become images batch by batch.
            batch_size: the number of fakes and of real images, a positive int.
            start: the first real image of the batch.
            rng: a ``numpy.random.Generator`` or a ``tf.random.Generator`` (see the module).

        Returns:
            (features, labels): 2 * batch_size channels-last images and labels of shape
            (2 * batch_size, 1).

        Raises:
            ValueError: a bad batch_size or start, too few fakes, or training data of neither
                shape.
        """
        _check_batch_size(batch_size)
        if _in_graph(rng):
            return _training_batch_tensors(generated_images, training_data, batch_size, start,
                                           rng)
        if len(generated_images) < batch_size:
            raise ValueError(f"get_training_batch: {len(generated_images)} generated images "
                             f"for a batch of {batch_size}")
        if not 0 <= start <= len(training_data) - batch_size:
            raise ValueError(f"get_training_batch: start {start} leaves no {batch_size} images "
                             f"in {len(training_data)}")
        real = _real_images(training_data, start, batch_size, np.shape(generated_images)[1:])
        features = np.concatenate([generated_images[:batch_size], real])
        labels = np.concatenate([np.ones((batch_size, 1)), np.zeros((batch_size, 1))])
        labels = labels + LABEL_NOISE * _normal(rng, labels.shape)
        return features.astype(np.float32), np.clip(labels, 0, 1).astype(np.float32)

    @staticmethod
    def get_misleading_batch(gan, batch_size, latent_dimensions, rng=None):
        """Latent vectors all labelled 0, "real" (GetMisleadingBatch).

        Returns:
            (features, labels): (batch, latent_dimensions) vectors ~ N(0, 1) and zero labels.
        """
        _check_batch_size(batch_size)
        if tuple(gan.input_shape[1:]) != (latent_dimensions,):
            raise ValueError(f"get_misleading_batch: the GAN takes {gan.input_shape[1:]}, "
                             f"not {latent_dimensions} latent dimensions")
        features = _normal(rng, (batch_size, latent_dimensions))
        zeros = tf.zeros if _in_graph(rng) else np.zeros
        return features, zeros((batch_size, 1), dtype="float32")

    @staticmethod
    def save_image(image, width, height, path):
        """Write one image as an RGB PNG (SaveImage): pixel = round(255 * value), clipped.

        Args:
            image: height * width * 3 values in [0, 1], channels-last, shaped (height, width, 3)
                or flat. Values outside [0, 1] (a tanh output below 0) become 0 or 255.
            width, height: the image size in pixels.
            path: the PNG to write; it appears whole or not at all.
        """
        values = np.asarray(image, dtype=np.float32)
        if values.size != width * height * 3:
            raise ValueError(f"save_image: {values.size} values for a {width}x{height} RGB "
                             f"image ({width * height * 3} needed)")
        pixels = to_pixels(values.reshape(height, width, 3))
        with atomic_path(path) as temporary:
            Image.fromarray(pixels, "RGB").save(temporary, format="PNG")


def _training_batch_tensors(generated_images, training_data, batch_size, start, rng):
    """get_training_batch's tensor form: the same batch, built from TensorFlow operations."""
    real = _real_images(training_data, start, batch_size, generated_images.shape[1:])
    features = tf.concat([generated_images[:batch_size], real], axis=0)
    labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
    labels = labels + LABEL_NOISE * rng.normal(labels.shape)
    return features, tf.clip_by_value(labels, 0, 1)


def _real_images(training_data, start, batch_size, image_shape):
    """``training_data[start:start + batch_size]`` as images shaped like the fakes.

    The tutorial passes DataUtil.LoadBinary's flat channels-first records straight to
    GetTrainingBatch; only the batch's own records are turned into images, so a student's
    5,000 records need no second, transposed copy.
    """
    shape, image_shape = tuple(np.shape(training_data)), tuple(image_shape)
    if isinstance(training_data, tf.Tensor):
        # gather, not a slice: XLA (--xla) takes a slice's start as a constant and compiles
        # the step again for every new start; gathered rows keep it one compiled step
        batch = tf.gather(training_data, start + tf.range(batch_size))
    else:
        batch = training_data[start:start + batch_size]
    if shape[1:] == image_shape:
        return batch
    size = int(np.prod(image_shape))
    if len(image_shape) == 3 and shape[1:] == (size,):
        return channels_last(batch, *image_shape)
    dims = ", ".join(map(str, image_shape))
    raise ValueError(f"get_training_batch: training data shaped {shape} is neither images like "
                     f"the generated ones, (count, {dims}), nor flat channels-first records, "
                     f"(count, {size}): pass DataUtil.load_frog_pictures(path) or "
                     f"DataUtil.load_binary(path, count, {size})")


def to_pixels(values):
    """Map network outputs to 8-bit pixels as SaveImage does: round(255 * value), clipped.

    NaN (a diverged generator) becomes 0, black, rather than an undefined byte.
    """
    values = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0)
    return np.clip(np.rint(values * 255), 0, 255).astype(np.uint8)
