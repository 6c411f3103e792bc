"""Headless tests of the dashboards: slider changes redraw, the frames match a full redraw, bad steps
show the library's error, the numbers shown agree with the library computed independently."""
import asyncio
import html
import io
import json
import sys
import threading
import time

import matplotlib.colors
import numpy as np
import PIL.Image
import pytest

from cpteach import asymptotics, backprop, chambolle_pock, compare_gradients, images, plotting, problems, widgets
from cpteach.widgets._dashboard import Memo, envelope
from cpteach.widgets._state import IdleWork


@pytest.fixture(scope="module")
def cp_board():
    return widgets.cp_dashboard(problem=problems.tv_denoising_1d(n=40, dense=True), L=20)


@pytest.fixture(scope="module")
def bp_board():
    return widgets.backprop_dashboard(problem=problems.tv_denoising_1d(n=20, dense=True), L=10)


def _line(board, label):
    return next(line for ax in board.figure.axes for line in ax.get_lines() if line.get_label() == label)


def _pixels(board):
    return np.asarray(PIL.Image.open(io.BytesIO(board.image.value)).convert("RGB"), dtype=float)


def _matches_full_redraw(board):
    """The frame on screen (cached background + animated artists) equals, pixel for pixel, the frame
    drawn from scratch at the same slider values; one sent from the frame cache equals it byte for byte
    (the encoder is deterministic)."""
    cached, sent = board.last_frame_cached, bytes(board.image.value)
    shown = np.asarray(board.figure.canvas.buffer_rgba()).copy()
    board.redraw_all()
    fresh = np.asarray(board.figure.canvas.buffer_rgba())
    if cached:
        return sent == bytes(board.image.value)
    return shown.shape == fresh.shape and np.array_equal(shown, fresh)


def _random_value(slider, rng):
    if hasattr(slider, "options"):
        return slider.options[rng.integers(len(slider.options))]
    if isinstance(slider.value, int):
        return int(rng.integers(slider.min, slider.max + 1))
    if hasattr(slider, "base"):                                     # log sliders: stay mostly valid
        return float(slider.base ** rng.uniform(slider.min, slider.max - 1.0))
    return float(rng.choice(np.arange(slider.min, slider.max + 1e-9, slider.step)))


def random_walk_matches_full_redraws(board, seed, steps=12, every=3):
    """Move random sliders (seeded); every ``every`` steps the frame must equal a full redraw."""
    rng = np.random.default_rng(seed)
    for step in range(1, steps + 1):
        name = list(board.sliders)[rng.integers(len(board.sliders))]
        board.sliders[name].value = _random_value(board.sliders[name], rng)
        if step % every == 0 and not _matches_full_redraw(board):
            return f"step {step}: frame differs from a full redraw at {board.values()}"
    return ""


def test_cp_dashboard_defaults():
    board = widgets.cp_dashboard()
    assert set(board.sliders) == {"L", "tau", "sigma", "theta"}
    assert board.image.value[:2] == b"\xff\xd8"            # a JPEG frame
    assert "&lt; 1" in board.status.value
    assert all(slider.continuous_update for slider in board.sliders.values())
    board.sliders["L"].value = 1                  # lecturer review: 'after L = 1 steps' over ticks 0.2, 0.4, ...
    assert board.figure.axes[0].get_title() == "Iterate $x^L$ after $L$ = 1 step"
    ticks = [t for t in board.figure.axes[1].get_xticks() if 0 <= t <= 1]
    assert ticks and all(float(t).is_integer() for t in ticks)


def test_cp_says_why_the_distance_to_x_star_levels_off():
    """Lecturer review: ||x^l - x*|| falls to 0 at l = 330 and then levels off at 3e-14, unexplained. x* is itself a
    CP iterate (the problem's steps, stopped at a tolerance): the status says so, with the level and the iterate."""
    p = problems.tv_denoising_1d(boundary_row=False)
    board = widgets.cp_dashboard(problem=p, L=50)
    assert "levels off" not in board.status.value
    board.sliders["L"].value = 500
    trace = chambolle_pock(p.K, p.F, p.G, p.x, tau=p.tau, sigma=p.sigma, L=500)
    error = np.array([np.linalg.norm(trace.x(l) - p.x_star) for l in range(501)])
    level, zero = np.median(error[-50:]), np.flatnonzero(error == 0)
    assert level < 1e-11 and zero.size == 1                                  # the oracle: x* is x^l for one l
    assert (f"‖xˡ − x*‖ levels off at {level:.0e}: x* is computed by CP too, stopped at a tolerance (here the "
            f"iterate l = {zero[0]})") in board.status.value


@pytest.mark.parametrize("name, value", [("L", 35), ("tau", 0.2), ("sigma", 0.1), ("theta", 0.3), ("L", 140)])
def test_cp_slider_changes_iterate_and_curves(cp_board, name, value):
    iterate, gap = _line(cp_board, "iterate $x^L$"), _line(cp_board, "primal-dual\ngap (2.7)")
    before = iterate.get_ydata().copy(), gap.get_ydata().copy()
    image = cp_board.image.value
    cp_board.sliders[name].value = value
    after = iterate.get_ydata(), gap.get_ydata()
    assert not np.array_equal(before[0], after[0]) or not np.array_equal(before[1], after[1])
    assert cp_board.image.value != image
    assert len(gap.get_ydata()) == cp_board.sliders["L"].value + 1
    assert f'"L": {cp_board.sliders["L"].value}' in cp_board.status.value      # the hidden frame record
    assert _matches_full_redraw(cp_board)


def test_cp_iterate_and_gap_match_the_library(cp_board):
    values = cp_board.values()
    p = problems.tv_denoising_1d(n=40, dense=True)
    trace = chambolle_pock(p.K, p.F, p.G, p.x, tau=values["tau"], sigma=values["sigma"],
                           theta=values["theta"], L=values["L"])
    np.testing.assert_allclose(_line(cp_board, "iterate $x^L$").get_ydata(), trace.x_L)
    gap = trace.gap()
    np.testing.assert_allclose(_line(cp_board, "primal-dual\ngap (2.7)").get_ydata(), np.where(gap > 0, gap, np.nan))


