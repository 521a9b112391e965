"""What the tutorial's loop writes: its log line now and then, a generated frog at saves."""

import os

from gan_demo.run.callback import Callback
from kerasutil import Gan


class TutorialLines(Callback):
    """Print "Epoch: {e}, Discriminator loss: ..., Gan loss: ..." every ``log_every`` epochs
    and write generated_frog_{epoch}.png every ``save_every``, as program.main's loop does in
    its own lines; a loop that does not mirror the tutorial (stable.main) prepends this part
    instead.

    Args:
        output: the folder for generated_frog_{epoch}.png.
        save_every: save a generated frog every this many epochs.
        log_every: print the losses every this many epochs (the tutorial's 100:
            ``gan_demo.program.log_every``).
        latent_dimensions: the sampler's input size.
    """

    def __init__(self, output, save_every, log_every, latent_dimensions):
        self.output = output
        self.save_every = save_every
        self.log_every = log_every
        self.latent_dimensions = latent_dimensions

    def on_epoch_end(self, state):
        epoch = state.epoch
        if epoch % self.log_every == 0:
            state.log(f"Epoch: {epoch}, Discriminator loss: {state.discriminator_loss}, "
                      f"Gan loss: {state.gan_loss}")
        if epoch % self.save_every == 0:
            # one new frog from NumPy's random numbers (a training step's own stay the same
            # whatever --save-every is)
            frog = Gan.generate_images(state.sampler, 1, self.latent_dimensions)[0]
            height, width = frog.shape[:2]
            Gan.save_image(frog, width, height,
                           os.path.join(self.output, f"generated_frog_{epoch}.png"))
