"""The shape of a run's parts, as in Keras's callbacks: what each part is told, and when.

A part is a :class:`Callback`; every part of a run shares one :class:`RunState`. To add a part,
write a Callback with the methods it needs and put it in the run's list (see
``gan_demo/run/training.py``); no other part changes.
"""

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class RunState:
    """What the parts of a run share: the run's settings, its networks and the last epoch.

    Each part reads what it needs and writes only the fields its docstring names.

    Args:
        log: prints one line (through the progress bar when there is one).
        output: the folder the run writes to; None for the tutorial's plain run.
        epochs: the epoch the run ends at.
        save_every: epochs between saves of pictures and a checkpoint; None never saves.
        grid_latents: the fixed latent vectors the grids show (set by Grids, or on resume).
    """

    log: Callable[[str], None] = print
    output: str | None = None
    epochs: int | None = None
    save_every: int | None = None
    grid_latents: np.ndarray | None = None
    # set by begin: what a checkpoint holds (name: object with .variables) and what draws frogs
    parts: dict = field(default_factory=dict)
    sampler: object = None
    # where training starts: (0, 0), or the checkpoint's next epoch and data cursor on resume
    first_epoch: int = 0
    start: int = 0
    # the epoch that just ended, its losses, and whether it saves pictures and a checkpoint
    epoch: int = -1
    discriminator_loss: float = float("nan")
    gan_loss: float = float("nan")
    saving: bool = False
    # the loss history, rows of (epoch, discriminator loss, gan loss)
    losses: list = field(default_factory=list)
    # stop: end the run; the epoch that sees it saves and is the last (see take_epoch)
    stop: bool = False
    stopped_by: int | None = None  # the signal that asked for the stop
    diverged_at: int | None = None  # the epoch whose losses or weights went NaN or infinite
    _grid: tuple = field(default=(None, None), init=False, repr=False)  # grid_frogs' cache

    def take_epoch(self, epoch, start, discriminator_loss, gan_loss):
        """Take in the epoch that just ended; return True if it is the run's last.

        A stop asked for before now makes this epoch the last and a saving one. One asked for
        while the parts run (Ctrl-C comes at any moment) is seen at the next epoch, so the run
        always stops on an epoch it saved.
        """
        last = self.stop
        self.epoch, self.start = epoch, start
        self.discriminator_loss, self.gan_loss = discriminator_loss, gan_loss
        self.saving = last or (self.save_every is not None and (
            epoch % self.save_every == 0 or epoch == self.epochs - 1))
        return last

    def grid_frogs(self):
        """The frogs the sampler draws from ``grid_latents`` now, drawn once per epoch however
        many parts ask (the grid picture, the collapse watch, TensorBoard)."""
        epoch, frogs = self._grid
        if epoch != self.epoch:
            frogs = np.asarray(self.sampler(self.grid_latents, training=False))
            self._grid = (self.epoch, frogs)
        return frogs


class Callback:
    """One part of a run; every method does nothing unless a part overrides it.

    A part that finds the run broken sets ``state.diverged_at``: the parts after it skip that
    epoch and the run stops, so nothing broken is saved.

    Example:
        >>> class SaveNotes(Callback):
        ...     def on_epoch_end(self, state):
        ...         if state.saving:
        ...             state.log(f"epoch {state.epoch} saves")
        >>> state, notes = RunState(epochs=10, save_every=5), SaveNotes()
        >>> for epoch in range(10):
        ...     last = state.take_epoch(epoch, 0, 0.69, 0.69)
        ...     notes.on_epoch_end(state)
        epoch 0 saves
        epoch 5 saves
        epoch 9 saves
    """

    def on_train_begin(self, state):
        """Called once the networks exist, before the first epoch (resume happens here)."""

    def on_epoch_end(self, state):
        """Called after each epoch; ``state.epoch`` and its losses are the new ones."""

    def on_train_end(self, state):
        """Called once the loop has ended (its last epoch, a stop or a divergence): the last
        files are written here."""

    def close(self):
        """Let go of what the part holds (a progress bar, signal handlers, a log file).

        Called after on_train_end, and also when training fails half-way, so it must be safe
        to call more than once and before on_train_begin.
        """
