"""Home: what the app does, a one-click quick demo, and the recent searches with a way into the monitor."""

from __future__ import annotations

import streamlit as st

from pages._shared import (
    badge_markdown,
    open_experiment,
    open_monitor,
    presenting,
    runs_dir,
    runs_dir_caption,
    score_text,
    start_quick_demo,
    use_app_navigation,
)
from tuning.engine.jobs import SearchInfo, list_searches
from tuning.errors import TuningError
from tuning.space.experiment import READY

RECENT = 20

use_app_navigation()
st.title("Hyperparameter Explorer")
st.markdown(
    "Shape a search space for a small image classifier and let Keras Tuner search it in the background. "
    "Watch trial scores and learning curves while it trains, and see which hyperparameters mattered."
)
if not presenting():
    st.caption(runs_dir_caption())

if st.button("Start the quick demo", key="home_quick_demo", type="primary", icon="🚀"):
    try:
        handle = start_quick_demo()
    except TuningError as error:
        st.error(str(error))
    else:
        open_monitor(handle.project_dir.name)
st.caption("Eight short trials on the built-in synthetic images: about a minute or two on a laptop CPU.")

st.subheader("See what one hyperparameter does")
st.caption("Each button changes one thing, keeps everything else fixed, and trains: about a minute each.")
columns = st.columns(3)
for index, ready in enumerate(READY.values()):
    if columns[index % 3].button(ready.prompt, key=f"home_ready_{ready.key}", use_container_width=True):
        try:
            open_experiment(ready.config())
        except TuningError as error:
            st.error(str(error))


def search_row(info: SearchInfo) -> None:
    """One search: name, state, progress, best score, tuner and dataset, and a button to monitor it."""
    status = info.status
    with st.container(border=True):
        name, state, trials, best, button = st.columns([3, 2, 2, 3, 1.5], vertical_alignment="center")
        name.markdown(f"**{info.name}**  \n{info.tuner} · {info.dataset}")
        state.markdown(badge_markdown(status.state))
        trials.markdown(f"{status.trials_done} / {status.trials_planned or '?'} trials")
        best.markdown(f"best {score_text(status, info.objective)}")
        if button.button("Open", key=f"home_open_{info.name}", icon="📈"):
            open_monitor(info.name)


st.subheader("Recent searches")
searches = list_searches(runs_dir())
if not searches:
    st.info("No searches yet. Start the quick demo above, or design your own search.")
    st.stop()

for info in searches[:RECENT]:
    search_row(info)
if len(searches) > RECENT:
    st.caption(f"{len(searches) - RECENT} older searches are not shown; pick them on the monitor page.")
