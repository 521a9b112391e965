"""The command line: ``python -m gan_demo`` (or ``gan-demo``) trains; subcommands add tools.

``python -m gan_demo [OPTIONS]`` trains the tutorial's GAN (:mod:`.train`); ``make-data``,
``generate`` and ``evaluate`` build the frogs, draw frogs with a trained generator and score
them. The engines they call live outside this package; here are only the options, the checks
and the one-line errors (:mod:`.errors`).
"""

import os

# TensorFlow's C++ start-up notices (oneDNN, no CUDA driver found) would bury the tutorial's own
# output; its Python errors still show. Set here, before anything imports TensorFlow, so that
# `python -m gan_demo` and the `gan-demo` script both quiet them.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import click  # noqa: E402

from gan_demo.commands import evaluate, generate, make_data, train  # noqa: E402
from gan_demo.commands.errors import OneLineErrors  # noqa: E402


@click.group(cls=OneLineErrors, invoke_without_command=True, help=train.HELP,
             context_settings={"help_option_names": ["-h", "--help"]})
@train.options
@click.pass_context
def main(ctx, **options):
    """Train (no subcommand), or pass the group's context on to a subcommand."""
    if ctx.invoked_subcommand is None:
        train.train(ctx, **options)


for command in (make_data.make_data, generate.generate, evaluate.evaluate):
    main.add_command(command)
