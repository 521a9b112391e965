"""One checkpoint file holding everything needed to continue a run exactly.

``checkpoint.npz`` in the output folder holds: every variable of both networks (their weights
and the dropout layer's random state), both optimizers' state, the last finished epoch, the
data cursor, NumPy's random state, the loss history, the fixed latent vectors of the grids and
the run's settings: everything ``--resume`` needs to rebuild the run (the recipe and all its
settings, the precision). It is a plain NumPy archive, read without pickle.

Format 2 (the settings as JSON): "format", "recipe" ("tutorial" or "stable"), "width",
"batch_size", "latent_dimensions", "precision" ("float32" or "mixed_bfloat16"), and for the
stable recipe every other field of its ``StableRecipe``. Format 1 recorded neither precision
nor the stable recipe's settings, so a run saved in it cannot be resumed exactly.
"""

import json
import os
import zipfile

import numpy as np

from kerasutil.data import DataError
from kerasutil.files import atomic_path

CHECKPOINT_NAME = "checkpoint.npz"
FORMAT_VERSION = 2

# the parts whose variables every checkpoint holds (both recipes add "random", the stable one
# "average")
PARTS = ("generator", "discriminator", "discriminator_learner", "gan_learner")


class CheckpointError(DataError):
    """A checkpoint that cannot be used; str() names the file and what to do."""


def checkpoint_path(output):
    """Where a run writing to ``output`` keeps its checkpoint."""
    return os.path.join(output, CHECKPOINT_NAME)


def save_checkpoint(path, parts, epoch, start, losses, grid_latents, settings):
    """Write a checkpoint, whole or not at all.

    Args:
        parts: {name: an object with ``.variables``}: networks, optimizers, random state;
            at least the PARTS.
        epoch: the last epoch finished; start: the data cursor for the next one.
        losses: rows of (epoch, discriminator loss, gan loss).
        grid_latents: the fixed latent vectors the grids are drawn from.
        settings: JSON-able facts of the run (width, batch size, latent dimensions, ...).
    """
    arrays = {f"{name}/{index}": np.asarray(variable)
              for name, part in parts.items() for index, variable in enumerate(part.variables)}
    algorithm, keys, position, has_gauss, cached = np.random.get_state()
    arrays.update({
        "numpy_random/keys": keys, "numpy_random/numbers": np.array([position, has_gauss]),
        "numpy_random/cached_gaussian": np.array(cached),
        "epoch": np.array(epoch), "start": np.array(start),
        "losses": np.asarray(losses, np.float64).reshape(-1, 3),
        "grid_latents": np.asarray(grid_latents, np.float32),
        "settings": np.array(json.dumps({"format": FORMAT_VERSION, **settings})),
    })
    with atomic_path(path) as temporary:
        np.savez(temporary, **arrays)


def read_checkpoint(path):
    """Read a checkpoint into a dict of arrays, plus its ``settings`` as a dict.

    Raises:
        CheckpointError: if the file is missing, not a checkpoint, or of another format.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"no checkpoint at '{path}': train first (a run saves one every "
                              f"--save-every epochs), or check --output")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ValueError("not an .npz archive")
        with loaded as archive:
            arrays = {name: archive[name] for name in archive.files}
        settings = json.loads(str(arrays.pop("settings")))
        if not isinstance(settings, dict):
            raise ValueError("its settings are not a JSON object")
    # a truncated or foreign file fails in many ways: each means "not a checkpoint"
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"{path} is not a gan_demo checkpoint ({error}); delete it or "
                              f"pass another one") from None
    if settings.get("format") == 1:
        raise CheckpointError(f"{path} was saved by an earlier gan_demo (checkpoint format 1, "
                              f"without its recipe's settings), which this one cannot read: "
                              f"train afresh in another --output, or pass the run's "
                              f"generator.keras to generate and evaluate")
    if settings.get("format") != FORMAT_VERSION:
        raise CheckpointError(f"{path} has checkpoint format {settings.get('format')}, this "
                              f"gan_demo reads {FORMAT_VERSION}; start a fresh --output")
    arrays["settings"] = settings
    return arrays


def restore_variables(checkpoint, name, target, path):
    """Assign a part's saved variables to ``target`` (a network or an optimizer).

    Raises:
        CheckpointError: if the saved variables do not fit ``target`` (another width, say).
    """
    count = _count(checkpoint, name)
    if not count:
        raise CheckpointError(f"{path} holds no {name}: it was saved by another recipe; resume "
                              f"it with the recipe it was trained with")
    saved = [checkpoint[f"{name}/{index}"] for index in range(count)]
    variables = list(target.variables)
    shapes = [tuple(v.shape) for v in variables]
    if [a.shape for a in saved] != shapes:
        raise CheckpointError(
            f"{path} holds a {name} of another shape (width {checkpoint['settings'].get('width')}"
            f"): resume with the same --width, or start a fresh --output")
    for variable, value in zip(variables, saved):
        variable.assign(value)


def restore_random_state(checkpoint):
    """Put NumPy's global random generator back where the checkpoint left it."""
    position, has_gauss = (int(n) for n in checkpoint["numpy_random/numbers"])
    np.random.set_state(("MT19937", checkpoint["numpy_random/keys"], position, has_gauss,
                         float(checkpoint["numpy_random/cached_gaussian"])))


class RandomState:
    """A training step's ``tf.random.Generator``, as a checkpoint part named "random"."""

    def __init__(self, rng):
        self.rng = rng
        self.variables = [rng.state]

    def reseed(self, seed):
        """Take another path from here (``--resume --seed N``)."""
        self.rng.reset_from_seed(seed)


def _count(checkpoint, name):
    return sum(1 for key in checkpoint if key.startswith(f"{name}/"))
