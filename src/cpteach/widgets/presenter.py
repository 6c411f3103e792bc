"""The lecturer's view (notebooks/presenter.ipynb in Voila): a problem chooser and one tab per dashboard.

Every tab fits a 1280 x 720 projector (:meth:`Dashboard.projector_layout`): the sliders in one row, the
status under them, the figure below with text of 20 CSS px; every other text is 20 CSS px too.
Only the first tab is built before the view shows; the other
(problem, tab) pairs are built in the kernel's idle time afterwards (:class:`IdleWork`, no
thread) or when first opened, and kept: switching the problem keeps the tab and, once built,
only swaps the dashboard in. ``PRESENTER_TABS`` lists :class:`Tab` entries, so a further
tab is one more entry.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import ipywidgets as widgets

from ..problems import PRESENTER_PROBLEMS, tv_l1_denoising_1d
from ._controls import unicode_text
from ._dashboard import Dashboard, IdleWork
from .asymptotics import asymptotics_dashboard
from .backprop import backprop_dashboard
from .fixed_point import fixed_point_dashboard
from .iteration import cp_dashboard
from .regimes import regimes_dashboard

__all__ = ["Tab", "PRESENTER_TABS", "Presenter", "presenter"]

PRESENTER_CSS = """<style>
.cpteach-presenter, .cpteach-presenter .widget-label, .cpteach-presenter .widget-readout,
.cpteach-presenter .widget-html-content, .cpteach-presenter .lm-TabBar-tabLabel,
.cpteach-presenter select, .cpteach-presenter .widget-inline-hbox { font-size: 20px !important; }
.cpteach-presenter .cpteach-status .widget-html-content { font-size: 20px !important; line-height: 1.25; }
.cpteach-presenter .cpteach-status { min-height: 75px !important; }  /* 3 lines: a wrap does not move the figure */
.cpteach-presenter .widget-label, .cpteach-presenter .widget-readout { line-height: 32px; height: 32px; }
.cpteach-presenter .widget-readout { min-width: 4.2em; max-width: none; overflow: visible; }
.cpteach-presenter .lm-TabBar-tab { min-height: 34px; flex: 0 0 auto !important; max-width: none !important;
  color: #1a1a1a !important; }  /* dark titles: not grey on grey from the back row */
</style>"""


@dataclass(frozen=True)
class Tab:
    """One tab of the presenter: its title and its builder.

    ``per_problem``: the builder takes ``problem=`` (the chooser's choice); otherwise it is
    built once and the chooser is hidden on this tab (its figure compares fixed problems).
    ``figure_size``: the CSS size the figure is laid out for (:meth:`Dashboard.projector_layout`); a tab
    whose status runs to more lines gives its figure less height, so that its text stays 20 px.
    """

    title: str
    build: Callable
    per_problem: bool = True
    figure_size: tuple = (1240, 520)


PRESENTER_TABS = [
    Tab("Iteration §2", cp_dashboard),
    Tab("Backprop §3", backprop_dashboard),
    Tab("TV-L1 asymptotics §4",
        lambda: asymptotics_dashboard(problem=tv_l1_denoising_1d(n=48, beta=1.0, alpha=0.5), L=1500, L_max=3000),
        per_problem=False),
    Tab("Fixed point §5", fixed_point_dashboard),
    Tab("Three regimes §5", regimes_dashboard, per_problem=False, figure_size=(1240, 440)),   # five status lines
]


class Presenter(widgets.VBox):
    """The lecturer's view: a problem chooser and one tab per dashboard, built lazily.

    Parameters
    ----------
    problem : str, a key of ``PRESENTER_PROBLEMS`` (default: the first)
    tabs : list of :class:`Tab` or None (default: ``PRESENTER_TABS``)
    prebuild_others : bool, build the other (problem, tab) pairs in the kernel's idle time
        (one at a time, only while nothing moved for 3 s), so switching is a swap

    Attributes
    ----------
    chooser (Dropdown), tabs (ipywidgets.Tab), dashboards (dict (problem name or None, tab
    index) -> the dashboards built so far), idle (:class:`IdleWork`)
    """

    def __init__(self, problem=None, tabs=None, prebuild_others=True):
        self._names = list(PRESENTER_PROBLEMS)
        problem = self._names[0] if problem is None else problem
        if problem not in PRESENTER_PROBLEMS:
            raise ValueError(f"unknown problem {problem!r}; choose one of {self._names}")
        self._tabs = list(PRESENTER_TABS if tabs is None else tabs)
        self.chooser = widgets.Dropdown(options=[(unicode_text(name), name) for name in self._names], value=problem, description="problem",
                                        style={"description_width": "5em"}, layout=widgets.Layout(width="40em"))
        self._busy = widgets.HTML()
        self.tabs = widgets.Tab(children=[widgets.VBox() for _ in self._tabs],
                                titles=[tab.title for tab in self._tabs], selected_index=0)
        self.dashboards = {}
        self._held = {}                 # frames of dashboards built in idle time, until they are shown
        self._problems = {}
        header = widgets.HBox([widgets.HTML(PRESENTER_CSS + "<b>cpteach</b>"), self.chooser, self._busy],
                              layout=widgets.Layout(align_items="center", min_height="40px"))
        super().__init__([header, self.tabs])
        self.add_class("cpteach-presenter")
        self.idle = IdleWork(self._last_active, idle_s=3.0, tick_s=0.5)
        self._activity = 0.0
        self.chooser.observe(self._on_change, names="value")
        self.tabs.observe(self._on_change, names="selected_index")
        self._show()
        if prebuild_others:             # in a kernel: after the page has fetched the first tab
            self.idle.replace([lambda key=key: self._build_in_idle_time(key) for key in self._missing()],
                              delay_s=4.0)

    def _key(self, name, index):
        return (name if self._tabs[index].per_problem else None, index)

    def current(self):
        """The dashboard on screen."""
        return self.dashboards[self._key(self.chooser.value, self.tabs.selected_index or 0)]

    def _last_active(self):
        return max([board.last_active for board in self.dashboards.values() if isinstance(board, Dashboard)]
                   + [self._activity])

    def _missing(self):
        keys = dict.fromkeys(self._key(name, index) for name in self._names for index in range(len(self._tabs)))
        return [key for key in keys if key not in self.dashboards]

    def _on_change(self, change):
        self._activity = time.monotonic()
        self._show()

    def _show(self):
        """Put the dashboard of the chosen problem into the tab on screen (build it if new)."""
        index = self.tabs.selected_index or 0
        key = self._key(self.chooser.value, index)
        self.chooser.layout.visibility = "visible" if self._tabs[index].per_problem else "hidden"
        if key not in self.dashboards:
            self._busy.value = "<i>building ...</i>"
            self._build(*key)
            self._busy.value = ""
        board = self.dashboards[key]
        if key in self._held:                   # built in idle time: its first frame goes out now
            board.image.value = self._held.pop(key)
        self.tabs.children[index].children = [board]

    def _build_in_idle_time(self, key):
        """Build a (problem, tab) pair no one looks at yet and hold its frame back: a page that connects
        later (a preheated kernel) fetches every widget's state, and 14 frames would be 3.4 MB of it."""
        if key in self.dashboards:
            return
        self._build(*key)
        board = self.dashboards[key]
        if isinstance(board, Dashboard):
            self._held[key], board.image.value = board.image.value, b""

    def _build(self, name, index):
        if (name, index) in self.dashboards:
            return
        tab = self._tabs[index]
        if tab.per_problem:
            if name not in self._problems:
                self._problems[name] = PRESENTER_PROBLEMS[name]()
            board = tab.build(problem=self._problems[name])
        else:
            board = tab.build()
        if isinstance(board, Dashboard):
            board.projector_layout(size=tab.figure_size)
            board.idle.last_active = board.neighbours.last_active = self._last_active   # idle: on every tab
        self.dashboards[(name, index)] = board


def presenter(problem=None, tabs=None, prebuild_others=True):
    """The lecturer's view (:class:`Presenter`): a problem chooser and one tab per dashboard, built lazily.

    Tabs (default ``PRESENTER_TABS``): the Chambolle-Pock iteration (:func:`cp_dashboard`), the
    backpropagated gradients (:func:`backprop_dashboard`), the asymptotics of TV-L1
    (:func:`asymptotics_dashboard`), the unrolled / one-step / implicit gradients
    (:func:`fixed_point_dashboard`), each with sliders L, tau, sigma, theta above the figure,
    and the lecturer's figure of three regimes (:func:`regimes_dashboard`). The asymptotics and
    regimes tabs show fixed problems, so the chooser is hidden there. Choosing another problem
    keeps the tab on screen and rebuilds it for the new problem; dashboards already built for a
    problem are reused.
    """
    return Presenter(problem, tabs, prebuild_others)
