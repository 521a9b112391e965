"""What watches a training run: the tutorial's plain printing, or the full tool around it.

``program.main`` calls a run's four hooks: ``begin`` once the networks and learners exist,
``log`` for each line it prints, ``end_epoch`` after each epoch, and ``finish`` at the end.
:class:`Run` only prints (the tutorial); :class:`TrainingRun` adds a progress bar, grids, a GIF,
the loss history and its plot, TensorBoard summaries, checkpoints, exact resume, and a clean
stop on Ctrl-C or SIGTERM.
"""

import csv
import glob
import os
import re
import signal
import sys

import keras
import numpy as np
import tensorflow as tf
from PIL import Image
from tqdm import tqdm

from gan_demo import checkpoint as checkpoints
from gan_demo.pictures import grid_image, plot_losses, save_gif, save_picture
from kerasutil.files import atomic_path, remove_stale_temporaries

GRID_FROGS = 64
GIF_MAX_FRAMES = 100
GIF_SCALE = 2
# grid frogs whose mean RMS difference (pixels in [0, 1]) falls below this are near-identical
COLLAPSE_DIVERSITY = 0.02


class Run:
    """The tutorial's run: it prints its lines and keeps nothing."""

    stopped_by = None
    diverged_at = None

    def begin(self, generator, discriminator, discriminator_learner, gan_learner,
              extra_parts=None, sampler=None):
        """Return (first epoch, data cursor): (0, 0) for a new run.

        ``extra_parts`` (name: object with ``.variables``) are checkpointed too; ``sampler``
        (default: the generator) draws the grids and becomes generator.keras, its outputs in
        save_image's [0, 1].
        """
        return 0, 0

    def log(self, text):
        print(text, flush=True)

    def end_epoch(self, epoch, start, discriminator_loss, gan_loss):
        """Record an epoch; return True to stop training."""
        return False

    def finish(self):
        pass


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
        self.reseed = reseed
        self.resume_command = resume_command or f"python -m gan_demo --resume --output {output}"
        self.output = output
        self.epochs = epochs
        self.save_every = save_every
        self.settings = settings
        self.resume = resume
        self.logdir = logdir
        self.grid_latents = np.random.default_rng(grid_seed).standard_normal(
            (GRID_FROGS, latent_dimensions)).astype(np.float32)
        self.losses = []
        self.stopped_by = None
        self.diverged_at = None
        self.collapse_warned = False
        self._peak_diversity = 0.0
        self._bar = None
        self._writer = None
        self._old_handlers = {}

    # -- the hooks program.main calls -------------------------------------------------------

    def begin(self, generator, discriminator, discriminator_learner, gan_learner,
              extra_parts=None, sampler=None):
        self.generator = sampler or generator
        self.parts = {"generator": generator, "discriminator": discriminator,
                      "discriminator_learner": discriminator_learner, "gan_learner": gan_learner,
                      **(extra_parts or {})}
        remove_stale_temporaries(self.output)
        first_epoch, start = (self._restore() if self.resume else (0, 0))
        if self.logdir:
            self._writer = tf.summary.create_file_writer(self.logdir)
        self._bar = _progress_bar(first_epoch, self.epochs)
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._old_handlers[signum] = signal.signal(signum, self._on_signal)
        return first_epoch, start

    def log(self, text):
        if self._bar is not None:
            self._bar.write(text, file=sys.stdout)
            sys.stdout.flush()
        else:
            super().log(text)

    def end_epoch(self, epoch, start, discriminator_loss, gan_loss):
        if not np.isfinite([discriminator_loss, gan_loss]).all():
            self._diverged(epoch, discriminator_loss, gan_loss)
            return True
        self.losses.append((epoch, discriminator_loss, gan_loss))
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix_str(f"D {discriminator_loss:.3f}  G {gan_loss:.3f}",
                                      refresh=False)
        if self._writer is not None:
            self._summarise_losses(epoch, discriminator_loss, gan_loss)
        last = epoch == self.epochs - 1 or self.stopped_by is not None
        if epoch % self.save_every == 0 or last:
            if not self._weights_are_finite():
                self._diverged(epoch, discriminator_loss, gan_loss)
                return True
            self.save(epoch, start)
        return self.stopped_by is not None

    def _weights_are_finite(self):
        return all(np.isfinite(np.asarray(v)).all()
                   for part in self.parts.values() for v in part.variables)

    def _diverged(self, epoch, discriminator_loss, gan_loss):
        """Stop without saving: the last checkpoint holds the last good weights."""
        self.diverged_at = epoch
        path = checkpoints.checkpoint_path(self.output)
        kept = (f"the last good checkpoint, {path}, is kept: --resume restarts from it "
                f"(add --seed N to take another path)" if os.path.exists(path)
                else "no checkpoint was saved yet: start again with another --seed")
        self.log(f"Training diverged at epoch {epoch} (discriminator loss {discriminator_loss}, "
                 f"gan loss {gan_loss}); {kept}.")

    def finish(self):
        try:
            self.close()
            self._write_gif()
            if hasattr(self, "generator") and self.diverged_at is None:
                self._save_generator()
        finally:
            self.close()
        if self.stopped_by is not None:
            done = self.losses[-1][0] + 1 if self.losses else 0
            self.log(f"Stopped by {signal.Signals(self.stopped_by).name} after {done:,} epochs; "
                     f"checkpoint saved in {checkpoints.checkpoint_path(self.output)}. "
                     f"Continue with: {self.resume_command}")

    def close(self):
        """Close the progress bar and give Ctrl-C back; safe to call more than once.

        The command line calls it whatever happens, so a run that ends with an error (a full
        disk, say) does not keep catching signals in the process that ran it.
        """
        if self._bar is not None:
            self._bar.close()
        for signum, handler in self._old_handlers.items():
            signal.signal(signum, handler)
        self._old_handlers = {}

    # -- saving -----------------------------------------------------------------------------

    def save(self, epoch, start):
        """Write grid_{epoch}.png, losses.csv, losses.png and the checkpoint."""
        images = np.asarray(self.generator(self.grid_latents, training=False))
        self._watch_collapse(epoch, images)
        grid = grid_image(images)
        save_picture(grid, os.path.join(self.output, f"grid_{epoch}.png"))
        self._write_losses_csv()
        plot_losses(self.losses, os.path.join(self.output, "losses.png"))
        checkpoints.save_checkpoint(
            checkpoints.checkpoint_path(self.output), self.parts, epoch, start, self.losses,
            self.grid_latents, self.settings)
        if self._writer is not None:
            with self._writer.as_default():
                tf.summary.image("grid", np.asarray(grid)[None], step=epoch)
            self._writer.flush()

    def _watch_collapse(self, epoch, images):
        """Warn once when the grid's frogs, diverse before, have become near-identical."""
        diversity = sample_diversity(images)
        self._peak_diversity = max(self._peak_diversity, diversity)
        # an untrained generator's frogs are alike too: only a fall from diversity is collapse
        if self.collapse_warned or diversity >= COLLAPSE_DIVERSITY \
                or self._peak_diversity < 3 * COLLAPSE_DIVERSITY:
            return
        self.collapse_warned = True
        self.log(f"Warning: mode collapse at epoch {epoch}: the 64 frogs of grid_{epoch}.png "
                 f"are near-identical (mean difference {diversity:.3f}, down from "
                 f"{self._peak_diversity:.3f}). The tutorial's GAN often does this: train on, "
                 f"or start again with another --seed, or try --recipe stable.")

    def _write_losses_csv(self):
        with atomic_path(os.path.join(self.output, "losses.csv")) as temporary:
            with open(temporary, "w", newline="") as file:
                writer = csv.writer(file)
                writer.writerow(["epoch", "discriminator loss", "gan loss"])
                writer.writerows((int(e), repr(float(d)), repr(float(g)))
                                 for e, d, g in self.losses)

    def _write_gif(self):
        paths = sorted(glob.glob(os.path.join(self.output, "grid_*.png")), key=_grid_epoch)
        if not paths:
            return
        # evenly spaced grids, always with the last one, at half the grids' size
        picks = np.unique(np.linspace(0, len(paths) - 1, GIF_MAX_FRAMES).round().astype(int))
        frames = []
        for index in picks:
            with Image.open(paths[index]) as grid:
                size = (grid.width * GIF_SCALE // 4, grid.height * GIF_SCALE // 4)
                frames.append(grid.resize(size, resample=0).convert("RGB"))
        save_gif(frames, os.path.join(self.output, "progress.gif"))

    def _save_generator(self):
        # a plain functional model of the same layers: it loads without kerasutil installed
        plain = keras.Model(self.generator.input, self.generator.output, name="generator")
        with atomic_path(os.path.join(self.output, "generator.keras")) as temporary:
            plain.save(temporary)

    def _summarise_losses(self, epoch, discriminator_loss, gan_loss):
        with self._writer.as_default():
            tf.summary.scalar("loss/discriminator", discriminator_loss, step=epoch)
            tf.summary.scalar("loss/gan", gan_loss, step=epoch)

    # -- resuming and stopping --------------------------------------------------------------

    def _restore(self):
        path = checkpoints.checkpoint_path(self.output)
        saved = checkpoints.read_checkpoint(path)
        for name, part in self.parts.items():
            checkpoints.restore_variables(saved, name, part, path)
        checkpoints.restore_random_state(saved)
        self.losses = [tuple(row) for row in saved["losses"].tolist()]
        self.grid_latents = saved["grid_latents"]
        if self.reseed is not None:
            np.random.seed(self.reseed)  # a new path from here, e.g. around a divergence
            for part in self.parts.values():
                if hasattr(part, "reseed"):  # the stable recipe's own random numbers
                    part.reseed(self.reseed)
        return int(saved["epoch"]) + 1, int(saved["start"])

    def _on_signal(self, signum, frame):
        if self.stopped_by is not None:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now, the last checkpoint stays
        self.stopped_by = signum
        self.log(f"{signal.Signals(signum).name}: saving a checkpoint after this epoch "
                 f"(again to quit at once)...")


def _progress_bar(first_epoch, epochs, file=None):
    """A progress bar of epochs with steps/s, ETA and losses; silent where ``file`` (stderr)
    is not a terminal, so logs and CI output stay clean."""
    return tqdm(total=epochs, initial=first_epoch, unit="step", dynamic_ncols=True,
                disable=None, desc="Epoch", file=file)


def sample_diversity(images):
    """The mean RMS difference between two of ``images`` (pixels clipped to [0, 1]).

    About 0.3 for real frogs; near 0 when a generator draws the same frog for every input.
    """
    flat = np.clip(np.nan_to_num(np.asarray(images, np.float64)), 0, 1).reshape(len(images), -1)
    if len(flat) < 2:
        return 0.0
    squares = np.sum(flat ** 2, axis=1)
    distances = np.maximum(squares[:, None] + squares[None, :] - 2 * flat @ flat.T, 0)
    pairs = ~np.eye(len(flat), dtype=bool)
    return float(np.mean(np.sqrt(distances[pairs] / flat.shape[1])))


def _grid_epoch(path):
    return int(re.search(r"grid_(\d+)\.png$", path).group(1))