def test_cp_says_why_the_l1_l1_gap_is_infinite():
    # G = 0.3||.||_1: G* is the indicator of |.| <= 0.3, and -K^T xi^l lies outside it for small l
    p = problems.l1_l1_problem()
    board = widgets.cp_dashboard(problem=p, L=50)
    trace = chambolle_pock(p.K, p.F, p.G, p.x, tau=p.tau, sigma=p.sigma, L=50)
    outside = [l for l in range(1, 51) if np.abs(p.K.adjoint(trace.xi(l))).max() > p.G.weight]
    assert outside == list(range(1, 51)) and np.isinf(trace.gap()[1:]).all()         # the oracle
    assert "gap (2.7) = ∞ at l = 1–50: the dual iterate is infeasible (−Kᵀξˡ ∉ dom G*), not divergence" \
        in html.unescape(board.status.value)
    note = next(t for t in board.figure.axes[1].texts if t.get_text())
    assert note.get_text() == "gap (2.7) = ∞\nat l = 1–50\n(dual iterate infeasible)" and note.get_animated()
    board.sliders["L"].value = 500                           # feasible at a few steps: how many of them are not
    count = np.isinf(chambolle_pock(p.K, p.F, p.G, p.x, tau=p.tau, sigma=p.sigma, L=500).gap()).sum()
    assert 0 < count < 500 and f"gap (2.7) = ∞ at {count} of the steps l = 1–" in board.status.value
    assert _matches_full_redraw(board)
    # the note hides none of the curves it explains (lecturer review: its box covered ||x^l - x*|| near l = 20):
    # their points in display coordinates, outside the note's drawn box; at the last values, in the upper right
    # where it stood before, the box covered 4 points
    board.projector_layout()
    for values in ({"L": 50}, {"L": 500}, {"L": 150, "tau": 1.9889, "sigma": 0.002, "theta": 0.0}):
        for name, value in values.items():
            board.sliders[name].value = value
        ax = note.axes
        box = note.get_window_extent().expanded(1.05, 1.1)               # with the box's padding
        points = np.vstack([np.column_stack(line.get_data()) for line in ax.get_lines()])
        points = ax.transData.transform(points[np.isfinite(points).all(axis=1)])
        assert not any(box.contains(*p) for p in points), values
    assert _matches_full_redraw(board)
    tv = widgets.cp_dashboard(problem=problems.tv_denoising_1d(n=40, dense=True), L=20)
    assert "∞" not in tv.status.value and not any(t.get_text() for t in tv.figure.axes[1].texts)


def test_cp_solution_shows_under_the_iterate(cp_board):
    solution, iterate = _line(cp_board, "solution $x^*$"), _line(cp_board, "iterate $x^L$")
    assert solution.get_linewidth() >= 2.5 * iterate.get_linewidth() and solution.get_alpha() < 1   # a band under it
    legend = cp_board.figure.axes[0].get_legend()
    handle = legend.legend_handles[[t.get_text() for t in legend.get_texts()].index("solution $x^*$")]
    assert handle.get_linewidth() == solution.get_linewidth()


@pytest.mark.parametrize("product", [1.2, 4.0])
def test_the_iteration_board_runs_cp_beyond_the_step_size_condition(product):
    """Past tau*sigma*||K||^2 = 1 the iteration dashboard shows what CP does (a lecturer's class asks to 'make
    tau bigger'), says in red that nothing guarantees convergence, and its iterate is that of (2.1)-(2.5)
    transcribed here with the prox maps; at 4 the iteration on 1-D TV does not converge."""
    p = problems.tv_denoising_1d(n=40, dense=True)
    board = widgets.cp_dashboard(problem=p, L=200)
    tau, sigma, theta = product / (0.5 * p.K.norm() ** 2), 0.5, 1.0
    board.sliders["sigma"].value = sigma
    board.sliders["tau"].value = tau
    tau = board.sliders["tau"].value                                   # as the slider holds it
    assert "outside the step-size condition, nothing guarantees convergence; shown: what CP does" in board.status.value
    assert '"stale": false' in board.status.value
    K, F_conj, G, x = p.K.matrix(), p.F.conjugate(), p.G, p.x
    u, u_bar, xi = x.copy(), x.copy(), np.zeros(K.shape[0])
    for _ in range(200):
        xi = F_conj.prox(xi + sigma * K @ u_bar, sigma)                # (2.1), (2.2)
        new = G.prox(u - tau * K.T @ xi - x, tau) + x                  # (2.3), (2.4)
        u, u_bar = new, new + theta * (new - u)                        # (2.5)
    assert np.allclose(_line(board, "iterate $x^L$").get_ydata(), u, atol=1e-9)
    error = np.linalg.norm(u - p.x_star)
    assert error < 1e-3 if product < 1.5 else error > 0.1            # slightly beyond it still converges here


def test_bad_step_sizes_show_the_error_and_keep_the_frame(bp_board):
    board = bp_board
    board.sliders["sigma"].value = 0.5
    image = board.image.value
    board.sliders["tau"].value = 10.0 ** board.sliders["tau"].max   # tau*sigma*||K||^2 = 2*||K|| >= 1
    assert "condition fails" in board.status.value and "⚠" in board.status.value
    assert "τσ‖K‖² = " in board.status.value and "tau*sigma" not in board.status.value   # the library's ASCII, shown in Unicode
    record = json.loads(html.unescape(board.status.value.split("cpteach-frame' style='display:none'>")[1]
                                      .split("</span>")[0]))
    assert record["values"]["tau"] < 10.0 ** board.sliders["tau"].max and record["stale"]   # names the frame shown
    # the last valid figure, greyed under a red notice: paler than it was, with red where it had none
    valid, stale = (np.asarray(PIL.Image.open(io.BytesIO(b)).convert("RGB"), dtype=float) for b in (image, board.image.value))
    dark = lambda a: np.sum(a.max(axis=-1) < 100)                                     # noqa: E731
    assert valid.shape == stale.shape and dark(stale) < 0.1 * dark(valid)              # text and lines greyed
    red = lambda a: (np.abs(a[..., 0] - 192) < 40) & (a[..., 1] < 60) & (a[..., 2] < 60)   # noqa: E731  #c00000
    assert np.sum(red(stale) & ~red(valid)) > 2000                                     # the notice's text and frame
    assert board.figure.texts[-1].get_text() == "" and not board.figure.texts[-1].get_visible()   # notice cleared
    board.sliders["tau"].value = record["values"]["tau"]               # back: the kept frame, not stale
    assert board.image.value == image and "condition fails" not in board.status.value
    board.sliders["tau"].value = 0.3
    assert "condition fails" not in board.status.value and board.image.value != image
    assert '"stale": false' in board.status.value


def test_cp_run_raises_for_invalid_steps():
    with pytest.raises(ValueError, match=r"tau\*sigma\*\|\|K\|\|\^2"):
        widgets.cp_run(problems.tv_denoising_1d(n=10), L=5, tau=1.0, sigma=1.0, theta=1.0)


