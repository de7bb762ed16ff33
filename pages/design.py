"""Design a search: shape the search space, pick a tuner, budget and data, see the cost, start it.

Widget values live in ``st.session_state`` under ``design_*`` keys and are collected into a plain form
(``tuning.design.forms``) that becomes the ``SearchConfig`` kept in ``st.session_state["design_config"]``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from pages._shared import presenting, use_app_navigation
from tuning.data import cifar10_cached
from tuning.data.digits import DIGITS_TEST_SIZE, DIGITS_TRAIN_SIZE
from tuning.data.spec import DATASET_NAMES
from tuning.design import forms
from tuning.design.estimate import estimate_seconds, measure_speed
from tuning.engine.jobs import start_search
from tuning.engine.machine import TWO_WORKER_SPEEDUP, auto_workers, resolved_workers, this_machine
from tuning.errors import TuningError
from tuning.settings import runs_dir
from tuning.space.config import OBJECTIVES, TUNERS, SearchConfig
from tuning.space.hyperparameters import BY_NAME, GROUPS, HYPERPARAMETERS, HPInfo
from tuning.space.pruning import RULES as PRUNING_RULES
from tuning.space.specs import format_value

DATASET_TITLES = {"synthetic": "Synthetic shapes", "digits": "Handwritten digits", "cifar10": "CIFAR-10"}
FORM_KEY = "design_form"
CONFIG_KEY = "design_config"
SPEED_KEY = "design_speed"


def _key(name: str, part: str = "") -> str:
    return f"design_{name}_{part}" if part else f"design_{name}"


def _hp_widget_values(name: str, choice: forms.HPChoice) -> dict[str, Any]:
    step = choice.step if choice.step is not None else 0.0
    return {
        _key(name, "mode"): choice.mode,
        _key(name, "fixed"): choice.fixed,
        _key(name, "range"): (choice.low, choice.high),
        _key(name, "step"): int(step) if BY_NAME[name].kind == "int" else float(step),
        _key(name, "log"): choice.log,
        _key(name, "values"): list(choice.values),
    }


def _widget_values(form: dict[str, Any]) -> dict[str, Any]:
    """Every widget key with the value that shows ``form``."""
    values: dict[str, Any] = {}
    for name, choice in form["hp"].items():
        values.update(_hp_widget_values(name, choice))
    values.update({_key(key): form[key] for key in forms.CONFIG_KEYS if key not in ("keep_checkpoints",)})
    values[_key("early_stopping_patience")] = form["early_stopping_patience"] or 0
    values.update({_key(key): form[key] for key in ("dataset", "train_size", "validation_split")})
    values[_key("data_path")] = form["data_path"] or ""
    return values


def _seed_widgets(form: dict[str, Any], *, overwrite: bool) -> None:
    """Put ``form`` into the widgets' state; range sliders take it from their ``value`` argument instead."""
    for key, value in _widget_values(form).items():
        if key.endswith("_range"):
            if overwrite:
                st.session_state.pop(key, None)
        elif overwrite or key not in st.session_state:
            st.session_state[key] = value


def _load(config: SearchConfig) -> None:
    """Show ``config`` on every widget (a button callback, so it runs before the widgets exist)."""
    form = forms.form_from_config(config)
    st.session_state[FORM_KEY] = form
    _seed_widgets(form, overwrite=True)


def _presets() -> None:
    columns = st.columns(len(forms.PRESETS) + 1)
    for column, (name, config) in zip(columns, forms.PRESETS.items(), strict=False):
        key = _key("preset_" + name.replace(" ", "_"))
        column.button(f"Preset: {name}", key=key, on_click=_load, args=(config,), use_container_width=True)
    columns[-1].button("Reset to defaults", key=_key("reset"), on_click=_load, args=(SearchConfig(),))


