"""The console: a progress bar of epochs, and the run's lines printed above it."""

import sys

from tqdm import tqdm

from gan_demo.run.callback import Callback


class Console(Callback):
    """A progress bar with steps/s, ETA and the last losses; ``write`` prints above it.

    Args:
        file: where the bar goes (stderr); it stays silent where that is not a terminal, so
            logs and CI output stay clean.
    """

    def __init__(self, file=None):
        self.file = file
        self.bar = None

    def write(self, text):
        """Print one line on stdout, above the bar when there is one."""
        if self.bar is not None:
            self.bar.write(text, file=sys.stdout)
            sys.stdout.flush()
        else:
            print(text, flush=True)

    def on_train_begin(self, state):
        self.bar = tqdm(total=state.epochs, initial=state.first_epoch, unit="step",
                        dynamic_ncols=True, disable=None, desc="Epoch", file=self.file)

    def on_epoch_end(self, state):
        self.bar.update(1)
        self.bar.set_postfix_str(f"D {state.discriminator_loss:.3f}  G {state.gan_loss:.3f}",
                                 refresh=False)

    def on_train_end(self, state):
        self.close()  # before the run's last lines, so they print below the finished bar

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