def test_memo_reuses_longer_runs_and_is_bounded():
    calls = []

    def compute(length):
        calls.append(length)
        return length

    memo = Memo(size=2)
    assert memo.run(("a",), 7, 500, compute) == 10 and memo.run(("a",), 10, 500, compute) == 10
    assert memo.run(("a",), 11, 500, compute) == 20
    assert memo.run(("a",), 480, 500, compute) == 500 and calls == [10, 20, 500]
    memo.run(("b",), 1, 500, compute), memo.run(("c",), 1, 500, compute), memo.run(("a",), 1, 500, compute)
    assert calls[-1] == 1 and len(calls) == 6 and len(memo) == 2     # "a" was dropped (size 2) and computed again
    assert memo("k", lambda: 3) == 3 and memo("k", lambda: 4) == 3


def test_trace_run_keys_the_model_so_a_changed_G_is_never_served_a_stale_trace():
    from dataclasses import replace

    from cpteach import prox
    from cpteach.widgets._state import trace_run

    p = problems.tv_l1_denoising_1d(n=20)
    memo, steps = Memo(size=4), dict(tau=p.tau, sigma=p.sigma, theta=1.0)
    elastic = [replace(p, G=prox.ElasticL1(p.G.weight, eps)) for eps in (0.1, 1.0)]
    runs = [trace_run(q, memo, 30, 30, **steps).x_L for q in (p, *elastic)]
    direct = [chambolle_pock(q.K, q.F, q.G, q.x, L=30, **steps).x_L for q in (p, *elastic)]
    for run, ref in zip(runs, direct):
        np.testing.assert_array_equal(run, ref)
    assert not np.allclose(runs[1], runs[2])          # eps changes the iterate, and the memo saw it


def test_envelope_keeps_each_pixel_columns_extremes():
    rng = np.random.default_rng(0)
    y = rng.standard_normal(3000)
    y[100] = np.nan
    x, e = envelope(np.arange(3000), y, columns=300)
    assert len(e) == 600 and np.nanmax(e) == np.nanmax(y) and np.nanmin(e) == np.nanmin(y)
    np.testing.assert_array_equal(e[:2], [np.nanmin(y[:10]), np.nanmax(y[:10])])
    assert envelope(np.arange(5), y[:5], columns=300)[1] is not None and len(envelope(np.arange(5), y[:5], 300)[1]) == 5


WALKS = {   # small versions of every dashboard
    "cp": lambda: widgets.cp_dashboard(problem=problems.tv_denoising_1d(n=40, dense=True), L=20),
    "backprop": lambda: widgets.backprop_dashboard(problem=problems.tv_denoising_1d(n=20, dense=True), L=10),
    "asymptotics": lambda: widgets.asymptotics_dashboard(problem=problems.tv_l1_denoising_1d(n=16), L=60, L_max=3000),
    "fixed_point": lambda: widgets.fixed_point_dashboard(problem=problems.ball_problem(k=12, n=8), L=20, L_max=300),
    "regimes": lambda: widgets.regimes_dashboard(L=10, L_max=200, points=4),
    "denoising": lambda: widgets.denoising_dashboard(filters=images.dct_filters(3), size=16, L=5),
}


def test_every_dashboard_is_walked_and_benchmarked():
    """A new dashboard is registered once, in widgets.__all__; this test names the lists it must join."""
    import importlib.util
    import pathlib

    builders = {n.removesuffix("_dashboard") for n in widgets.__all__ if n.endswith("_dashboard")}
    assert builders == set(WALKS), f"add the missing dashboards to WALKS: {builders ^ set(WALKS)}"
    path = pathlib.Path(__file__).parents[1] / "benchmarks" / "widgets.py"
    spec = importlib.util.spec_from_file_location("widget_benchmark", path)
    source = path.read_text()
    missing = [b for b in builders if f"widgets.{b}_dashboard(" not in source]
    assert spec is not None and not missing, f"add to DASHBOARDS of benchmarks/widgets.py: {missing}"


@pytest.mark.parametrize("name", list(WALKS))
def test_every_frame_equals_a_full_redraw_after_random_walks(name):
    # the partial redraws (only the axes whose limits or scales changed) must leave no ghost labels
    board = WALKS[name]()
    for seed in (0, 1, 4):      # seed 4 changes a signed log colour scale's linthresh alone (backprop)
        assert random_walk_matches_full_redraws(board, seed) == ""
    assert board.partial_draws > 0 or name == "regimes"            # the walk exercised partial redraws
    # long chains of repaints, each starting from the last (a full redraw only at the end)
    for seed in (2, 3):
        assert random_walk_matches_full_redraws(board, seed, steps=16, every=16) == ""


@pytest.mark.parametrize("name, value", [("L", 17), ("tau", 0.1), ("theta", 0.5), ("L", 60)])
def test_bp_slider_changes_heatmaps(bp_board, name, value):
    images = [ax.images[0] for ax in bp_board.figure.axes[:3] if ax.images]
    before = [np.array(im.get_array()).copy() for im in images]
    bp_board.sliders[name].value = value
    after = [np.array(im.get_array()) for im in images]
    assert any(b.shape != a.shape or not np.allclose(b, a, equal_nan=True) for b, a in zip(before, after))
    L = bp_board.sliders["L"].value
    rows = np.asarray(images[0].get_array())
    assert np.isfinite(rows[:L]).all() and np.isnan(rows[L:]).all()   # grey rows: iterations beyond L
    assert _matches_full_redraw(bp_board)


def test_bp_limits_and_colour_scales_follow_L_both_ways():
    # L = 30 -> 300 -> 1: the heat maps' height and the norms' x-range shrink again, the colour
    # scales end at the larger 98th percentile of |delta| at the first and the last L of the
    # height (rows), rounded up to a decade, and every frame is exact
    board = widgets.backprop_dashboard(L=30)
    p = problems.tv_denoising_1d(n=40, dense=True)
    for L, rows, first in ((30, 30, 21), (300, 300, 201), (1, 1, 1), (285, 300, 201), (7, 10, 6)):
        board.sliders["L"].value = L
        values = board.values()
        steps = {"tau": values["tau"], "sigma": values["sigma"], "theta": values["theta"]}
        res = backprop(chambolle_pock(p.K, p.F, p.G, p.x, L=L, **steps), p.y)
        ends = [backprop(chambolle_pock(p.K, p.F, p.G, p.x, L=l, **steps), p.y) for l in (first, rows)]
        for ax, name in zip(board.figure.axes[:2], ("delta_P", "delta_D")):
            image = ax.images[0]
            assert ax.get_ylim() == (0.5, rows + 0.5) and image.get_extent()[3] == rows + 0.5
            assert np.isfinite(np.asarray(image.get_array())[:L]).all()      # only iterations beyond L are grey
            np.testing.assert_allclose(np.asarray(image.get_array())[:L], getattr(res, name).reshape(L, -1))
            p98 = max(np.percentile(np.abs(getattr(end, name)), 98) for end in ends)
            assert p98 <= image.norm.vmax <= 10 * p98                     # the scale of this height's ends
        norms = board.figure.axes[3]
        assert norms.get_xlim() == (0.5, rows + 0.5)
        assert np.isfinite(_line(board, r"primal $\|\delta_P^l\|$").get_ydata()).sum() == L
        assert _line(board, r"primal $\|\delta_P^l\|$").get_marker() == ("o" if L == 1 else "None")   # one point shows
        assert _matches_full_redraw(board)


