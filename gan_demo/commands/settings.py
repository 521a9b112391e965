"""A run's settings: a new run's from the options given, a resumed run's from its checkpoint.

They are what a checkpoint records (gan_demo.checkpoint lists the keys), so that --resume
trains on exactly as the run was started: the same recipe with all its settings, the same
precision.
"""

from dataclasses import replace

from click.core import ParameterSource

from gan_demo import program
from gan_demo.checkpoint import CheckpointError, checkpoint_path, read_checkpoint
from gan_demo.commands.errors import UserError
from gan_demo.stable import StableRecipe

# the --recipe choices
RECIPES = ("tutorial", "stable")
# the Keras dtype policy without and with --mixed-precision
PRECISIONS = {False: "float32", True: "mixed_bfloat16"}
# the options a checkpoint records: --resume takes them from it, and refuses others
RECORDED = (("--recipe", "recipe"), ("--width", "width"), ("--batch-size", "batch_size"))


def recipe_sizes(recipe, width=None, batch_size=None):
    """The width and batch size a run trains with: those given, else the recipe's."""
    if recipe == "stable":
        return width or StableRecipe.width, batch_size or StableRecipe.batch_size
    return width or program.tutorial_width, batch_size or program.batch_size


def run_settings(recipe, width=None, batch_size=None, precision="float32"):
    """The settings a new run trains with and its checkpoint records, for --resume.

    Args:
        recipe: "tutorial", "stable" (the default :class:`StableRecipe`), or a StableRecipe.
        width, batch_size: the sizes given, or None for the recipe's.
        precision: the Keras dtype policy: "float32" or "mixed_bfloat16".

    Returns:
        A JSON-able dict; gan_demo.checkpoint lists its keys.
    """
    if recipe == "stable":
        recipe = StableRecipe()
    if isinstance(recipe, StableRecipe):
        given = {"width": width, "batch_size": batch_size}
        recipe = replace(recipe, **{name: value for name, value in given.items() if value})
        recipe_settings = {"recipe": "stable", **recipe.settings()}
    else:
        width, batch_size = recipe_sizes(recipe, width, batch_size)
        recipe_settings = {"recipe": recipe, "width": width, "batch_size": batch_size}
    return {**recipe_settings, "latent_dimensions": program.latent_dimensions,
            "precision": precision}


def resumed_settings(ctx, output, epochs):
    """The settings of the run to resume in ``output``, refusing options that contradict them.

    Raises:
        UserError: if there is no usable checkpoint, an option given contradicts it, or the
            run has already trained ``epochs``.
    """
    path = checkpoint_path(output)
    try:
        saved = read_checkpoint(path)
    except CheckpointError as error:
        raise UserError(str(error)) from None
    settings = {name: value for name, value in saved["settings"].items() if name != "format"}
    _check_saved_settings(settings, path)
    for option, name in RECORDED:
        given = ctx.params[name]
        explicit = ctx.get_parameter_source(name) is not ParameterSource.DEFAULT
        if explicit and given != settings[name]:
            raise UserError(f"the run in '{output}' was trained with {option} "
                            f"{settings[name]}, not {given}: drop {option} to resume it")
    if ctx.params["mixed_precision"] and settings["precision"] != PRECISIONS[True]:
        raise UserError(f"the run in '{output}' was trained without --mixed-precision: drop "
                        f"--mixed-precision to resume it")
    first_epoch = int(saved["epoch"]) + 1
    if first_epoch >= epochs:
        raise UserError(f"the run in '{output}' has already trained {first_epoch:,} epoch"
                        f"{'' if first_epoch == 1 else 's'}: pass a larger --epochs to "
                        f"continue it")
    return settings


def _check_saved_settings(settings, path):
    """Refuse, in one line, settings a checkpoint cannot have been saved with."""
    try:
        missing = [name for name in ("recipe", "width", "batch_size", "latent_dimensions",
                                     "precision") if name not in settings]
        if missing:
            raise KeyError(missing[0])
        if settings["recipe"] not in RECIPES or settings["precision"] not in PRECISIONS.values():
            raise ValueError(f"recipe {settings['recipe']!r}, precision "
                             f"{settings['precision']!r}")
        if settings["recipe"] == "stable":
            StableRecipe.from_settings(settings)
    except (KeyError, TypeError, ValueError) as error:
        raise UserError(f"{path} holds settings this gan_demo cannot train with ({error}); "
                        f"start a fresh --output") from None
