"""The four hooks a training loop calls, passed on to the run's parts.

``program.main`` calls ``begin`` once the networks and learners exist, ``log`` for each line it
prints, ``end_epoch`` after each epoch and ``finish`` at the end. :class:`Run` turns these into
its parts' ``on_train_begin``, ``on_epoch_end`` and ``on_train_end`` (see callback.py).
"""

from gan_demo.run.callback import RunState


class Run:
    """The tutorial's run: it prints its lines, and its parts (none here) do the rest.

    Subclasses may override any hook; the benchmarks' runs override ``log`` and ``end_epoch``.
    """

    callbacks = ()  # the parts, in the order they are called
    state = None  # the RunState the parts share, from begin on (or from __init__)

    @property
    def stopped_by(self):
        """The signal (SIGINT or SIGTERM) that stopped the run early, or None."""
        return self.state.stopped_by if self.state is not None else None

    @property
    def diverged_at(self):
        """The epoch whose losses or weights went NaN or infinite, or None."""
        return self.state.diverged_at if self.state is not None else None

    @property
    def losses(self):
        """The rows (epoch, discriminator loss, gan loss) recorded so far."""
        return self.state.losses if self.state is not None else []

    def prepend(self, callback):
        """Put a part before the run's own ones: it does what a loop does before end_epoch.

        stable.main's loop prepends the tutorial's lines and frogs (tutorial_lines.py), which
        program.main's loop writes itself.
        """
        self.callbacks = [callback, *self.callbacks]

    def begin(self, generator, discriminator, discriminator_learner, gan_learner,
              extra_parts=None, sampler=None):
        """Start the parts; return (first epoch, data cursor): (0, 0) for a new run.

        Args:
            generator, discriminator, discriminator_learner, gan_learner: what a checkpoint
                holds, with ``extra_parts`` (name: object with ``.variables``).
            sampler: what draws the grids and becomes generator.keras, its outputs in
                save_image's [0, 1]; None for the generator.
        """
        if self.state is None:
            self.state = RunState(log=self.log)
        state = self.state
        state.parts = {"generator": generator, "discriminator": discriminator,
                       "discriminator_learner": discriminator_learner,
                       "gan_learner": gan_learner, **(extra_parts or {})}
        state.sampler = sampler or generator
        for callback in self.callbacks:
            callback.on_train_begin(state)
        return state.first_epoch, state.start

    def log(self, text):
        """Print one line of the run."""
        print(text, flush=True)

    def end_epoch(self, epoch, start, discriminator_loss, gan_loss):
        """Pass an epoch to each part; return True to stop training."""
        last = self.state.take_epoch(epoch, start, discriminator_loss, gan_loss)
        for callback in self.callbacks:
            callback.on_epoch_end(self.state)
            if self.state.diverged_at is not None:
                return True  # save nothing more: the last checkpoint holds good weights
        return last

    def finish(self):
        """Let each part write its last files, then close them all."""
        try:
            for callback in self.callbacks:
                callback.on_train_end(self.state)
        finally:
            self.close()

    def close(self):
        """Close every part (the progress bar, Ctrl-C's handler); safe to call more than once.

        The command line calls it whatever happens, so a run that ends with an error (a full
        disk, say) does not keep catching signals in the process that ran it.
        """
        for callback in self.callbacks:
            callback.close()