def test_bp_heatmaps_match_backprop(bp_board):
    values = bp_board.values()
    p = problems.tv_denoising_1d(n=20, dense=True)
    trace = chambolle_pock(p.K, p.F, p.G, p.x, tau=values["tau"], sigma=values["sigma"],
                           theta=values["theta"], L=values["L"])
    res = backprop(trace, p.y)
    np.testing.assert_allclose(bp_board.figure.axes[2].images[0].get_array(), res.grad_K)
    np.testing.assert_allclose(np.asarray(bp_board.figure.axes[0].images[0].get_array())[:values["L"]],
                               res.delta_P)


# notebooks 03a, 03b: asymptotics_dashboard ----------------------------------------------

@pytest.fixture(scope="module")
def asym_board():
    return widgets.asymptotics_dashboard(problem=problems.tv_l1_denoising_1d(n=16), L=60, L_max=300)


@pytest.mark.parametrize("name, value", [("L", 150), ("tau", 0.2), ("sigma", 0.3), ("theta", 0.5)])
def test_asymptotics_slider_changes_residuals_and_gradient(asym_board, name, value):
    masked, grad = _line(asym_board, widgets.RESIDUAL_LABELS[0]), asym_board.figure.axes[2].get_lines()[0]
    before = masked.get_ydata().copy(), grad.get_ydata().copy()
    image = asym_board.image.value
    asym_board.sliders[name].value = value
    after = masked.get_ydata(), grad.get_ydata()
    assert any(b.shape != a.shape or not np.allclose(b, a, equal_nan=True) for b, a in zip(before, after))
    assert asym_board.image.value != image
    assert len(masked.get_ydata()) == asym_board.sliders["L"].value
    assert grad.get_xdata()[-1] == asym_board.sliders["L"].value
    assert _matches_full_redraw(asym_board)
    # the right panel's title says what the line of slope (4.6) says: TV-L1 grows, by the slope's norm per step
    p, values = problems.tv_l1_denoising_1d(n=16), asym_board.values()
    trace = chambolle_pock(p.K, p.F, p.G, p.x, tau=values["tau"], sigma=values["sigma"], theta=values["theta"],
                           L=values["L"])
    slope = np.linalg.norm(asymptotics.predicted_slope(trace, p.y))     # (4.6) from the masks at l = L
    # settled: the masks at l = L are those at the end of a much longer run (off the kinks), found without the solution
    long = asymptotics.masks(chambolle_pock(p.K, p.F, p.G, p.x, tau=values["tau"], sigma=values["sigma"],
                                            theta=values["theta"], L=max(20000, 20 * values["L"])))
    at_L = slice(values["L"] - 1, values["L"])
    off = ~(long.M_P_kink[at_L] | long.M_P_kink[-1:]), ~(long.M_D_kink[at_L] | long.M_D_kink[-1:])
    settled = not (np.any((long.M_P[at_L] != long.M_P[-1:]) & off[0]) or np.any((long.M_D[at_L] != long.M_D[-1:]) & off[1]))
    assert asym_board.figure.axes[2].get_title() == (rf"$\nabla_K\ell$: grows by {slope:.3g}/step (4.6)" if settled
                                                     else r"$\nabla_K\ell$: masks not yet settled")


def test_asymptotics_says_when_the_masks_have_not_settled_by_L():
    """Student review: at tau/2 the first 1500 steps of the presenter's TV-L1 show a last mask change at l = 324,
    but the masks change again at l = 1664 (a run of 20000 steps): no l_o, no verdict on the growth."""
    p = problems.tv_l1_denoising_1d(n=48, beta=1.0, alpha=0.5)
    board = widgets.asymptotics_dashboard(problem=p, L=1500, L_max=3000)
    assert board.figure.axes[2].get_title() == r"$\nabla_K\ell$: grows by 2.56/step (4.6)"
    assert board.figure.axes[0].get_title() == r"Mask changes, last $l$ = 914"
    assert "masks at l = L are the solution's, last change at l = 914" in board.status.value
    marks = [line for ax in board.figure.axes[:2] for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(marks) == 2 and all(m.get_visible() and np.allclose(m.get_xdata(), 914) for m in marks)  # l_o, both panels
    assert board.figure.axes[2].get_lines()[1].get_visible()            # the line of slope (4.6)
    board.sliders["tau"].value = p.tau / 2
    long = asymptotics.masks(chambolle_pock(p.K, p.F, p.G, p.x, tau=board.sliders["tau"].value, sigma=p.sigma,
                                            L=20000))
    assert long.l_o > 1500                                              # the masks do change after L
    assert board.figure.axes[2].get_title() == r"$\nabla_K\ell$: masks not yet settled"
    assert board.figure.axes[0].get_title() == "Mask changes: not settled"
    assert "differ from the solution's in 2 entries: they change after L (lₒ > L)" in board.status.value
    slope_line = board.figure.axes[2].get_lines()[1]
    assert slope_line.get_label() == "line with slope (4.6)" and not slope_line.get_visible()   # not the growth
    assert not any(m.get_visible() for m in marks)                      # no l_o to mark
    board.sliders["L"].value = 3000                                     # l_o = 1664 within L
    assert board.figure.axes[0].get_title() == rf"Mask changes, last $l$ = {long.l_o}"
    # lecturer review: at L = 3000 the masked residuals fall to rounding level (about 1e-16) and vanished below the
    # panel: they now run along its bottom, which the y label names
    ax_res = board.figure.axes[1]
    residuals = [line for line in ax_res.get_lines() if "delta" in line.get_label()]
    assert len(residuals) == 4 and "rounding" in ax_res.get_ylabel()
    assert all(np.nanmin(line.get_ydata()) >= ax_res.get_ylim()[0] for line in residuals)
    assert min(np.nanmin(line.get_ydata()) for line in residuals) < 1e-15 * ax_res.get_ylim()[1]
    assert _matches_full_redraw(board)


def test_asymptotics_prepares_a_drag_of_L_in_idle_time(monkeypatch):
    """After the idle work, a drag of L up to L_max runs no forward pass and no gradient norm of the grid (both
    come from the memo); steps that break (2.8) leave nothing to prepare and the idle work does not fail."""
    board = widgets.asymptotics_dashboard(problem=problems.tv_l1_denoising_1d(n=16), L=60, L_max=300)
    board.idle.drain()
    calls = []
    state_module = sys.modules["cpteach.widgets._state"]
    asym_module = sys.modules["cpteach.widgets.asymptotics"]
    for module, name in ((state_module, "chambolle_pock"), (asym_module, "_grad_norm")):
        original = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _f=original, _n=name, **k: calls.append(_n) or _f(*a, **k))
    for L in (100, 200, 299, 300):
        board.sliders["L"].value = L
    assert calls == [] and board.updates > 0
    board.sliders["tau"].value = 10.0                  # tau*sigma*||K||^2 >= 1: the frame shows the error
    board.idle.drain()
    board.sliders["tau"].value = 0.3
    board.idle.drain()                                 # the run of L_max steps and the grid for tau = 0.3
    assert "chambolle_pock" in calls and calls.count("_grad_norm") >= 8
    calls.clear()
    board.sliders["L"].value = 150
    assert calls == []