def _numeric_widgets(info: HPInfo, mode: str, choice: forms.HPChoice) -> None:
    """Sliders over the values ``forms.options_for`` offers (the form's current values included)."""
    label = info.label
    if mode == "fixed":
        options = forms.options_for(info, choice.fixed)
        st.select_slider(label, options, key=_key(info.name, "fixed"), format_func=format_value)
    elif mode == "range":
        options = forms.options_for(info, choice.low, choice.high)
        # value= (a pair) makes it a range slider and shows the form's range (see _seed_widgets).
        key, pair = _key(info.name, "range"), (choice.low, choice.high)
        st.select_slider(f"{label}: from / to", options, value=pair, key=key, format_func=format_value)
        left, right = st.columns(2)
        if info.kind == "float":
            log = left.checkbox("log scale", key=_key(info.name, "log"), help="Spread values evenly on a log scale.")
            if not log:
                right.number_input("step (0 = any value)", min_value=0.0, key=_key(info.name, "step"), format="%g")
        else:
            right.number_input("step", min_value=1, key=_key(info.name, "step"))
    else:
        options = forms.options_for(info, *choice.values)
        st.multiselect(f"{label}: values to try", options, key=_key(info.name, "values"), format_func=format_value)


def _hp_control(info: HPInfo) -> None:
    st.markdown(f"**{info.label}**" + (f" ({info.unit})" if info.unit else ""))
    st.caption(forms.EXPLANATIONS[info.name])
    if info.parent:
        st.caption(f"Applies {info.condition_text()}.")
    mode = st.radio("mode", forms.modes_for(info), key=_key(info.name, "mode"), horizontal=True)
    if info.numeric:
        _numeric_widgets(info, mode, st.session_state[FORM_KEY]["hp"][info.name])
    elif mode == "fixed":
        st.selectbox(info.label, list(info.values), key=_key(info.name, "fixed"), format_func=format_value)
    else:
        st.multiselect(info.label, list(info.values), key=_key(info.name, "values"), format_func=format_value)


def _space_section(slots: dict[str, Any]) -> None:
    st.subheader("Search space")
    for group in GROUPS:
        with st.expander(group.capitalize(), expanded=group == GROUPS[0]):
            for info in (hp for hp in HYPERPARAMETERS if hp.group == group):
                _hp_control(info)
                slots[f"space.{info.name}"] = st.empty()


def _number(key: str, label: str, slots: dict[str, Any], **options: Any) -> None:
    st.number_input(label, key=_key(key), **options)
    slots[key] = st.empty()


def _tuner_section(slots: dict[str, Any]) -> None:
    st.subheader("Tuner and budget")
    captions = [forms.TUNER_HELP[name] for name in TUNERS]
    tuner = st.radio("Tuner", TUNERS, key=_key("tuner"), captions=captions, horizontal=True)
    st.radio("Objective", list(OBJECTIVES), key=_key("objective"), horizontal=True)
    if tuner == "hyperband":
        _number("hyperband_max_epochs", "Hyperband: most epochs of a trial", slots, min_value=0)
        _number("hyperband_factor", "Hyperband: reduction factor", slots, min_value=0)
        _number("hyperband_iterations", "Hyperband: iterations", slots, min_value=0)
    else:
        _number("max_trials", "Max trials", slots, min_value=0)
    if tuner != "hyperband":
        captions = [forms.PRUNING_HELP[name] for name in PRUNING_RULES]
        st.radio("Stop hopeless trials early (pruning)", PRUNING_RULES, key=_key("pruning"), captions=captions)
        slots["pruning"] = st.empty()
    if not presenting():  # technical settings keep their values while hidden
        _technical_settings(slots)


