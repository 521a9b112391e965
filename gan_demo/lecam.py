"""LeCam regularisation for the stable recipe's discriminator (Tseng et al. 2021,
"Regularizing Generative Adversarial Networks under Limited Data").

A discriminator that has seen each of 5,000 frogs hundreds of times learns to push their
scores far from the fakes' and the generator's directions get noisy. LeCam keeps a moving
average of the discriminator's scores on real frogs and on fakes (the anchors) and charges it
for every real frog it scores as more real than the fakes' average, and every fake it scores
as more fake than the frogs' average: the scores stay near each other.
"""

import tensorflow as tf


class LeCam:
    """The LeCam penalty and its two anchors; a checkpoint part named "lecam".

    Scores are logits with the tutorial's labels: high says "fake".

    Args:
        weight: the penalty's weight (0.3 in the paper's CIFAR-10 runs).
        start: discriminator steps before the penalty starts; until then the anchors
            follow the latest batch (as the paper's code does, with 1,000).
        decay: the anchors' moving-average decay.

    Example:
        >>> lecam = LeCam(1.0, start=1)
        >>> fake, real = tf.constant([2.0]), tf.constant([-1.0])
        >>> float(lecam(fake, real, step=0))  # before start: the anchors take the batch's means
        0.0
        >>> [float(anchor) for anchor in lecam.variables]  # the real frogs', the fakes'
        [-1.0, 2.0]
        >>> float(lecam(fake, real, step=1))  # (2 - -1)**2 for the frog, the same for the fake
        18.0
    """

    def __init__(self, weight, start=1000, decay=0.99):
        self.weight, self.start, self.decay = weight, start, decay
        self.real = tf.Variable(0.0, trainable=False, name="lecam_real")
        self.fake = tf.Variable(0.0, trainable=False, name="lecam_fake")
        self.variables = [self.real, self.fake]

    def __call__(self, fake_logits, real_logits, step):
        """Move the anchors towards this batch's mean scores; return the weighted penalty,
        0 before ``start`` discriminator steps (``step`` counts them from 0)."""
        started = tf.cast(step, tf.int64) >= self.start
        decay = tf.where(started, self.decay, 0.0)
        for anchor, logits in ((self.real, real_logits), (self.fake, fake_logits)):
            anchor.assign(decay * anchor + (1 - decay) * tf.stop_gradient(tf.reduce_mean(logits)))
        penalty = (tf.reduce_mean(tf.square(tf.nn.relu(self.fake - real_logits)))
                   + tf.reduce_mean(tf.square(tf.nn.relu(fake_logits - self.real))))
        return tf.where(started, self.weight * penalty, 0.0)