def test_iteration_residuals_match_kernel_residuals():
    # oracle: kernel_residuals backpropagates separately for the fixed l and builds the masks of iteration l
    p = problems.tv_l1_denoising_1d(n=16)
    trace = chambolle_pock(p.K, p.F, p.G, p.x, tau=0.5, sigma=0.5, L=80)
    run = asymptotics.iteration_residuals(trace, p.y)
    for l in (1, 30, 80):
        r = asymptotics.kernel_residuals(trace, p.y, l, [80])
        np.testing.assert_allclose(run.DK_delta_P[l - 1], r.DK_delta_P[0], rtol=1e-10)
        np.testing.assert_allclose(run.K_delta_P[l - 1], r.K_delta_P[0], rtol=1e-10)
        np.testing.assert_allclose(run.PKt_delta_D[l - 1], r.PKt_delta_D[0], rtol=1e-10, atol=1e-300)
        np.testing.assert_allclose(run.delta_D_norm[l - 1], r.delta_D_norm[0], rtol=1e-10, atol=1e-300)


def test_step_status_says_the_guarantee_is_for_theta_one():
    K = problems.tv_denoising_1d(n=20).K
    assert "guarantees convergence for θ = 1 only" not in widgets.step_condition_html(K, 0.5, 0.5, 1.0)
    assert "guarantees convergence for θ = 1 only" in widgets.step_condition_html(K, 0.5, 0.5, 0.5)


def test_asymptotics_run_gradient_norms_match_backprop():
    p = problems.tv_l1_denoising_1d(n=16)
    run = widgets.asymptotics_run(p, 80, 0.5, 0.5, 1.0)
    trace = chambolle_pock(p.K, p.F, p.G, p.x, tau=0.5, sigma=0.5, L=80)
    for L, norm in zip(run.Ls, run.grad_norms):
        assert norm == pytest.approx(np.linalg.norm(backprop(trace.prefix(int(L)), p.y).grad_K), rel=1e-12)
    assert run.residuals.masks.l_o == asymptotics.masks(trace).l_o


def test_predicted_slope_matches_the_observed_growth():
    # (4.6) from the masks of the last iteration against finite differences of ||grad_K|| in L
    p = problems.tv_l1_denoising_1d(n=16)
    run = widgets.asymptotics_run(p, 800, 0.5, 0.5, 1.0)
    assert run.slope_norm > 0
    observed = (run.grad_norms[-1] - run.grad_norms[-2]) / (run.Ls[-1] - run.Ls[-2])
    assert observed == pytest.approx(run.slope_norm, rel=1e-3)


# notebook 04: fixed_point_dashboard ---------------------------------------------------

@pytest.fixture(scope="module")
def fp_board():
    return widgets.fixed_point_dashboard(problem=problems.ball_problem(k=12, n=8), L=20, L_max=300)


@pytest.mark.parametrize("name, value", [("L", 200), ("tau", 0.2), ("sigma", 0.3), ("theta", 0.5)])
def test_fixed_point_slider_changes_the_figure(fp_board, name, value):
    cosine = fp_board.figure.axes[0].get_lines()[0]
    unrolled = fp_board.figure.axes[3].images[0]
    before = cosine.get_ydata().copy(), np.array(unrolled.get_array()).copy()
    image = fp_board.image.value
    fp_board.sliders[name].value = value
    after = cosine.get_ydata(), np.array(unrolled.get_array())
    assert any(b.shape != a.shape or not np.allclose(b, a) for b, a in zip(before, after))
    assert fp_board.image.value != image
    assert cosine.get_xdata()[-1] == fp_board.sliders["L"].value
    heat = [ax.images[0] for ax in fp_board.figure.axes[3:6]]
    assert len({im.norm.vmax for im in heat}) == 1        # one colour scale for the three gradients,
    p = problems.ball_problem(k=12, n=8)                   # the implicit's: it does not move with tau, sigma, theta
    steps = {k: fp_board.sliders[k].value for k in ("tau", "sigma", "theta")}
    scales = {plotting.percentile_scale(widgets.fixed_point_reference(p, **s).implicit)
              for s in (steps, {"tau": p.tau, "sigma": p.sigma, "theta": 1.0})}
    assert scales == {heat[0].norm.vmax}
    # each moving map's title gives its size in the implicit's units (lecturer review: a one-step gradient of 0.23
    # times the implicit's size read as blank on the shared scale)
    implicit = widgets.fixed_point_reference(p, **steps).implicit
    one_step = widgets.fixed_point_reference(p, **steps).one_step
    ratio = np.linalg.norm(one_step) / np.linalg.norm(implicit)
    assert [t.get_text() for t in fp_board.figure.axes[4].texts] == [f"‖·‖ = {ratio:.2g} × implicit"]
    ax_err = fp_board.figure.axes[1]                       # every error curve below the top frame (student review:
    errors = [np.nanmax(line.get_ydata()) for line in ax_err.get_lines()]   # a one-step error of ~1 sat on it)
    assert max(errors) * 2 <= ax_err.get_ylim()[1] and min(errors) >= 2 * ax_err.get_ylim()[0]   # nor on the bottom
    assert _matches_full_redraw(fp_board)


def test_fixed_point_error_axis_keeps_errors_of_one_off_its_frames():
    """Lecturer review: on L1-L1 at sigma = 0.004 every error is at least 1 and the one-step line sat on the bottom
    frame (the axis started at 10^0)."""
    board = widgets.fixed_point_dashboard(problem=problems.l1_l1_problem())
    board.sliders["sigma"].value = 0.004
    ax_err = board.figure.axes[1]
    errors = [np.nanmin(line.get_ydata()) for line in ax_err.get_lines()]
    assert min(errors) >= 0.99 and min(errors) >= 2 * ax_err.get_ylim()[0]


