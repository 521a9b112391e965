"""Ctrl-C and SIGTERM: finish the epoch, save, write the last files, say how to continue."""

import signal

from gan_demo.checkpoint import checkpoint_path
from gan_demo.run.callback import Callback

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Signals(Callback):
    """Catch SIGINT and SIGTERM while the run lasts: the first sets ``state.stop`` and
    ``state.stopped_by``, a second one stops at once (KeyboardInterrupt; the last checkpoint
    stays).

    It must be the last part: the signals stay caught until every other part has written its
    last files (progress.gif, generator.keras), so a Ctrl-C cannot cut those short.

    Args:
        resume_command: the command line that continues the run, shown when it is stopped.
    """

    def __init__(self, resume_command):
        self.resume_command = resume_command
        self.state = None
        self.old_handlers = {}

    def on_train_begin(self, state):
        self.state = state
        for signum in SIGNALS:
            self.old_handlers[signum] = signal.signal(signum, self.on_signal)

    def on_signal(self, signum, frame):
        """The handler: ask the run to stop after this epoch (it saves first)."""
        if self.state.stopped_by is not None:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now, the last checkpoint stays
        self.state.stopped_by = signum
        self.state.stop = True
        self.state.log(f"{signal.Signals(signum).name}: saving a checkpoint after this epoch "
                       f"(again to quit at once)...")

    def on_train_end(self, state):
        self.close()
        if state.stopped_by is not None:
            done = state.losses[-1][0] + 1 if state.losses else 0
            state.log(f"Stopped by {signal.Signals(state.stopped_by).name} after {done:,} "
                      f"epochs; checkpoint saved in {checkpoint_path(state.output)}. "
                      f"Continue with: {self.resume_command}")

    def close(self):
        """Give the signals back to the handlers they had before the run."""
        for signum, handler in self.old_handlers.items():
            signal.signal(signum, handler)
        self.old_handlers = {}
