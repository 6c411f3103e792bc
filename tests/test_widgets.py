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


# notebook 03: asymptotics_dashboard ---------------------------------------------------

@pytest.fixture(scope="module")
def asym_board():
    return widgets.asymptotics_dashboard(problem=widgets.tv_l1_denoising_1d(n=16), L=60, L_max=300)


@pytest.mark.parametrize("name, value", [("L", 150), ("tau", 0.2), ("sigma", 0.3), ("theta", 0.5)])
def test_asymptotics_slider_changes_residuals_and_gradient(asym_board, name, value):
    masked, grad = _line(asym_board, widgets._RESIDUAL_LABELS[0]), asym_board.figure.axes[2].get_lines()[0]
    before = masked.get_ydata().copy(), grad.get_ydata().copy()
    image = asym_board.image.value
    asym_board.sliders[name].value = value
    after = masked.get_ydata(), grad.get_ydata()
    assert any(b.shape != a.shape or not np.allclose(b, a, equal_nan=True) for b, a in zip(before, after))
    assert asym_board.image.value != image
    assert len(masked.get_ydata()) == asym_board.sliders["L"].value
    assert grad.get_xdata()[-1] == asym_board.sliders["L"].value


def test_asymptotics_run_matches_the_library():
    # independent oracle: kernel_residuals of the library at the same l, and backprop's grad_K
    from cpteach import asymptotics, backprop, chambolle_pock
    p = widgets.tv_l1_denoising_1d(n=16)
    run = widgets.asymptotics_run(p, 80, 0.5, 0.5, 1.0)
    trace = chambolle_pock(p.K, p.F, p.G, p.x, tau=0.5, sigma=0.5, L=80)
    r = asymptotics.kernel_residuals(trace, p.y, 30, [80])
    np.testing.assert_allclose(run.DK_delta_P[29], r.DK_delta_P[0], rtol=1e-10)
    np.testing.assert_allclose(run.K_delta_P[29], r.K_delta_P[0], rtol=1e-10)
    np.testing.assert_allclose(run.PKt_delta_D[29], r.PKt_delta_D[0], rtol=1e-10, atol=1e-300)
    assert run.l_o == asymptotics.masks(trace).l_o
    np.testing.assert_allclose(run.grad_norms[-1], np.linalg.norm(backprop(trace, p.y).grad_K))


def test_tv_l1_widget_problem_is_not_summable():
    # the slope (4.6) from the last masks matches the observed growth of grad_K between L' points
    p = widgets.tv_l1_denoising_1d(n=16)
    run = widgets.asymptotics_run(p, 800, 0.5, 0.5, 1.0)
    assert run.slope_norm > 0
    observed = (run.grad_norms[-1] - run.grad_norms[-2]) / (run.Ls[-1] - run.Ls[-2])
    assert observed == pytest.approx(run.slope_norm, rel=1e-3)


# notebook 04: fixed_point_dashboard ---------------------------------------------------

@pytest.fixture(scope="module")
def fp_board():
    return widgets.fixed_point_dashboard(problem=widgets.ball_problem(k=12, n=8), L=20, L_max=300)


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


def test_fixed_point_run_against_the_library():
    from cpteach import compare_gradients, default_steps
    p = widgets.ball_problem(k=12, n=8)
    tau, sigma = default_steps(p.K)
    run = widgets.fixed_point_run(p, 300, tau, sigma, 1.0)
    c = compare_gradients(p.K, p.F, p.G, p.x, p.y, [int(run.Ls[0]), 300], tau=tau, sigma=sigma, tol=1e-10)
    np.testing.assert_allclose(run.cosine[[0, -1]], c.unrolled_cosine, atol=1e-6)
    assert run.one_step_cosine == pytest.approx(c.one_step_cosine, abs=1e-6)
    assert run.warning == ""


def test_fixed_point_board_warns_for_bad_steps(fp_board):
    fp_board.sliders["sigma"].value = 0.5
    fp_board.sliders["tau"].value = 10.0 ** fp_board.sliders["tau"].max
    assert "violated" in fp_board.status.value and "⚠" in fp_board.status.value
    fp_board.sliders["tau"].value = 0.3
    assert "violated" not in fp_board.status.value and "one-step" in fp_board.status.value


def test_presenter_switches_problem_and_redraws():
    box = widgets.presenter()
    assert len(box.dashboards) == 3 and len(box.tabs.children) == 3
    first = box.dashboards[0]
    before = first.image.value
    first.sliders["L"].value += 3
    assert first.image.value != before
    box.chooser.value = list(widgets.PRESENTER_PROBLEMS)[1]
    assert box.dashboards[0] is not first
    assert box.dashboards[2].figure is box.tabs.children[2].figure
    with pytest.raises(ValueError, match="choose one of"):
        widgets.presenter("no such problem")
