"""Guards that watch the training itself: divergence stops the run, a collapse is warned of."""

import os

import numpy as np

from gan_demo.checkpoint import checkpoint_path
from gan_demo.run.callback import Callback

# grid frogs whose mean RMS difference (pixels in [0, 1]) falls below this are near-identical
COLLAPSE_DIVERSITY = 0.02


class DivergenceGuard(Callback):
    """Stop at the first NaN or infinite loss, or weight at a save epoch, before it is saved.

    It must come before every part that records or saves: it sets ``state.diverged_at``, so
    the parts after it skip the epoch and the last checkpoint keeps the last good weights.
    """

    def on_epoch_end(self, state):
        losses_finite = np.isfinite([state.discriminator_loss, state.gan_loss]).all()
        # the weights only where they are about to be saved: checking is a pass over them all
        if losses_finite and (not state.saving or weights_are_finite(state.parts)):
            return
        state.diverged_at = state.epoch
        path = checkpoint_path(state.output)
        kept = (f"the last good checkpoint, {path}, is kept: --resume restarts from it "
                f"(add --seed N to take another path)" if os.path.exists(path)
                else "no checkpoint was saved yet: start again with another --seed")
        state.log(f"Training diverged at epoch {state.epoch} (discriminator loss "
                  f"{state.discriminator_loss}, gan loss {state.gan_loss}); {kept}.")


def weights_are_finite(parts):
    """Whether every variable of ``parts`` (name: object with .variables) is finite."""
    return all(np.isfinite(np.asarray(variable)).all()
               for part in parts.values() for variable in part.variables)


class CollapseWatch(Callback):
    """Warn once when the grid's frogs, diverse before, have become near-identical."""

    def __init__(self):
        self.warned = False
        self.peak_diversity = 0.0

    def on_epoch_end(self, state):
        if state.saving:
            self.check(state.epoch, state.grid_frogs(), state.log)

    def check(self, epoch, images, log):
        """Look at the grid of ``epoch``; ``log`` the warning if it shows a collapse."""
        diversity = sample_diversity(images)
        self.peak_diversity = max(self.peak_diversity, diversity)
        # an untrained generator's frogs are alike too: only a fall from diversity is collapse
        if self.warned or diversity >= COLLAPSE_DIVERSITY \
                or self.peak_diversity < 3 * COLLAPSE_DIVERSITY:
            return
        self.warned = True
        log(f"Warning: mode collapse at epoch {epoch}: the {len(images)} pictures of "
            f"grid_{epoch}.png are near-identical (mean difference {diversity:.3f}, down from "
            f"{self.peak_diversity:.3f}). The tutorial's GAN often does this: train on, "
            f"or start again with another --seed, or try --recipe stable.")


def sample_diversity(images):
    """The mean RMS difference between two of ``images`` (pixels clipped to [0, 1]).

    About 0.3 for real frogs; near 0 when a generator draws the same frog for every input.

    Example:
        >>> sample_diversity(np.stack([np.zeros((2, 2, 3)), np.ones((2, 2, 3))]))
        1.0
    """
    flat = np.clip(np.nan_to_num(np.asarray(images, np.float64)), 0, 1).reshape(len(images), -1)
    if len(flat) < 2:
        return 0.0
    squares = np.sum(flat ** 2, axis=1)
    distances = np.maximum(squares[:, None] + squares[None, :] - 2 * flat @ flat.T, 0)
    pairs = ~np.eye(len(flat), dtype=bool)
    return float(np.mean(np.sqrt(distances[pairs] / flat.shape[1])))