def _technical_settings(slots: dict[str, Any]) -> None:
    _number("executions_per_trial", "Executions per trial (models trained per configuration)", slots, min_value=0)
    _number("early_stopping_patience", "Early stopping patience in epochs (0 = off)", slots, min_value=0)
    _number("seed", "Seed", slots, min_value=0)
    _number(
        "workers",
        "Worker processes (trials trained at once; 0 = auto, 1 = one process)",
        slots,
        min_value=0,
        help="Each worker trains its own trial with its share of the CPU cores, or its own GPU. Auto: one per "
        "core up to 4 (one per GPU), fewer if memory or trials are short. More than cores only slows each trial.",
    )
    machine = this_machine()
    st.caption(f"Trains on {machine.describe()}; auto uses {auto_workers(machine, trials=10**6)} worker(s) here.")
    if machine.trains_on_gpu:
        st.checkbox("Mixed precision (float16 on the GPU: faster, less memory)", key=_key("mixed_precision"))


def _data_section(slots: dict[str, Any]) -> None:
    st.subheader("Data")
    dataset = st.radio("Dataset", DATASET_NAMES, key=_key("dataset"), horizontal=True, format_func=DATASET_TITLES.get)
    if dataset == "cifar10":
        cached = cifar10_cached()
        st.caption(f"CIFAR-10 is already downloaded ({cached})." if cached else "CIFAR-10 will be downloaded first.")
        st.text_input("Local CIFAR-10 archive or folder (optional)", key=_key("data_path"))
        slots["data.path"] = st.empty()
    elif dataset == "digits":
        st.caption(
            f"Real handwritten digits 0-9 from scikit-learn (8x8 grey images, upscaled); works offline. "
            f"{DIGITS_TRAIN_SIZE:,} images for training and validation (the subset size can be at most that), "
            f"{DIGITS_TEST_SIZE} kept aside for the test set."
        )
    else:
        st.caption("Built-in synthetic images of ten shapes and patterns (not CIFAR-10); works offline.")
    _number("train_size", "Training subset size (training + validation images)", slots, min_value=0, step=100)
    slots["data.train_size"] = slots.pop("train_size")
    st.slider("Validation split", 0.05, 0.9, key=_key("validation_split"), step=0.05)
    slots["data.validation_split"] = st.empty()


def _read_choice(info: HPInfo, old: forms.HPChoice) -> forms.HPChoice:
    ss, name = st.session_state, info.name
    low, high = ss.get(_key(name, "range"), (old.low, old.high))
    step = ss.get(_key(name, "step"), old.step)
    if info.kind == "float":
        step = float(step) if step else None
    return forms.HPChoice(
        mode=ss[_key(name, "mode")],
        fixed=ss.get(_key(name, "fixed"), old.fixed),
        low=low,
        high=high,
        step=step,
        log=ss.get(_key(name, "log"), old.log),
        values=tuple(ss.get(_key(name, "values"), old.values)),
    )


def _read_form(old: dict[str, Any]) -> dict[str, Any]:
    """The form the widgets show now (widgets not drawn this run keep their last value)."""
    ss = st.session_state
    form = dict(old)
    form["hp"] = {info.name: _read_choice(info, old["hp"][info.name]) for info in HYPERPARAMETERS}
    for key in [*forms.CONFIG_KEYS, "dataset", "data_path", "train_size", "validation_split"]:
        form[key] = ss.get(_key(key), old[key])
    form["early_stopping_patience"] = form["early_stopping_patience"] or None
    form["data_path"] = (form["data_path"] or "").strip() or None if form["dataset"] == "cifar10" else None
    form["data_seed"] = form["seed"]
    return form


def _show_errors(errors: dict[str, str], slots: dict[str, Any]) -> None:
    for field, message in errors.items():
        slot = slots.get(field) or slots.get(field.removeprefix("data."))
        if slot is not None:
            slot.error(message)


