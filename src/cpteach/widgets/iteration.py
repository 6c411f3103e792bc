"""Notebook 01's dashboard: the Chambolle-Pock iteration (docs/theory.md, section 2), live."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from .._validate import step_product
from ..chambolle_pock import _chambolle_pock, chambolle_pock
from ..plotting import decade_limits, integer_ticks, legend_outside, linear_limits, new_figure, plot_convergence, plot_signals
from ..problems import tv_denoising_1d
from ._controls import step_condition_html, step_sliders
from ._dashboard import Dashboard, axis_length

__all__ = ["CPRun", "cp_run", "CPFrame", "cp_frame", "cp_render", "cp_dashboard"]


@dataclass(frozen=True)
class CPRun:
    """The iterates x^l, the gap (2.7) and ||x^l - x*|| of one run, l = 0..L (arrays of length L + 1);
    ``dual_outside``: whether -K^T xi^l lies outside dom G* (then G*(-K^T xi^l) = inf and so is the gap)."""

    x: np.ndarray
    gap: np.ndarray
    error: np.ndarray
    dual_outside: np.ndarray

    @property
    def L(self):
        return len(self.gap) - 1

    @property
    def x_L(self):
        """A^L(K, x) = x^L."""
        return self.x[-1]

    def prefix(self, L):
        """The run of the first L iterations (views): the same numbers as a run of length L."""
        return CPRun(self.x[:L + 1], self.gap[:L + 1], self.error[:L + 1], self.dual_outside[:L + 1])

    def gap_note(self):
        """'' if the gap (2.7) is finite at every l, else a sentence saying where it is infinite and why."""
        infinite = np.flatnonzero(np.isinf(self.gap))
        if infinite.size == 0:
            return ""
        where = f"l = {infinite[0]}" + (f"–{infinite[-1]}" if infinite.size > 1 else "")
        if infinite.size < infinite[-1] - infinite[0] + 1:
            where = f"{infinite.size} of the steps {where}"
        if self.dual_outside[infinite].all():
            return (f"gap (2.7) = ∞ at {where}: the dual iterate is infeasible (−Kᵀξˡ ∉ dom G*), not divergence: "
                    "see ‖xˡ − x*‖")
        return f"gap (2.7) = ∞ at {where}: a term of (2.7) is +∞ there"

    def floor_note(self):
        """'' unless ||x^l - x*|| levels off below 1e-11 (its last tenth, over a run of at least 20 steps); then a
        sentence saying why it does not fall further: the reference x* is itself a CP iterate, stopped at a tolerance
        (with the problem's steps it is this run's iterate where the solver stopped: the distance is 0 there)."""
        tail = self.error[-max(1, len(self.error) // 10):]
        if self.L < 20 or not np.all(tail < 1e-11):
            return ""
        zero = np.flatnonzero(self.error == 0)
        where = f" (here the iterate l = {zero[0]})" if zero.size else ""
        return (f"‖xˡ − x*‖ levels off at {np.median(tail):.0e}: x* is computed by CP too, stopped at a "
                f"tolerance{where}")


def cp_run(problem, L, tau, sigma, theta, beyond=False):
    """Run (2.0)-(2.5) for L steps on ``problem``; return x^l, gap^l and ||x^l - x*|| (l = 0..L).

    Raises the ValueError of :func:`cpteach.chambolle_pock.check_steps` for invalid steps; with ``beyond``,
    steps with tau*sigma*||K||^2 >= 1 are run all the same (the dashboard shows what CP does outside the
    condition: overflow gives inf and NaN, not warnings).

    Examples
    --------
    >>> run = cp_run(tv_denoising_1d(n=20), L=5, tau=0.4, sigma=0.4, theta=1.0)
    >>> run.gap.shape, run.error.shape, run.x_L.shape
    ((6,), (6,), (20,))
    """
    K, F, G, x = problem.K, problem.F, problem.G, problem.x
    with np.errstate(over="ignore", invalid="ignore"):        # beyond the condition a run may overflow
        trace = (_chambolle_pock(K, F, G, x, float(tau), float(sigma), float(theta), int(L), x, np.zeros(K.shape_out))
                 if beyond else chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, theta=theta, L=L))   # (2.0)-(2.5)
        iterates, gap = trace.x_all, trace.gap()
        error = np.sqrt(np.sum((iterates - problem.x_star) ** 2, axis=tuple(range(1, iterates.ndim))))
        G_conj = G.conjugate()
        outside = np.array([np.isinf(gap[l]) and np.isinf(G_conj(-K.adjoint(trace.xi(l))))   # G*(-K^T xi^l), (2.7)
                            for l in range(L + 1)])
    return CPRun(iterates, gap, error, outside)


@dataclass(frozen=True)
class CPFrame:
    """What :func:`cp_dashboard` shows: the first L steps of a cached run, the x-range ``length``
    of the convergence panel (:func:`axis_length` of L, which follows L both ways), its y-limits
    (from the run's first ``length`` steps: they stay while L moves below ``length``) and the
    status line."""

    run: CPRun
    length: int
    ylim: tuple
    status: str


def cp_frame(problem, L_max, memo, L, tau, sigma, theta):
    """The :class:`CPFrame` for the slider values: a run from ``memo`` (:meth:`Memo.run`), its first L steps.
    Steps with tau*sigma*||K||^2 >= 1 are run all the same and the status says so in red: the class sees what
    CP does outside the condition (it may still converge, or oscillate, or blow up)."""
    product = tau * sigma * problem.K.norm() ** 2
    try:
        status, beyond = step_condition_html(problem.K, tau, sigma, theta), False
    except ValueError:
        if product < 1:                  # another invalid choice: refused
            raise
        status, beyond = (f"<b style='color:#c00000'>⚠ τσ‖K‖² = {step_product(product)} ≥ 1: outside the step-size condition, "
                          "nothing guarantees convergence; shown: what CP does</b>"), True
    full = memo.run(("cp", tau, sigma, theta), L, L_max,
                    partial(cp_run, problem, tau=tau, sigma=sigma, theta=theta, beyond=beyond))
    length = axis_length(L, L_max)                  # <= the memo's run length (1-2-5 steps)
    shown = full.prefix(length)
    return CPFrame(full.prefix(L), length, decade_limits(shown.gap, shown.error), status)


def cp_render(artists, frame):
    """Write a :class:`CPFrame` into the artists of :func:`cp_dashboard`; return the status line."""
    run, L = frame.run, frame.run.L
    artists["iterate"].set_ydata(run.x_L)
    artists["ax_signal"].title.set_text(rf"Iterate $x^L$ after $L$ = {L} step{'s' if L != 1 else ''}")
    l = np.arange(L + 1)
    artists["gap"].set_data(l, np.where(run.gap > 0, run.gap, np.nan))
    artists["error"].set_data(l, np.where(run.error > 0, run.error, np.nan))
    note = run.gap_note()
    infeasible = note and run.dual_outside[np.isinf(run.gap)].all()
    panel = note.split(":")[0].replace(" at ", "\nat ", 1).replace("of the steps ", "of ")   # the reason: status
    artists["gap_note"].set_text(panel + ("\n(dual iterate infeasible)" if infeasible else ""))
    ax_conv = artists["ax_conv"]
    ax_conv.set_xlim(0, frame.length)         # follows L in a few steps: few backgrounds while L moves
    ax_conv.set_ylim(*frame.ylim)
    if note:
        _place_note(artists["gap_note"], np.column_stack([np.r_[l, l], np.r_[run.gap, run.error]]))
    floor = run.floor_note()
    return frame.status + (f"; <b>{note}</b>" if note else "") + (f"; {floor}" if floor else "")


# the corners a note may take in its axes: anchor (axes fractions) and alignment
_CORNERS = [((0.97, 0.96), "right", "top"), ((0.03, 0.04), "left", "bottom"), ((0.97, 0.04), "right", "bottom"),
            ((0.03, 0.96), "left", "top")]


def _place_note(text, points):
    """Move ``text`` (a note in axes fractions) to the corner of its axes where its box covers the fewest of
    ``points`` (data coordinates: the curves), the upper right where several tie: a note does not hide the curves
    it explains."""
    ax = text.axes
    box = text.get_window_extent()                                        # the figure's own renderer
    w, h = box.width / ax.bbox.width, box.height / ax.bbox.height         # its size in axes fractions
    points = points[np.isfinite(points).all(axis=1) & (points[:, 1] > 0)]
    frac = (ax.transScale + ax.transLimits).transform(points) if points.size else np.empty((0, 2))

    def covered(corner):
        (x, y), ha, va = corner
        x0, y0 = (x - w if ha == "right" else x), (y - h if va == "top" else y)
        return np.sum((frac[:, 0] >= x0) & (frac[:, 0] <= x0 + w) & (frac[:, 1] >= y0) & (frac[:, 1] <= y0 + h))

    anchor, ha, va = min(_CORNERS, key=covered)                # min keeps the first of equals
    text.set(position=anchor, ha=ha, va=va)


def cp_dashboard(problem=None, L=50, tau=None, sigma=None, theta=1.0, L_max=500):
    """Dashboard for notebook 01: the iterate x^L and the convergence of CP, live.

    Sliders L, tau, sigma, theta; the left panel shows x^L next to the ground truth y, the
    noisy data x and the solution x*, the right panel the primal-dual gap (2.7) and
    ||x^l - x*|| for l <= L on a log scale. Runs are cached per choice of tau, sigma,
    theta in the dashboard's memo; the L slider shows the first L steps of one. The
    status line shows tau*sigma*||K||^2; at a value >= 1 the dashboard runs CP all the same and says in
    red that nothing guarantees convergence (the class sees what CP does there). Where the
    gap is infinite (e.g. L1-L1: G* is the indicator of |.| <= weight and -K^T xi^l lies outside
    it while the dual iterate is infeasible), the panel says "gap (2.7) = inf at l = ..." and the
    status line says why, instead of a legend entry without a curve.

    Parameters
    ----------
    problem : Problem or None (default: ``tv_denoising_1d(dense=True)``, whose
        dense K is faster than the FiniteDifference stencil at this size)
    L : int, initial number of iterations (slider 1..L_max)
    tau, sigma : float or None, initial steps (default: the problem's)
    theta : float in [0, 1]
    L_max : int, the largest L on the slider

    Returns
    -------
    Dashboard
        with ``.sliders`` (L, tau, sigma, theta), ``.figure`` and ``.update()``.

    Examples
    --------
    >>> board = cp_dashboard(L=10)
    >>> sorted(board.sliders)
    ['L', 'sigma', 'tau', 'theta']
    """
    problem = tv_denoising_1d(dense=True) if problem is None else problem
    sliders = step_sliders(problem, L, tau, sigma, theta, L_max)
    fig, (ax_signal, ax_conv) = new_figure(2, width=4.6, height=3.0)
    first = cp_run(problem, 1, problem.tau, problem.sigma, problem.theta)
    lines = plot_signals(ax_signal, {"noisy data $x$": problem.x, "ground truth $y$": problem.y,
                                     "solution $x^*$": problem.x_star, "iterate $x^L$": first.x_L},
                         title=r"Iterate $x^L$", xlabel=r"index $i$", ylabel="signal value")
    lines["solution $x^*$"].set(linewidth=5.0, alpha=0.45)   # a wide band under the iterate: both show
    lines["iterate $x^L$"].set(color="k")                      # black on the green band (not red: colour-blind)
    legend_outside(ax_signal)                                   # the legend with these styles
    integer_ticks(ax_signal.xaxis)                              # entries: whole i
    ax_signal.set_ylim(*linear_limits(problem.x, problem.y))
    curves = plot_convergence(ax_conv, {"primal-dual\ngap (2.7)": first.gap, r"$\|x^l - x^*\|$": first.error},
                              title="Convergence of Chambolle-Pock", xlabel=r"iteration $l$",
                              ylabel="gap, distance (log scale)")
    integer_ticks(ax_conv.xaxis)                                # iterations: whole l (at L = 1, not 0.2, 0.4, ...)
    gap_note = ax_conv.text(0.97, 0.96, "", transform=ax_conv.transAxes, ha="right", va="top",
                            color=curves["primal-dual\ngap (2.7)"].get_color(), fontsize="small",
                            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    artists = {"iterate": lines["iterate $x^L$"], "ax_signal": ax_signal, "ax_conv": ax_conv,
               "gap_note": gap_note, **dict(zip(("gap", "error"), curves.values()))}
    return Dashboard(sliders, fig, partial(cp_frame, problem, L_max), partial(cp_render, artists),
                     animated=(artists["iterate"], ax_signal.title, artists["gap"], artists["error"], gap_note))
