"""Datasets: CIFAR-10 (Keras' download cache or a local copy), the built-in synthetic set, and
scikit-learn's handwritten digits (real images, offline).

``load_dataset(DataSpec(...))`` gives stratified training, validation and held-out test arrays;
``make_tf_dataset`` turns arrays into the ``tf.data`` pipeline a model trains on. CIFAR-10's images stay
in its memory-mapped cache, as ``ImageRows`` read batch by batch, so processes training on it share one
copy. TensorFlow is imported only when a pipeline is made or CIFAR-10 is downloaded.

May import: ``tuning.errors`` (and numpy, scikit-learn and TensorFlow, lazily). Nothing of the engine or
the search space.
"""

from __future__ import annotations

from tuning.data.cifar10 import CIFAR10_CLASSES, cifar10_cached, load_cifar10
from tuning.data.digits import DIGITS_CLASSES, DIGITS_LABEL
from tuning.data.loading import check_source, load_dataset, prepare_source
from tuning.data.pipeline import make_tf_dataset
from tuning.data.rows import ImageRows
from tuning.data.spec import Dataset, DataSpec, ProgressFn
from tuning.data.splits import stratified_split, stratified_subset
from tuning.data.synthetic import SYNTHETIC_CLASSES, make_synthetic

__all__ = [
    "CIFAR10_CLASSES",
    "DIGITS_CLASSES",
    "DIGITS_LABEL",
    "SYNTHETIC_CLASSES",
    "DataSpec",
    "Dataset",
    "ImageRows",
    "ProgressFn",
    "check_source",
    "cifar10_cached",
    "load_cifar10",
    "load_dataset",
    "make_synthetic",
    "make_tf_dataset",
    "prepare_source",
    "stratified_split",
    "stratified_subset",
]