def test_fixed_point_run_against_the_library():
    p = problems.ball_problem(k=12, n=8)
    run = widgets.fixed_point_run(p, 300, p.tau, p.sigma, 1.0)
    c = compare_gradients(p.K, p.F, p.G, p.x, p.y, [int(run.Ls[0]), 300], tau=p.tau, sigma=p.sigma, tol=1e-10)
    np.testing.assert_allclose(run.cosine[[0, -1]], c.unrolled_cosine, atol=1e-6)
    assert run.one_step_cosine == pytest.approx(c.one_step_cosine, abs=1e-6)
    assert run.reference.warning == ""


def test_fixed_point_tau_step_redraws_only_what_tau_moves():
    """A tau step moves the one-step gradient (drawn per frame) but not the implicit one, which stays in the
    cached background: no repaint while the colour scale stays, and what it shows is the implicit gradient at
    the new tau (computed here) within a thousandth of the colour scale (a colour level is 2/256 of it)."""
    from cpteach.widgets.fixed_point import fixed_point_reference

    p = problems.ball_problem()
    board = widgets.fixed_point_dashboard(problem=p, L=30, L_max=200)
    implicit = next(im for ax in board.figure.axes for im in ax.get_images() if ax.get_title().startswith("implicit"))
    one_step = next(im for ax in board.figure.axes for im in ax.get_images() if ax.get_title().startswith("one-step"))
    unchanged_scale = 0
    for _ in range(3):
        draws, before, vmax = (board.full_draws, board.partial_draws), one_step.get_array().copy(), implicit.norm.vmax
        board.sliders["tau"].value /= 1.03
        v = board.values()
        reference = fixed_point_reference(p, v["tau"], v["sigma"], v["theta"])
        assert not np.allclose(one_step.get_array(), before) and np.allclose(one_step.get_array(), reference.one_step)
        assert np.max(np.abs(implicit.get_array() - reference.implicit)) <= 1e-3 * implicit.norm.vmax
        if implicit.norm.vmax == vmax:
            unchanged_scale += 1
            assert (board.full_draws, board.partial_draws) == draws        # nothing static changed
    assert unchanged_scale >= 1


@pytest.mark.parametrize("name", ["theta", "tau"])
def test_fixed_point_round_trip_of_a_step_slider_comes_back_to_its_frame(name):
    """Six steps of theta (or tau) away and back, as a lecturer's arrow keys do: each new value stores a run, a
    reference and a grid of (cosine, error) pairs in the bounded memo, which drops the oldest; the pairs of
    the start must be computed again where they were dropped (a lecturer's review found the tab stuck on
    numpy's 'inhomogeneous shape' error here), and the frame is the one of the start."""
    board = widgets.fixed_point_dashboard(problem=problems.tv_denoising_1d(dense=True))
    shown = lambda: board.status.value.split("<span class='cpteach-frame'")[0]     # noqa: E731  (the record aside)
    slider, first = board.sliders[name], shown()
    start = slider.value
    for _ in range(6):
        slider.value = round(slider.value - 0.05, 2) if name == "theta" else slider.value / 1.03
    slider.value = start
    assert '"stale": false' in board.status.value and shown() == first and "cosine to implicit" in first


def test_fixed_point_board_shows_the_error_for_bad_steps(fp_board):
    fp_board.sliders["sigma"].value = 0.5
    fp_board.sliders["tau"].value = 10.0 ** fp_board.sliders["tau"].max
    assert "condition fails" in fp_board.status.value and "⚠" in fp_board.status.value
    fp_board.sliders["tau"].value = 0.3
    assert "condition fails" not in fp_board.status.value and "one-step" in fp_board.status.value


# the lecturer's figure ----------------------------------------------------------------

@pytest.mark.parametrize("make, applies", [(lambda: problems.ball_problem(), True),
                                           (lambda: problems.tv_denoising_1d(n=20, dense=True), False)])
def test_fixed_point_board_states_whether_the_theorem_applies(make, applies):
    """The status names the verdict of the theorem's conditions (section 5C) at the shown steps, computed here
    independently; 1-D TV has a non-unique dual, so its 'implicit' reference is not the theorem's limit."""
    from cpteach.fixed_point import theorem_conditions

    p = make()
    board = widgets.fixed_point_dashboard(problem=p, L=20, L_max=100)
    verdict = theorem_conditions(p.K, p.F, p.G, p.x, p.x_star, p.xi_star, tau=p.tau, sigma=p.sigma).verdict
    assert verdict.startswith("the theorem applies" if applies else "the theorem does NOT apply")
    shown = html.unescape(board.status.value)
    if applies:
        assert "theorem (5C) holds: the unrolled gradients converge to the implicit one, the true gradient" in shown
    else:     # the conditions that fail, by name, and what 'implicit' then is
        assert "theorem (5C) fails: dual not unique (1; a zero row of K), I − Jᵀ singular (3); nothing then " \
            "guarantees that the unrolled gradients converge to 'implicit' (what GMRES returns for (5.5))" in shown
        assert "dual not unique (1)" in verdict and "singular (3)" in verdict
    # the figure says it too, in large type for the back row: green where it holds, the failed conditions in red
    text = next(t for t in board.figure.axes[2].texts if t.get_animated())
    assert text.get_text() == ("theorem (5C) holds:\nunrolled → implicit as L → ∞" if applies else
                               "theorem (5C) fails:\ndual not unique (1; a zero row of K)\nI − Jᵀ singular (3)")
    assert text.get_color() == ("green" if applies else "#c00000")
    board.sliders["theta"].value = 0.5                       # the theorem is stated for theta = 1
    assert "theorem (5C) is stated for θ = 1, not this θ (conditions 1-3 " in html.unescape(board.status.value)
    assert text.get_text().startswith("theorem (5C): stated for θ = 1") and text.get_color() == "#c00000"


