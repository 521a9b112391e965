"""The loss history: one row an epoch, written to losses.csv and plotted to losses.png."""

import csv
import os

from gan_demo.pictures import plot_losses
from gan_demo.run.callback import Callback
from kerasutil.files import atomic_path


class LossHistory(Callback):
    """Add each epoch's losses to ``state.losses``; write losses.csv and losses.png at saves.

    The files hold the whole history (a resumed run's too, restored from its checkpoint), so
    each save rewrites them whole rather than appending.
    """

    def on_epoch_end(self, state):
        state.losses.append((state.epoch, state.discriminator_loss, state.gan_loss))
        if state.saving:
            write_losses_csv(state.losses, os.path.join(state.output, "losses.csv"))
            plot_losses(state.losses, os.path.join(state.output, "losses.png"))


def write_losses_csv(losses, path):
    """Write rows of (epoch, discriminator loss, gan loss) with every digit (repr)."""
    with atomic_path(path) as temporary:
        with open(temporary, "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["epoch", "discriminator loss", "gan loss"])
            writer.writerows((int(e), repr(float(d)), repr(float(g))) for e, d, g in losses)