def _plan_section(config: SearchConfig, errors: dict[str, str]) -> None:
    st.subheader("Before you start")
    if errors:
        return
    plan = config.plan()
    columns = st.columns(3)
    configurations = "continuous" if plan.configurations is None else f"{plan.configurations:,}"
    columns[0].metric("Configurations", configurations)
    columns[1].metric("Trials", f"{plan.trials:,}")
    epochs = f"{plan.epochs_total:,}"
    if plan.epochs_fewest < plan.epochs_total:
        epochs = f"{plan.epochs_fewest:,} to {plan.epochs_total:,}"
    columns[2].metric(
        "Planned epochs", epochs, help="With pruning: between every trial stopped at its first chance and none stopped."
    )
    if plan.brackets:
        rows = [
            {"iteration": b.iteration, "bracket": b.bracket, "trials": b.trials, "epochs": b.epochs,
             "rounds (trials x epochs)": ", ".join(f"{r.trials} x {r.epochs}" for r in b.rounds)}
            for b in plan.brackets
        ]  # fmt: skip
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    for note in [*plan.notes, *config.warnings()]:
        st.caption(note)
    _estimate(config)


def _estimate(config: SearchConfig) -> None:
    if st.button("Measure this machine's speed", key=_key("measure")):
        with st.spinner("Training a small model for a few seconds..."):
            try:
                st.session_state[SPEED_KEY] = measure_speed(seconds=3.0)
            except TuningError as error:
                st.error(str(error))
    speed = st.session_state.get(SPEED_KEY)
    if speed:
        minutes = estimate_seconds(config, speed) / 60
        st.info(
            f"Estimated duration: about {minutes:.1f} minutes on this machine ({speed:,.0f} images/s measured). "
            "Approximate: bigger models, early stopping and other programs change it."
        )
        workers = resolved_workers(config, this_machine())
        if workers > 1:
            st.caption(
                f"With {workers} workers trials run side by side: about {minutes / workers:.1f} to "
                f"{minutes / (TWO_WORKER_SPEEDUP / 2 * workers):.1f} minutes (the estimate above is for one "
                f"process; two workers on two cores measured {TWO_WORKER_SPEEDUP} times one process's trials per "
                "hour, not 2 times)."
            )
    else:
        st.caption("Measure this machine's speed to see an estimated duration.")


def _open_monitor(project_name: str) -> None:
    try:
        from pages._shared import open_monitor
    except ImportError:
        st.session_state["monitor_search"] = project_name
        st.switch_page("pages/monitor.py")
    else:
        open_monitor(project_name)


def _start_section(config: SearchConfig, errors: dict[str, str]) -> None:
    project = st.text_input("Project name (optional)", key=_key("project"), placeholder="chosen from the date")
    if errors:
        st.error(
            "Start is disabled until these are fixed: "
            + "; ".join(f"{field}: {message}" for field, message in errors.items())
        )
    if not st.button("Start search", key=_key("start"), type="primary", disabled=bool(errors)):
        return
    try:
        handle = start_search(config, runs_dir(), project.strip() or None)
    except TuningError as error:
        st.error(str(error))
        return
    _open_monitor(handle.project_dir.name)


def main() -> None:
    st.title("Design a search")
    st.caption("Fix a hyperparameter, or let the search try a range or a few values of it.")
    if "design_prefill" in st.session_state:  # set by the analyse page's "Narrow and search again"
        _load(st.session_state.pop("design_prefill"))
        st.info(st.session_state.pop("design_prefill_note", "The search space was narrowed from an analysed search."))
    if FORM_KEY not in st.session_state:
        st.session_state[FORM_KEY] = forms.form_from_config(SearchConfig())
    _seed_widgets(st.session_state[FORM_KEY], overwrite=False)
    _presets()
    slots: dict[str, Any] = {}
    _space_section(slots)
    _tuner_section(slots)
    _data_section(slots)
    form = _read_form(st.session_state[FORM_KEY])
    st.session_state[FORM_KEY] = form
    config = forms.config_from_form(form)
    st.session_state[CONFIG_KEY] = config
    errors = forms.check(config)
    _show_errors(errors, slots)
    _plan_section(config, errors)
    _start_section(config, errors)


use_app_navigation()
main()
