"""Headless tests of the dashboards: slider changes redraw, bad steps warn, nothing raises."""
import numpy as np
import pytest

from cpteach import widgets


@pytest.fixture(scope="module")
def cp_board():
    return widgets.cp_dashboard(problem=widgets.tv_denoising_1d(n=40, dense=True), L=20)


@pytest.fixture(scope="module")
def bp_board():
    return widgets.backprop_dashboard(problem=widgets.tv_denoising_1d(n=20, dense=True), L=10)


def _line(board, label):
    return next(line for ax in board.figure.axes for line in ax.get_lines() if line.get_label() == label)


def test_cp_dashboard_defaults():
    board = widgets.cp_dashboard()
    assert set(board.sliders) == {"L", "tau", "sigma", "theta"}
    assert board.image.value[:4] == b"\x89PNG"
    assert "&lt; 1" in board.status.value


@pytest.mark.parametrize("name, value", [("L", 35), ("tau", 0.2), ("sigma", 0.1), ("theta", 0.3)])
def test_cp_slider_changes_iterate_and_curves(cp_board, name, value):
    iterate, gap = _line(cp_board, "iterate $x^L$"), _line(cp_board, "primal-dual gap (2.7)")
    before = iterate.get_ydata().copy(), gap.get_ydata().copy()
    image = cp_board.image.value
    cp_board.sliders[name].value = value
    after = iterate.get_ydata(), gap.get_ydata()
    assert not np.array_equal(before[0], after[0]) or not np.array_equal(before[1], after[1])
    assert cp_board.image.value != image
    assert len(gap.get_ydata()) == cp_board.sliders["L"].value + 1


def test_cp_iterate_matches_the_library(cp_board):
    from cpteach import chambolle_pock
    values = cp_board.values()
    p = widgets.tv_denoising_1d(n=40, dense=True)
    trace = chambolle_pock(p.K, p.F, p.G, p.x, tau=values["tau"], sigma=values["sigma"],
                           theta=values["theta"], L=values["L"])
    np.testing.assert_allclose(_line(cp_board, "iterate $x^L$").get_ydata(), trace.x_L)


@pytest.mark.parametrize("make", ["cp_board", "bp_board"])
def test_bad_step_sizes_warn_without_raising(make, request):
    board = request.getfixturevalue(make)
    board.sliders["sigma"].value = 0.5
    board.sliders["tau"].value = 10.0 ** board.sliders["tau"].max   # tau*sigma*||K||^2 = 2*||K|| >= 1
    assert "violated" in board.status.value and "⚠" in board.status.value
    board.sliders["tau"].value = 0.3
    assert "violated" not in board.status.value


def test_cp_run_reports_invalid_steps():
    run = widgets.cp_run(widgets.tv_denoising_1d(n=10), L=5, tau=1.0, sigma=1.0, theta=1.0)
    assert not run.ok and "tau*sigma*||K||^2" in run.message and run.x_L is None


@pytest.mark.parametrize("name, value", [("L", 17), ("tau", 0.1), ("theta", 0.5)])
def test_bp_slider_changes_heatmaps(bp_board, name, value):
    images = [ax.images[0] for ax in bp_board.figure.axes[:3] if ax.images]
    before = [np.array(im.get_array()).copy() for im in images]
    bp_board.sliders[name].value = value
    after = [np.array(im.get_array()) for im in images]
    assert any(b.shape != a.shape or not np.allclose(b, a) for b, a in zip(before, after))
    assert images[0].get_array().shape[0] == bp_board.sliders["L"].value


def test_bp_heatmap_matches_backprop(bp_board):
    from cpteach import backprop, chambolle_pock
    values = bp_board.values()
    p = widgets.tv_denoising_1d(n=20, dense=True)
    trace = chambolle_pock(p.K, p.F, p.G, p.x, tau=values["tau"], sigma=values["sigma"],
                           theta=values["theta"], L=values["L"])
    grad_image = bp_board.figure.axes[2].images[0]
    np.testing.assert_allclose(grad_image.get_array(), backprop(trace, p.y).grad_K)


def test_tv_problem_solution_is_optimal():
    # x* minimises weight*||D u||_1 + 0.5||u - x||^2: the optimality residual of one prox step is ~0
    p = widgets.tv_denoising_1d(n=30, dense=True)
    from cpteach import chambolle_pock
    trace = chambolle_pock(p.K, p.F, p.G, p.x, tau=0.4, sigma=0.4, L=3000)
    np.testing.assert_allclose(trace.x_L, p.x_star, atol=1e-8)


def test_tv_problem_rejects_bad_size():
    with pytest.raises(ValueError, match="n must be an integer >= 8"):
        widgets.tv_denoising_1d(n=3)
