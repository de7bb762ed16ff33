"""The CIFAR-10 HyperModel: a point of the search space becomes a compiled Keras CNN, and is trained.

``build_model(values)`` is a pure function of the hyperparameter values (the best-model page rebuilds a
model from a trial's saved values with it). ``CifarHyperModel`` declares the space on Keras Tuner's
``HyperParameters`` and tunes the batch size and the number of epochs in ``fit``; under Hyperband the
epochs come from Hyperband (``epochs``/``initial_epoch`` passed by the tuner).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import keras
import keras_tuner
import numpy as np

from tuning.data import make_tf_dataset

if TYPE_CHECKING:
    from tuning.space.searchspace import SearchSpace

INPUT_SHAPE = (32, 32, 3)
NUM_CLASSES = 10

# A small, sensible CNN (two conv blocks of 16 and 32 filters, a 64-unit dense layer): a reference point
# for tests and benchmarks, the kind of model a first search tries.
SMALL_CNN: dict[str, Any] = {
    "conv_blocks": 2, "filters": 16, "filter_growth": "double", "kernel_size": 3, "pooling": "max",
    "batch_norm": False, "dense_layers": 1, "dense_units": 64, "activation": "relu", "dropout": 0.0,
    "weight_decay": 0.0, "augment": False, "optimizer": "adam", "learning_rate": 1e-3, "momentum": None,
    "loss": "crossentropy", "batch_size": 64, "epochs": 3,
}  # fmt: skip

# Keras' default (0.99) needs hundreds of steps before the moving statistics used at evaluation match the
# data: short trials on a few thousand images then score at chance on validation however well they train.
BN_MOMENTUM = 0.9

_OPTIMIZERS = {
    "sgd": keras.optimizers.SGD,
    "adam": keras.optimizers.Adam,
    "rmsprop": keras.optimizers.RMSprop,
    "adamw": keras.optimizers.AdamW,
}


def make_optimizer(values: dict[str, Any]) -> keras.optimizers.Optimizer:
    """The optimizer named by ``values["optimizer"]`` with its learning rate, momentum and weight decay."""
    name = values["optimizer"]
    kwargs: dict[str, Any] = {"learning_rate": float(values["learning_rate"])}
    decay = float(values.get("weight_decay") or 0.0)
    if name == "adamw" or decay > 0:
        kwargs["weight_decay"] = decay
    if name in ("sgd", "rmsprop") and values.get("momentum") is not None:
        kwargs["momentum"] = float(values["momentum"])
    return _OPTIMIZERS[name](**kwargs)


def make_loss(values: dict[str, Any]) -> keras.losses.Loss:
    """Cross-entropy, cross-entropy with label smoothing, or focal loss (labels are one-hot)."""
    loss = values["loss"]
    if loss == "label_smoothing":
        return keras.losses.CategoricalCrossentropy(label_smoothing=float(values["label_smoothing"]))
    if loss == "focal":
        return keras.losses.CategoricalFocalCrossentropy(gamma=float(values["focal_gamma"]))
    return keras.losses.CategoricalCrossentropy()


def _conv_block(x: Any, filters: int, values: dict[str, Any]) -> Any:
    use_bn = bool(values["batch_norm"])
    x = keras.layers.Conv2D(filters, int(values["kernel_size"]), padding="same", use_bias=not use_bn)(x)
    if use_bn:
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = keras.layers.Activation(values["activation"])(x)
    pool = keras.layers.MaxPooling2D if values["pooling"] == "max" else keras.layers.AveragePooling2D
    return pool(2)(x)


def build_model(values: dict[str, Any], *, num_classes: int = NUM_CLASSES, seed: int | None = None) -> keras.Model:
    """A compiled CNN for 32x32 RGB images in [0, 1], as described by the hyperparameter ``values``."""
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    x = inputs
    if values.get("augment"):
        x = keras.layers.RandomFlip("horizontal", seed=seed)(x)
        x = keras.layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=seed)(x)
    filters = int(values["filters"])
    for _ in range(int(values["conv_blocks"])):
        x = _conv_block(x, filters, values)
        if values["filter_growth"] == "double":
            filters *= 2
    x = keras.layers.Flatten()(x)
    dropout = float(values.get("dropout") or 0.0)
    for _ in range(int(values.get("dense_layers") or 0)):
        x = keras.layers.Dropout(dropout)(x) if dropout > 0 else x
        x = keras.layers.Dense(int(values["dense_units"]), activation=values["activation"])(x)
    x = keras.layers.Dropout(dropout)(x) if dropout > 0 else x
    # float32 outputs whatever the policy: under mixed precision a float16 softmax loses small probabilities
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="class", dtype="float32")(x)
    model = keras.Model(inputs, outputs, name="cifar_cnn")
    model.compile(optimizer=make_optimizer(values), loss=make_loss(values), metrics=["accuracy"])
    return model


def one_hot(labels: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Integer labels as float32 one-hot rows (every loss here takes one-hot targets)."""
    return np.eye(num_classes, dtype="float32")[np.asarray(labels, dtype="int64")]


class CifarHyperModel(keras_tuner.HyperModel):
    """Declares the search space on Keras Tuner and trains one point of it.

    ``tune_epochs`` is False under Hyperband: Hyperband decides every trial's epochs. With ``declare_only``,
    ``build`` declares the space and builds no model: what the leader of a group needs, which serves the
    oracle and never trains (TensorFlow then never starts its runtime in that process).
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        tune_epochs: bool = True,
        seed: int = 0,
        num_classes: int = NUM_CLASSES,
        declare_only: bool = False,
    ) -> None:
        super().__init__(name="cifar_cnn", tunable=True)
        self.space = space
        self.declare_only = declare_only
        self.tune_epochs = tune_epochs
        self.seed = seed
        self.num_classes = num_classes

    def values(self, hp: keras_tuner.HyperParameters) -> dict[str, Any]:
        """Declare the space on ``hp`` and return the trial's values (None for inactive ones)."""
        return self.space.declare(hp, include_epochs=self.tune_epochs)

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model | None:
        if self.declare_only:
            self.values(hp)
            return None
        keras.utils.set_random_seed(self.seed)  # the same configuration starts from the same weights
        return build_model(self.values(hp), num_classes=self.num_classes, seed=self.seed)

    def fit(
        self,
        hp: keras_tuner.HyperParameters,
        model: keras.Model,
        x: np.ndarray,
        y: np.ndarray,
        *,
        validation_data: tuple[np.ndarray, np.ndarray],
        epochs: int | None = None,
        initial_epoch: int = 0,
        callbacks: list[keras.callbacks.Callback] | None = None,
        **kwargs: Any,
    ) -> keras.callbacks.History:
        values = self.values(hp)
        batch_size = int(values["batch_size"])
        if epochs is None:
            epochs = int(values["epochs"])
        train = make_tf_dataset(x, one_hot(y, self.num_classes), batch_size=batch_size, training=True, seed=self.seed)
        x_val, y_val = validation_data
        val = make_tf_dataset(x_val, one_hot(y_val, self.num_classes), batch_size=batch_size, training=False)
        kwargs.pop("batch_size", None)
        kwargs.setdefault("verbose", 0)
        kwargs["shuffle"] = False  # the tf.data pipeline shuffles; Keras would warn and ignore it
        return model.fit(
            train,
            validation_data=val,
            epochs=epochs,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            **kwargs,
        )
