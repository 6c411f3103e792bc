"""The lecturer's view (notebooks/presenter.ipynb in Voila): a problem chooser and one tab per dashboard.

Every tab fits a 1280 x 720 projector: the sliders sit in a column left of the figure.
Tabs are built when first shown, per problem, and kept: switching the problem rebuilds
only the tab on screen (the others follow when they are opened) and keeps the tab.
``PRESENTER_TABS`` lists (title, builder); a builder takes ``problem=`` and returns a
:class:`Dashboard` (or any widget), so a further tab is one more entry.
"""
from __future__ import annotations

import ipywidgets as widgets

from ..problems import PRESENTER_PROBLEMS
from ._dashboard import Dashboard
from .backprop import backprop_dashboard
from .fixed_point import fixed_point_dashboard
from .iteration import cp_dashboard

__all__ = ["PRESENTER_TABS", "presenter"]

PRESENTER_TABS = [("Iteration (§2)", cp_dashboard),
                  ("Backprop (§3)", backprop_dashboard),
                  ("Fixed point (§5)", fixed_point_dashboard)]


def presenter(problem=None, tabs=None):
    """The lecturer's view: a problem chooser and one tab per dashboard, built lazily.

    Tabs (default ``PRESENTER_TABS``): the Chambolle-Pock iteration (:func:`cp_dashboard`),
    the backpropagated gradients (:func:`backprop_dashboard`) and the unrolled / one-step /
    implicit gradients (:func:`fixed_point_dashboard`), each with sliders L, tau, sigma,
    theta beside the figure. Choosing another problem keeps the tab on screen and rebuilds
    it for the new problem; dashboards already built for a problem are reused.

    Parameters
    ----------
    problem : str, a key of ``PRESENTER_PROBLEMS`` (default: the first)
    tabs : list of (title, builder) or None (default: ``PRESENTER_TABS``)

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
            if name not in instances:
                instances[name] = PRESENTER_PROBLEMS[name]()
            board = tabs[index][1](problem=instances[name])
            if isinstance(board, Dashboard):
                board.side_by_side()
            box.dashboards[key] = board
            busy.value = ""
        tab.children[index].children = [box.dashboards[key]]

    box.current = lambda: box.dashboards[(chooser.value, tab.selected_index or 0)]
    chooser.observe(lambda change: show(), names="value")
    tab.observe(lambda change: show(), names="selected_index")
    show()
    return box
