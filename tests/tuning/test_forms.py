"""The design page's plain form <-> SearchConfig mapping, presets and explanations."""

from __future__ import annotations

import dataclasses

import pytest

from tuning.design import forms
from tuning.space.config import TUNERS, SearchConfig
from tuning.space.hyperparameters import BY_NAME, HYPERPARAMETERS
from tuning.space.specs import Choice, Fixed, FloatRange, IntRange


@pytest.mark.parametrize("name", ["defaults", *forms.PRESETS])
def test_form_round_trips(name: str) -> None:
    config = SearchConfig() if name == "defaults" else forms.PRESETS[name]
    assert forms.config_from_form(forms.form_from_config(config)) == config


def test_presets_are_valid_and_grow() -> None:
    epochs = [forms.PRESETS[name].plan().epochs_expected for name in ("quick demo", "standard", "thorough")]
    assert all(not forms.check(config) for config in forms.PRESETS.values())
    assert epochs == sorted(epochs) and epochs[0] < epochs[-1]
    assert forms.PRESETS["quick demo"].data.name == "synthetic"


def test_every_hyperparameter_and_tuner_is_explained() -> None:
    assert set(forms.EXPLANATIONS) == set(BY_NAME)
    assert all(len(text) > 40 for text in forms.EXPLANATIONS.values())
    assert set(forms.TUNER_HELP) == set(TUNERS)


@pytest.mark.parametrize(
    ("name", "spec"),
    [
        ("conv_blocks", IntRange(1, 4, 1)),
        ("learning_rate", FloatRange(1e-4, 1e-2, None, "log")),
        ("dropout", FloatRange(0.0, 0.5, 0.1)),
        ("optimizer", Choice(("adam", "sgd"))),
        ("batch_norm", Fixed(False)),
        ("filters", Choice((16, 32))),
    ],
)
def test_choice_round_trips_each_kind_of_spec(name: str, spec: object) -> None:
    info = BY_NAME[name]
    assert forms.choice_from_spec(info, spec).to_spec(info) == spec  # type: ignore[arg-type]


def test_switching_mode_keeps_the_other_fields() -> None:
    info = BY_NAME["learning_rate"]
    choice = forms.choice_from_spec(info, FloatRange(1e-4, 1e-2, None, "log"))
    fixed = dataclasses.replace(choice, mode="fixed")
    assert fixed.to_spec(info) == Fixed(1e-4)
    assert dataclasses.replace(fixed, mode="range").to_spec(info) == FloatRange(1e-4, 1e-2, None, "log")


def test_invalid_form_gives_field_named_errors() -> None:
    form = forms.form_from_config(SearchConfig())
    form["train_size"] = 5
    form["max_trials"] = 0
    hp = dict(form["hp"])
    hp["dropout"] = forms.HPChoice("range", 0.0, low=0.6, high=0.2, step=None)
    hp["optimizer"] = forms.HPChoice("choices", "adam", values=())
    form["hp"] = hp
    errors = forms.check(forms.config_from_form(form))
    assert {"data.train_size", "max_trials", "space.dropout", "space.optimizer"} <= set(errors)
    assert "above max" in errors["space.dropout"]


def test_options_include_current_values_and_log_grids() -> None:
    assert 0.0007 in forms.options_for(BY_NAME["learning_rate"], 0.0007)
    assert forms.log_grid(1e-4, 1e-2)[:4] == [1e-4, 2e-4, 3e-4, 5e-4]
    assert forms.log_grid(0.0, 0.1)[0] == 0.0
    for info in (hp for hp in HYPERPARAMETERS if hp.numeric):
        low, high = info.min_value or 0.0, info.max_value or 0.0
        assert all(low <= float(v) <= high for v in forms.options_for(info))