def test_regimes_dashboard_marks_L_and_reads_the_grid():
    board = widgets.regimes_dashboard(L=10, L_max=200, points=4)     # grid L' = 1, 6, 34, 200
    markers = [line for ax in board.figure.axes for line in ax.get_lines() if line.get_animated()
               and line.get_linestyle() == "-"]
    dots = next(c for c in board.figure.axes[0].collections if c.get_animated())
    # each dot in its problem's colour: that of its curve
    curves = [line for line in board.figure.axes[0].get_lines() if line.get_label().endswith("unrolled")
              or line.get_label().endswith("vs one-step")]
    assert [tuple(c) for c in dots.get_facecolors()] == [matplotlib.colors.to_rgba(line.get_color()) for line in curves]
    image = board.image.value
    board.sliders["L"].value = 40
    assert all(np.allclose(m.get_xdata(), [40, 40]) for m in markers) and len(markers) == 2
    assert "interpolated between the computed L = 34 and 200" in board.status.value and board.image.value != image
    from cpteach import fixed_point
    r = fixed_point.gradient_regimes({"ball": problems.ball_problem()}, L_max=200, points=4)
    # the dot on the ball's error curve: log-log interpolation between L' = 34 and 200; the status reads it
    expected = 10 ** np.interp(np.log10(40), np.log10(r.Ls), np.log10(r.rel_error[0]))
    assert dots.get_offsets()[1, 1] == pytest.approx(expected, rel=1e-9)
    cosine = np.interp(np.log10(40), np.log10(r.Ls), r.cosine[0])
    cosine_dots = next(c for c in board.figure.axes[1].collections if c.get_animated())       # in the cosine panel too
    assert cosine_dots.get_offsets()[1, 1] == pytest.approx(cosine, rel=1e-9)
    assert f"ball constraint: theorem (5C) holds; to implicit (5.5): error {expected:.1e}, cosine {cosine:.3f}" \
        in board.status.value
    # each problem's line says whether the theorem's conditions hold, from theorem_conditions computed here
    from cpteach.widgets.regimes import default_regimes
    for name, p in default_regimes().items():
        c = fixed_point.theorem_conditions(p.K, p.F, p.G, p.x, p.x_star, p.xi_star, tau=p.tau, sigma=p.sigma)
        line = next(line for line in board.status.value.split("<br>") if line.startswith(name + ":"))
        assert ("theorem (5C) holds;" in line) == c.applies and ("fails" in line) == (not c.applies), line
        assert c.applies or "primal not unique (1)" in line and "I − Jᵀ singular (3)" in line   # TV-L1: plateaus
    assert "TV-L1: theorem (5C) fails" in board.status.value and "to one-step (5.3): error" in board.status.value
    # why TV-L1's cosine to the one-step gradient rises: it grows along (4.6), computed from its solution's masks
    growth = fixed_point.gradient_regimes({"TV-L1": default_regimes()["TV-L1"]}, L_max=2, points=2).growth_cosine[0]
    assert f"TV-L1 has no limit: it grows along (4.6), which here has cosine {growth:.3f} to the one-step" \
        in board.status.value and growth > 0.999
    board.sliders["L"].value = 34.0                                  # on a grid point: its values
    assert "L = 34 (computed):" in board.status.value
    assert f"error {r.rel_error[0, 2]:.1e}, cosine {r.cosine[0, 2]:.3f}" in board.status.value.split("<br>")[2]
    # every arrow key (one slider step) moves the marker visibly: at least 4 CSS px
    slider, ax = board.sliders["L"], board.figure.axes[0]
    for value in (1.0, 40.0):
        slider.value = value
        before = ax.transData.transform((markers[0].get_xdata()[0], 1.0))[0]
        slider.value = slider.base ** (np.log10(value) + slider.step)
        after = ax.transData.transform((markers[0].get_xdata()[0], 1.0))[0]
        assert (after - before) / (board.figure.dpi / 96) >= 4


def test_regimes_dashboard_uses_its_problems():
    board = widgets.regimes_dashboard(problems={"ball": problems.ball_problem(k=6, n=4)}, L=10, L_max=50, points=4)
    assert "ball: theorem (5C) holds; to implicit (5.5): error" in board.status.value
    assert "no limit" not in board.status.value
    assert "TV-L1" not in board.status.value


# the presenter ------------------------------------------------------------------------

def test_projector_layout_sizes_the_text_for_the_shown_figure():
    """Laid out for a projector, the figure's smallest text is 20 CSS px at the size it is shown (1240 px
    wide; the layout is computed smaller and rendered at the same pixels), the sliders share one row with
    L's track twice as long, and the frame stays the figure of the same values."""
    board = widgets.cp_dashboard(problem=problems.tv_denoising_1d(n=30), L=20)
    assert board.min_text_px * 1240 / board.css_size[0] < 19            # the notebook's layout: smaller text
    board.projector_layout()
    assert board.min_text_px * 1240 / board.css_size[0] == pytest.approx(20, abs=0.05)
    width, height = PIL.Image.open(io.BytesIO(board.image.value)).size
    assert width == pytest.approx(1240 * 1.5, abs=2) and height == pytest.approx(520 * 1.5, abs=2)   # 1.5 px per CSS px
    assert board.controls.layout.grid_template_columns == "2fr 1fr 1fr 1fr"
    assert all(slider.layout.grid_column == "auto" for slider in board.sliders.values())
    assert board.children == (board.controls, board.status, board.image)
    before = board.image.value
    board.sliders["L"].value = 5
    assert board.image.value != before

def test_presenter_builds_lazily_and_keeps_the_tab():
    box = widgets.presenter()
    assert isinstance(box, widgets.Presenter)
    names = list(problems.PRESENTER_PROBLEMS)
    fixed = next(i for i, tab in enumerate(widgets.PRESENTER_TABS) if tab.build is widgets.fixed_point_dashboard)
    assert len(box.tabs.children) == len(widgets.PRESENTER_TABS) and list(box.dashboards) == [(names[0], 0)]
    first = box.current()
    before = first.image.value
    first.sliders["L"].value += 3
    assert first.image.value != before
    box.tabs.selected_index = fixed
    assert (names[0], fixed) in box.dashboards and (names[0], 1) not in box.dashboards
    box.chooser.value = names[1]
    assert box.tabs.selected_index == fixed and box.current() is box.dashboards[(names[1], fixed)]
    assert box.tabs.children[fixed].children[0] is box.current()
    box.chooser.value = names[0]
    assert box.current() is box.dashboards[(names[0], fixed)]       # built once, reused
    assert "update" not in box.current().status.value.split("cpteach-frame")[0]   # no visible counter
    assert box.chooser.layout.visibility == "visible"
    labels = [label for label, _ in box.chooser.options]               # the names in the status line's Unicode
    assert "‖·‖₁" in labels[0] and not any("||" in label or "_1" in label for label in labels)
    with pytest.raises(ValueError, match="choose one of"):
        widgets.presenter("no such problem")


def test_presenter_asymptotics_x_limits_follow_L_both_ways():
    # opened at L = 1500 of 3000: at L = 285 the curves fill the panels (0-300), not 15 % of 0-2000
    box = widgets.presenter(prebuild_others=False)
    box.tabs.selected_index = next(i for i, tab in enumerate(widgets.PRESENTER_TABS) if "asymptotics" in tab.title)
    board = box.current()
    for L, end in ((285, 300), (2900, 3000), (285, 300), (12, 20)):
        board.sliders["L"].value = L
        assert all(ax.get_xlim() == (0.0, end) for ax in board.figure.axes[:3]), board.figure.axes[0].get_xlim()
        assert _matches_full_redraw(board)


