"""Dashboards for the notebooks: sliders for L, tau, sigma, theta and figures that follow them live.

- :mod:`._dashboard`: the shared machinery (:class:`Dashboard`, the step-size sliders);
- :mod:`.iteration` (notebook 01), :mod:`.backprop` (02), :mod:`.asymptotics` (03a, 03b),
  :mod:`.fixed_point` (04), :mod:`.denoising` (05): one dashboard each;
- :mod:`.regimes`: the lecturer's figure (three gradient regimes, section 5) with an L marker;
- :mod:`.presenter`: the lecturer's view with one tab per dashboard.

The teaching problems live in :mod:`cpteach.problems` (one front door: they are not re-exported here).

Examples
--------
>>> board = cp_dashboard(L=20)
>>> board.sliders["tau"].value = 5.0          # breaks tau*sigma*||K||^2 < 1: the iteration runs all the same
>>> "outside the step-size condition" in board.status.value
True
>>> board = backprop_dashboard(L=20)
>>> board.sliders["tau"].value = 5.0          # the other dashboards refuse it, over the greyed last frame
>>> "condition fails" in board.status.value
True
"""
from ._controls import step_condition_html, step_sliders
from ._dashboard import Dashboard
from .iteration import CPRun, cp_dashboard, cp_run
from .backprop import backprop_dashboard
from .asymptotics import RESIDUAL_LABELS, AsymptoticsRun, asymptotics_dashboard, asymptotics_run
from .fixed_point import (FixedPointReference, FixedPointRun, fixed_point_dashboard, fixed_point_reference,
                          fixed_point_run)
from .denoising import NOISE_STDS, DenoisingRun, denoising_dashboard, denoising_run
from .regimes import regimes_dashboard
from .presenter import PRESENTER_TABS, Presenter, Tab, presenter

__all__ = ["Dashboard", "step_sliders", "step_condition_html", "CPRun", "cp_run", "cp_dashboard",
           "backprop_dashboard", "RESIDUAL_LABELS", "AsymptoticsRun", "asymptotics_run", "asymptotics_dashboard",
           "FixedPointReference", "fixed_point_reference", "FixedPointRun", "fixed_point_run",
           "fixed_point_dashboard",
           "NOISE_STDS", "DenoisingRun", "denoising_run", "denoising_dashboard", "regimes_dashboard", "PRESENTER_TABS", "Presenter", "Tab", "presenter"]
