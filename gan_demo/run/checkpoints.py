"""Checkpoints: save everything needed to continue at every save, and resume from it."""

import numpy as np

from gan_demo import checkpoint
from gan_demo.run.callback import Callback
from kerasutil.files import remove_stale_temporaries


class Checkpoint(Callback):
    """Write checkpoint.npz at each save; on resume, restore the run it holds.

    It must come after every part that writes a file at a save: the checkpoint of epoch N
    then means that all of epoch N's files are on disk.

    Args:
        settings: facts of the run stored in the checkpoint (width, batch size, ...).
        resume: continue from the checkpoint in the run's output folder.
        reseed: on resume, reseed NumPy's random numbers (and the parts' own) with this after
            restoring them, so the run takes another path from the checkpoint on; None
            continues exactly.
    """

    def __init__(self, settings, resume=False, reseed=None):
        self.settings = settings
        self.resume = resume
        self.reseed = reseed

    def on_train_begin(self, state):
        remove_stale_temporaries(state.output)  # what a killed run left half-written
        if self.resume:
            self.restore(state)

    def on_epoch_end(self, state):
        if state.saving:
            checkpoint.save_checkpoint(
                checkpoint.checkpoint_path(state.output), state.parts, state.epoch, state.start,
                state.losses, state.grid_latents, self.settings)

    def restore(self, state):
        """Put back the parts, random numbers, losses and grid latents; set where to start."""
        path = checkpoint.checkpoint_path(state.output)
        saved = checkpoint.read_checkpoint(path)
        for name, part in state.parts.items():
            checkpoint.restore_variables(saved, name, part, path)
        checkpoint.restore_random_state(saved)
        state.losses = [tuple(row) for row in saved["losses"].tolist()]
        state.grid_latents = saved["grid_latents"]
        state.first_epoch, state.start = int(saved["epoch"]) + 1, int(saved["start"])
        if self.reseed is not None:
            np.random.seed(self.reseed)  # a new path from here, e.g. around a divergence
            for part in state.parts.values():
                if hasattr(part, "reseed"):  # the stable recipe's own random numbers
                    part.reseed(self.reseed)
