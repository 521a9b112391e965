"""TensorBoard: both losses every epoch and the grid at every save (--logdir)."""

import numpy as np
import tensorflow as tf

from gan_demo.pictures import grid_image
from gan_demo.run.callback import Callback


class TensorBoard(Callback):
    """Write TensorBoard summaries to ``logdir``: loss/discriminator, loss/gan and grid.

    Args:
        logdir: the log folder (``tensorboard --logdir`` it).
    """

    def __init__(self, logdir):
        self.logdir = logdir
        self.writer = None

    def on_train_begin(self, state):
        self.writer = tf.summary.create_file_writer(self.logdir)

    def on_epoch_end(self, state):
        with self.writer.as_default():
            tf.summary.scalar("loss/discriminator", state.discriminator_loss, step=state.epoch)
            tf.summary.scalar("loss/gan", state.gan_loss, step=state.epoch)
            if state.saving:
                picture = np.asarray(grid_image(state.grid_frogs()))
                tf.summary.image("grid", picture[None], step=state.epoch)
        if state.saving:
            self.writer.flush()

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None
