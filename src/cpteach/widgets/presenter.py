"""The lecturer's view (notebooks/presenter.ipynb in Voila): a problem chooser and one tab per dashboard.

Every tab fits a 1280 x 720 projector: the sliders sit in a column left of the figure.
Only the first tab is built before the view shows; the other (problem, tab) pairs are built
in the kernel's idle time afterwards (or when first opened), and kept: switching the problem
keeps the tab and, once built, only swaps the dashboard in.
``PRESENTER_TABS`` lists (title, builder); a builder takes ``problem=`` and returns a
:class:`Dashboard` (or any widget), so a further tab is one more entry.
"""
from __future__ import annotations

import asyncio
import time

import ipywidgets as widgets

from ..problems import PRESENTER_PROBLEMS
from ._dashboard import Dashboard
from .backprop import backprop_dashboard
from .fixed_point import fixed_point_dashboard
from .iteration import cp_dashboard
from .regimes import regimes_dashboard

__all__ = ["PRESENTER_TABS", "presenter"]


PRESENTER_TABS = [("Iteration (§2)", cp_dashboard),
                  ("Backprop (§3)", backprop_dashboard),
                  ("Fixed point (§5)", fixed_point_dashboard),
                  ("Three regimes (§5)", regimes_dashboard)]
# figures whose layout has room for 1.2x larger text on a projector (the three-column fixed-point figure and
# the regimes figure with its long legend do not: their labels would collide)
PRESENTER_ZOOM = {cp_dashboard: 1.2, backprop_dashboard: 1.2}


def presenter(problem=None, tabs=None, prebuild_others=True):
    """The lecturer's view: a problem chooser and one tab per dashboard, built lazily.

    Tabs (default ``PRESENTER_TABS``): the Chambolle-Pock iteration (:func:`cp_dashboard`),
    the backpropagated gradients (:func:`backprop_dashboard`) and the unrolled / one-step /
    implicit gradients (:func:`fixed_point_dashboard`), each with sliders L, tau, sigma,
    theta beside the figure, and the lecturer's figure of three regimes
    (:func:`regimes_dashboard`, the same three problems whatever the choice). Choosing another problem keeps the tab on screen and rebuilds
    it for the new problem; dashboards already built for a problem are reused.

    Parameters
    ----------
    problem : str, a key of ``PRESENTER_PROBLEMS`` (default: the first)
    tabs : list of (title, builder) or None (default: ``PRESENTER_TABS``)
    prebuild_others : bool, build the other (problem, tab) pairs in the kernel's idle time
        (one at a time, only while no slider moved for 1.5 s), so switching is a swap

    Returns
    -------
    ipywidgets.VBox with attributes ``chooser`` (Dropdown), ``tabs`` (Tab) and
    ``dashboards`` (dict (problem name, tab index) -> the dashboards built so far),
    ``current()`` (the dashboard on screen)
    """
    names = list(PRESENTER_PROBLEMS)
    problem = names[0] if problem is None else problem
    if problem not in PRESENTER_PROBLEMS:
        raise ValueError(f"unknown problem {problem!r}; choose one of {names}")
    tabs = list(PRESENTER_TABS if tabs is None else tabs)
    chooser = widgets.Dropdown(options=names, value=problem, description="problem",
                               style={"description_width": "4.5em"}, layout=widgets.Layout(width="34em"))
    busy = widgets.HTML()
    tab = widgets.Tab(children=[widgets.VBox() for _ in tabs], titles=[title for title, _ in tabs],
                      selected_index=0)
    box = widgets.VBox([widgets.HBox([widgets.HTML("<b>cpteach</b>"), chooser, busy],
                                     layout=widgets.Layout(align_items="center")), tab])
    box.add_class("cpteach-presenter")
    box.chooser, box.tabs, box.dashboards = chooser, tab, {}
    instances = {}

    def show():
        """Put the dashboard of the chosen problem into the tab on screen (build it if new)."""
        name, index = chooser.value, tab.selected_index or 0
        key = (name, index)
        if key not in box.dashboards:
            busy.value = "<i>building ...</i>"
            build(name, index)
            busy.value = ""
        tab.children[index].children = [box.dashboards[key]]

    def build(name, index):
        if name not in instances:
            instances[name] = PRESENTER_PROBLEMS[name]()
        board = tabs[index][1](problem=instances[name])
        if isinstance(board, Dashboard):
            board.side_by_side(zoom=PRESENTER_ZOOM.get(tabs[index][1], 1.0))
        box.dashboards[(name, index)] = board

    def prebuild():
        """Build the next missing (problem, tab) while nobody touches the view, one per idle second."""
        missing = [(name, index) for name in names for index in range(len(tabs))
                   if (name, index) not in box.dashboards]
        if not missing:
            return
        idle = time.monotonic() - max([board.last_active for board in box.dashboards.values()
                                       if isinstance(board, Dashboard)] + [activity[0]])
        if idle > 1.5:
            build(*missing[0])
        loop.call_later(0.5, prebuild)

    box.current = lambda: box.dashboards[(chooser.value, tab.selected_index or 0)]
    activity = [time.monotonic()]

    def on_change(change):
        activity[0] = time.monotonic()
        show()

    chooser.observe(on_change, names="value")
    tab.observe(on_change, names="selected_index")
    show()
    try:                                           # in a kernel: build the other tabs while the view is idle,
        loop = asyncio.get_running_loop()          # so that a problem switch or a new tab only swaps them in
    except RuntimeError:
        return box                                 # no event loop (a script or a test): build on demand only
    if prebuild_others:
        loop.call_later(4.0, prebuild)         # after the page has fetched the first tab
    return box