def test_presenter_dashboards_wait_for_a_pause_on_every_tab():
    # a hidden tab's idle work (the asymptotics run of L_max steps) must not run while a shown tab is dragged
    box = widgets.presenter(prebuild_others=False)
    box.tabs.selected_index = next(i for i, tab in enumerate(widgets.PRESENTER_TABS) if "asymptotics" in tab.title)
    hidden = box.current()
    box.tabs.selected_index = 0
    shown = box.current()
    shown.sliders["L"].value += 1
    assert hidden.idle.last_active() == hidden.neighbours.last_active() == shown.last_active > hidden.last_active


@pytest.mark.parametrize("L, end", [(1, 1), (7, 10), (11, 20), (285, 300), (301, 500), (1999, 2000), (2500, 2000)])
def test_axis_length_is_the_next_step_at_or_above_L(L, end):
    from cpteach.widgets._dashboard import axis_length
    assert axis_length(L, 2000) == end and (L > 2000 or L <= end <= 2 * L)


def test_presenter_hides_the_chooser_where_the_problems_are_fixed():
    box = widgets.presenter(prebuild_others=False)
    fixed = [i for i, tab in enumerate(widgets.PRESENTER_TABS) if not tab.per_problem]
    assert fixed and "l1_l1" in " ".join(problems.PRESENTER_PROBLEMS).replace("-", "_").lower()
    box.tabs.selected_index = fixed[-1]
    assert box.chooser.layout.visibility == "hidden"
    board = box.current()
    box.chooser.value = list(problems.PRESENTER_PROBLEMS)[1]
    assert box.current() is board                                   # the same figure, not rebuilt


def test_frames_shown_before_come_from_the_frame_cache_and_equal_a_redraw():
    """Back at values drawn before, the kept frame is sent (byte for byte the frame a full redraw gives) while
    the artists still take the values; a prerendered frame likewise; a new layout empties the cache."""
    board = widgets.cp_dashboard(problem=problems.tv_denoising_1d(n=20), L=10)
    line = board.figure.axes[0].get_lines()[0]
    slider = board.sliders["L"]
    slider.value = 20
    first, data = bytes(board.image.value), line.get_ydata().copy()
    slider.value = 30
    assert not board.last_frame_cached
    slider.value = 20
    assert board.last_frame_cached and bytes(board.image.value) == first
    np.testing.assert_array_equal(line.get_ydata(), data)               # the figure holds the current values
    assert _matches_full_redraw(board)
    board.prerender(**{**board.values(), "L": 40})
    np.testing.assert_array_equal(line.get_ydata(), data)               # the artists went back to L = 20
    slider.value = 40
    assert board.last_frame_cached and _matches_full_redraw(board)
    board.set_pixel_ratio(1.0)
    slider.value = 20
    assert not board.last_frame_cached and _matches_full_redraw(board)


def test_the_frames_one_arrow_key_away_are_drawn_in_idle_time():
    """After a pause, the frames of L - 1 and L + 1 are in the frame cache, whichever slider moved: the next
    arrow key sends one at once, equal to a full redraw; a float slider's neighbours are not guessed."""
    board = widgets.cp_dashboard(problem=problems.tv_denoising_1d(n=20), L=50)    # 50 -> 51: a new axis length
    board.neighbours.drain()                            # what the kernel does in the first pause
    board.sliders["L"].value = 51
    assert board.last_frame_cached and _matches_full_redraw(board)
    board.neighbours.drain()
    board.sliders["L"].value = 50
    assert board.last_frame_cached and _matches_full_redraw(board)
    tau = board.sliders["tau"].value
    board.sliders["tau"].value = tau / 1.05
    board.neighbours.drain()                            # tau moved: L +- 1 at the new tau
    board.sliders["L"].value = 49
    assert board.last_frame_cached and _matches_full_redraw(board)
    board.sliders["tau"].value = tau / 1.2
    assert not board.last_frame_cached                  # tau's own neighbours are not guessed


def test_a_browser_change_is_drawn_after_the_message_and_changes_coalesce():
    """A value set by the front end (ipywidgets' ``set_state``, inside the kernel's event loop) is drawn once
    the loop runs on, with the changes that came meanwhile in one frame; a value set by Python is drawn at once."""
    board = widgets.cp_dashboard(problem=problems.tv_denoising_1d(n=20), L=10)
    slider = board.sliders["L"]
    seen = []

    async def scenario():
        before = board.updates
        slider.set_state({"value": 12})
        slider.set_state({"value": 15})
        seen.append(board.updates - before)          # nothing drawn inside the message handler
        await asyncio.sleep(0.05)
        seen.append(board.updates - before)          # one frame for both changes
        slider.value = 17                            # Python: at once
        seen.append(board.updates - before)

    runner = threading.Thread(target=lambda: asyncio.run(scenario()))
    runner.start()
    runner.join(timeout=30)
    assert seen == [0, 1, 2]
    assert json.loads(html.unescape(board.status.value.split("cpteach-frame' style='display:none'>")[1]
                                    .split("</span>")[0]))["values"]["L"] == 17
    assert _matches_full_redraw(board)


def test_idle_work_runs_on_the_event_loop_only_while_idle():
    done, active = [], [time.monotonic()]

    async def scenario():
        work = IdleWork(lambda: active[0], idle_s=0.2, tick_s=0.01)
        work.replace([lambda i=i: done.append(i) for i in range(3)])
        for _ in range(5):                     # a slider moves every 0.05 s: nothing runs
            await asyncio.sleep(0.05)
            active[0] = time.monotonic()
        assert done == []
        await asyncio.sleep(0.5)
        return work.pending

    # a thread of its own: in the full suite the browser tests' Playwright keeps an event loop
    # running in the main thread, where asyncio.run() refuses to start another
    pending = []
    runner = threading.Thread(target=lambda: pending.append(asyncio.run(scenario())))
    runner.start()
    runner.join(timeout=30)
    assert pending == [0] and done == [0, 1, 2]
    work = IdleWork(lambda: 0.0)
    work.replace([lambda: done.append(3)])     # no event loop: nothing runs by itself
    assert work.pending == 1 and done[-1] == 2
    work.drain()
    assert done[-1] == 3 and work.pending == 0


def test_presenter_holds_back_the_frames_it_builds_in_idle_time():
    # a page that connects to a preheated kernel fetches every widget's state: only shown frames go out
    box = widgets.presenter(tabs=widgets.PRESENTER_TABS[:2])
    box.idle.drain()
    shown = box.current()
    hidden = [board for board in box.dashboards.values() if board is not shown]
    assert len(hidden) == 2 * len(problems.PRESENTER_PROBLEMS) - 1
    assert shown.image.value and not any(board.image.value for board in hidden)
    box.tabs.selected_index = 1
    board = box.current()
    assert board in hidden and bytes(board.image.value[:2]) == b"\xff\xd8"     # its frame, a JPEG, now sent
    assert "values" in board.status.value                                       # with its frame record
