"""TrainingRun: the tutorial's run with the parts a student needs to watch, stop and resume it."""

from gan_demo.run.callback import RunState
from gan_demo.run.checkpoints import Checkpoint
from gan_demo.run.console import Console
from gan_demo.run.generator_file import SaveGenerator
from gan_demo.run.grids import Grids
from gan_demo.run.guards import CollapseWatch, DivergenceGuard
from gan_demo.run.hooks import Run
from gan_demo.run.losses import LossHistory
from gan_demo.run.signals import Signals
from gan_demo.run.summaries import TensorBoard


class TrainingRun(Run):
    """A run a student can watch, stop and resume; everything it writes goes to ``output``.

    Args:
        output: the folder for grids, progress.gif, losses.csv/png, checkpoint.npz and
            generator.keras (beside program.py's generated_frog_{epoch}.png).
        epochs: the epoch the run ends at (for the progress bar and the final save).
        save_every: save pictures and a checkpoint every this many epochs.
        settings: facts of the run stored in the checkpoint (width, batch size, ...).
        resume: continue from the checkpoint in ``output``.
        logdir: a TensorBoard log folder, or None.
        grid_seed: seed of the fixed latent vectors the grids show; None picks one.
        latent_dimensions: the generator's input size.
        resume_command: the command line that continues this run, shown when it is stopped.
        reseed: on resume, reseed NumPy's random numbers with this after restoring them, so
            the run takes another path from the checkpoint on; None continues exactly.
    """

    def __init__(self, output, epochs, save_every, settings, resume=False, logdir=None,
                 grid_seed=None, latent_dimensions=32, resume_command=None, reseed=None):
        self.state = RunState(log=self.log, output=output, epochs=epochs, save_every=save_every)
        self.console = Console()
        # The order matters where a part needs another's work:
        # - the guard first, so nothing of a diverged epoch is recorded or saved;
        # - the checkpoint after every file of a save, and (on resume) before the console,
        #   whose progress bar starts at the restored epoch;
        # - Signals last, so Ctrl-C stays caught until every last file is written.
        self.callbacks = [
            DivergenceGuard(),
            LossHistory(),
            Grids(grid_seed, latent_dimensions),
            CollapseWatch(),
            Checkpoint(settings, resume, reseed),
            self.console,
            *([TensorBoard(logdir)] if logdir else []),
            SaveGenerator(),
            Signals(resume_command or f"python -m gan_demo --resume --output {output}"),
        ]

    def log(self, text):
        """Print one line, above the progress bar."""
        self.console.write(text)
