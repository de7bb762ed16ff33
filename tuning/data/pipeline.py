"""``make_tf_dataset``: in-memory arrays to a batched, normalised ``tf.data`` pipeline for Keras."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tuning.data.rows import ImageRows, pick
from tuning.errors import ConfigError, DataError

if TYPE_CHECKING:
    import tensorflow as tf


def make_tf_dataset(
    x: np.ndarray | ImageRows, y: np.ndarray, *, batch_size: int, training: bool, seed: int = 0
) -> tf.data.Dataset:
    """Batches of (images as float32 in [0, 1], labels) from uint8 images ``x`` and labels ``y``.

    With ``training`` the order is shuffled over the whole set, differently every epoch, reproducibly
    from ``seed``; otherwise the order is kept. The last batch may be smaller. No augmentation.
    Images in memory become one tensor; ``ImageRows`` (or a memory map) are read batch by batch from
    their map, so that processes training on the same cache share its pages instead of each copying them.
    """
    import tensorflow as tf

    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ConfigError("batch_size", f"expected an integer >= 1; found {batch_size!r}.")
    if len(x) != len(y) or len(x) == 0:
        raise DataError(f"Expected as many labels as images (at least one); found {len(x)} images, {len(y)} labels.")
    # Batches are gathered by index, so shuffling moves indices, not images, and normalising runs per batch.
    # Images in memory live once as a uint8 tensor (4x smaller than float32); mapped ones stay in the map.
    labels = tf.constant(y)
    rows = pick(x)  # a memory map becomes ImageRows of all its rows
    if not isinstance(rows, ImageRows):
        images = tf.constant(rows)

        def read(idx: tf.Tensor) -> tf.Tensor:
            return tf.gather(images, idx)
    else:
        shape = (None, *rows.shape[1:])

        def read(idx: tf.Tensor) -> tf.Tensor:
            batch = tf.numpy_function(rows.__getitem__, [idx], tf.as_dtype(rows.dtype), stateful=False)
            batch.set_shape(shape)
            return batch

    order = tf.data.Dataset.range(len(x))
    if training:
        order = order.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)

    def gather(idx: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        batch = tf.cast(read(idx), tf.float32) / 255.0
        return batch, tf.gather(labels, idx)

    return order.batch(batch_size).map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
