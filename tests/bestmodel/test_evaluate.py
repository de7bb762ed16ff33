"""Evaluating a real search's best model on its held-out test set; per-class scores; the gallery."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from tuning.bestmodel import Evaluation, HeldOutSet, evaluate, evaluate_saved, gallery, load_best_model
from tuning.bestmodel.evaluate import class_scores
from tuning.data import SYNTHETIC_CLASSES
from tuning.engine.hypermodel import one_hot
from tuning.errors import DataError
from tuning.results import load_project


@pytest.fixture(scope="module")
def evaluated(finished: Path) -> tuple[Evaluation, HeldOutSet, keras.Model]:
    result = load_project(finished)
    evaluation, test_set = evaluate_saved(result, "best")
    return evaluation, test_set, load_best_model(result)


def test_metrics_match_a_recomputation(evaluated: tuple[Evaluation, HeldOutSet, keras.Model]) -> None:
    evaluation, test_set, model = evaluated
    images = test_set.x.astype("float32") / 255.0
    probabilities = model(images, training=False).numpy()
    predicted = probabilities.argmax(axis=1)
    np.testing.assert_array_equal(evaluation.y_pred, predicted)
    np.testing.assert_array_equal(evaluation.y_true, test_set.y)
    assert 0.0 <= evaluation.accuracy <= 1.0
    assert evaluation.accuracy == np.count_nonzero(predicted == test_set.y) / 100
    assert evaluation.mistakes == np.count_nonzero(predicted != test_set.y) and evaluation.total == 100
    expected_loss = model.evaluate(images, one_hot(test_set.y), batch_size=100, verbose=0, return_dict=True)["loss"]
    assert evaluation.loss == pytest.approx(expected_loss, rel=1e-4)
    np.testing.assert_allclose(evaluation.confidence, probabilities.max(axis=1), rtol=1e-5)
    np.testing.assert_array_equal(evaluation.indices, np.arange(100))


def test_confusion_matrix_and_classes(evaluated: tuple[Evaluation, HeldOutSet, keras.Model]) -> None:
    evaluation, test_set, _ = evaluated
    assert evaluation.class_names == SYNTHETIC_CLASSES == test_set.class_names
    assert evaluation.confusion.shape == (10, 10) and evaluation.confusion.sum() == len(test_set) == 100
    expected = np.zeros((10, 10), dtype=int)
    np.add.at(expected, (evaluation.y_true, evaluation.y_pred), 1)
    np.testing.assert_array_equal(evaluation.confusion, expected)
    assert np.trace(evaluation.confusion) == round(evaluation.accuracy * 100)
    table = evaluation.per_class_table()
    assert list(table["class"]) == list(SYNTHETIC_CLASSES) and list(table["support"]) == [10] * 10
    recall = np.diag(expected) / expected.sum(axis=1)
    np.testing.assert_allclose(table["recall"], recall)


def test_per_class_scores_by_hand() -> None:
    # class a: 2 images, 1 right; class b: 1 image, right, predicted 2 times; class c: no image, never predicted
    scores = class_scores(np.array([0, 0, 1]), np.array([0, 1, 1]), ("a", "b", "c"))
    a, b, c = scores
    assert (a.precision, a.recall, a.f1, a.support) == (1.0, 0.5, pytest.approx(2 / 3), 2)
    assert (b.precision, b.recall, b.f1, b.support) == (0.5, 1.0, pytest.approx(2 / 3), 1)
    assert (c.name, c.precision, c.recall, c.support) == ("c", None, None, 0)


def test_gallery_all_and_mistakes(evaluated: tuple[Evaluation, HeldOutSet, keras.Model]) -> None:
    evaluation, test_set, _ = evaluated
    everything = gallery(evaluation, test_set, limit=100)
    assert [item.index for item in everything] == list(range(100))
    first = everything[0]
    np.testing.assert_array_equal(first.image, test_set.x[0])
    assert first.true_label == SYNTHETIC_CLASSES[test_set.y[0]]
    assert first.predicted_label == SYNTHETIC_CLASSES[evaluation.y_pred[0]]
    assert first.caption.endswith(f"true: {first.true_label}")
    assert len(gallery(evaluation, test_set, limit=7)) == 7
    mistakes = gallery(evaluation, test_set, mistakes_only=True, limit=100)
    assert len(mistakes) == evaluation.mistakes
    assert all(not item.correct and item.caption.startswith("✗") for item in mistakes)
    assert [m.confidence for m in mistakes] == sorted((m.confidence for m in mistakes), reverse=True)
    circles = gallery(evaluation, test_set, true_class="circle", limit=100)
    assert len(circles) == 10 and {item.true_label for item in circles} == {"circle"}


def test_empty_test_set_and_wrong_outputs_are_refused(evaluated: tuple[Evaluation, HeldOutSet, keras.Model]) -> None:
    _, test_set, model = evaluated
    empty = HeldOutSet(test_set.name, test_set.label, test_set.class_names, test_set.x[:0], test_set.y[:0])
    with pytest.raises(DataError, match="test set is empty"):
        evaluate(model, empty)
    three = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(3)])
    three.compile(loss="categorical_crossentropy")
    with pytest.raises(DataError, match=r"one probability per class \(10: circle, square"):
        evaluate(three, test_set)
