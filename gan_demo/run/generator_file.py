"""generator.keras: the trained generator as one file that loads without this project."""

import os

import keras

from gan_demo.run.callback import Callback
from kerasutil.files import atomic_path


class SaveGenerator(Callback):
    """Write the sampler to generator.keras when training ends, unless it diverged."""

    def on_train_end(self, state):
        if state.sampler is not None and state.diverged_at is None:
            save_generator(state.sampler, os.path.join(state.output, "generator.keras"))


def save_generator(generator, path):
    """Save ``generator`` as a plain functional model of the same layers, whole or not at all,
    so it loads with keras.models.load_model alone (no kerasutil installed)."""
    plain = keras.Model(generator.input, generator.output, name="generator")
    with atomic_path(path) as temporary:
        plain.save(temporary)
