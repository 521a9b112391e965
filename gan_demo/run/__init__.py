"""What watches a training run: the tutorial's plain printing, or the full tool around it.

A training loop calls a run's four hooks (hooks.py): ``begin``, ``log``, ``end_epoch`` and
``finish``. A run passes them on to its parts, each a small Keras-style callback with one job:

=================  ===================================================================
console.py         the progress bar, and the run's lines printed above it
guards.py          divergence (stop before saving NaNs), mode collapse (warn once)
losses.py          the loss history, losses.csv and losses.png
grids.py           grid_{epoch}.png from fixed latent vectors, progress.gif at the end
checkpoints.py     checkpoint.npz at every save, and --resume from it
summaries.py       TensorBoard summaries (--logdir)
generator_file.py  generator.keras at the end
signals.py         Ctrl-C and SIGTERM: finish the epoch, save, say how to continue
tutorial_lines.py  the tutorial's log line and generated_frog_{epoch}.png (stable.main)
=================  ===================================================================

:class:`Run` only prints (the tutorial); :class:`TrainingRun` puts the parts together.
"""

from gan_demo.run.callback import Callback, RunState
from gan_demo.run.guards import sample_diversity
from gan_demo.run.hooks import Run
from gan_demo.run.training import TrainingRun
from gan_demo.run.tutorial_lines import TutorialLines

__all__ = ["Callback", "Run", "RunState", "TrainingRun", "TutorialLines", "sample_diversity"]
