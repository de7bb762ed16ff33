"""Shared test set-up: quiet TensorFlow, one thread pool size, artefacts folder."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Keras' cache (and our decoded CIFAR-10 copies beside it) go to a folder of this test run, not ~/.keras.
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="hpx-keras-home-"))
