"""The lecturer's figure (fixed_point.gradient_regimes, plotting.plot_gradient_regimes): its numbers against
separately computed unrolled gradients and against the known behaviour of the three regimes."""
import numpy as np
import pytest

from cpteach import backprop, chambolle_pock, implicit_gradient, plotting, problems
from cpteach.fixed_point import gradient_regimes


@pytest.fixture(scope="module")
def regimes():
    return gradient_regimes({"L1-L1": problems.l1_l1_problem(), "ball": problems.ball_problem(),
                             "TV-L1": problems.tv_l1_denoising_1d()}, L_max=1000, points=6)


def test_shapes_and_references(regimes):
    assert regimes.names == ("L1-L1", "ball", "TV-L1")
    assert regimes.Ls[0] == 1 and regimes.Ls[-1] == 1000 and np.all(np.diff(regimes.Ls) > 0)
    assert regimes.cosine.shape == regimes.rel_error.shape == (3, len(regimes.Ls))
    assert regimes.one_step_cosine.shape == regimes.gmres_residual.shape == (3,)
    assert regimes.references == ("implicit", "implicit", "one-step")     # TV-L1: (5.5) has no solution
    assert regimes.gmres_residual[2] > 1e-3 > 1e-6 > regimes.gmres_residual[:2].max()
    assert np.isnan(regimes.one_step_cosine[2]) and np.all(np.isfinite(regimes.one_step_cosine[:2]))
    assert [c.applies for c in regimes.conditions] == [True, True, False]  # section 5C: TV-L1's plateaus fail it


def test_entries_match_separately_unrolled_gradients(regimes):
    # an independent run of L iterations (not a prefix of a longer trace) and its own reference
    p = problems.ball_problem()
    ref = implicit_gradient(p.K, p.F, p.G, p.x, p.y, tau=p.tau, sigma=p.sigma, tol=1e-12).grad_K
    for m in (1, 3):
        L = int(regimes.Ls[m])
        g = backprop(chambolle_pock(p.K, p.F, p.G, p.x, tau=p.tau, sigma=p.sigma, L=L), p.y).grad_K
        error = np.linalg.norm(g - ref) / np.linalg.norm(ref)
        cosine = np.sum(g * ref) / (np.linalg.norm(g) * np.linalg.norm(ref))
        assert regimes.rel_error[1, m] == pytest.approx(error, rel=1e-6)
        assert regimes.cosine[1, m] == pytest.approx(cosine, rel=1e-6)


def test_summable_regimes_converge_and_tv_l1_grows(regimes):
    l1_l1, ball, tv_l1 = regimes.rel_error
    assert l1_l1[-1] < 1e-3 < l1_l1[0] and ball[-1] < 1e-8 < ball[0]    # (4.5): the limit is the implicit gradient
    assert regimes.cosine[:2, -1].min() > 1 - 1e-6
    # TV-L1: the gradient grows linearly in L (4.6), so its distance to any fixed vector grows like L
    assert np.all(np.diff(tv_l1[-3:]) > 0)
    growth = tv_l1[-1] / tv_l1[-2]
    assert 0.5 * regimes.Ls[-1] / regimes.Ls[-2] < growth < 1.5 * regimes.Ls[-1] / regimes.Ls[-2]
    # it grows along (4.6), which on TV-L1 is the one-step gradient (M_P e* lies in ker K_M, so delta_D* = 0 and
    # (4.3) leaves M_P e* as it is): the cosine of the unrolled one to it rises towards 1
    assert np.isnan(regimes.growth_cosine[:2]).all() and regimes.growth_cosine[2] > 1 - 1e-9
    assert regimes.cosine[2, -1] > regimes.cosine[2, -2] > 0.5
    # the one-step gradient is not the limit: clearly off on both summable problems
    assert np.all(regimes.one_step_rel_error[:2] > 0.3) and np.all(regimes.one_step_cosine[:2] < 0.95)


def test_plot_labels_every_curve(regimes):
    fig, axes = plotting.new_figure(2)
    lines = plotting.plot_gradient_regimes(axes, regimes)
    assert sorted(lines) == sorted(regimes.names)
    for ax in axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    labels = [line.get_label() for line in axes[1].get_lines()]
    assert "TV-L1 (5C fails, no limit): unrolled vs one-step" in labels and "ball: one-step" in labels
    assert "L1-L1 (5C holds): unrolled" in labels and "ball (5C holds): unrolled" in labels
    assert not any("TV-L1: one-step" in label for label in labels)      # no one-step line without a limit
    np.testing.assert_allclose(lines["ball"].get_ydata(), np.maximum(regimes.rel_error[1], 1e-17))


def test_bad_input_is_rejected():
    with pytest.raises(TypeError, match="dict"):
        gradient_regimes([problems.ball_problem(k=6, n=4)])
    with pytest.raises(ValueError, match="L_max"):
        gradient_regimes({"ball": problems.ball_problem(k=6, n=4)}, L_max=0)
