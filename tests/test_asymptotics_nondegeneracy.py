"""cpteach.asymptotics.nondegeneracy (docs/theory.md, (4.1), when the masks settle: the kink margin)."""
import numpy as np
import pytest

from cpteach import asymptotics, prox


def test_kink_margin_is_the_distance_at_which_a_mask_first_changes(l1_l1):
    """Oracle: the masks (4.1) themselves. Shifting every argument by less than the margin changes no mask;
    shifting by a bit more changes one. G given as the conjugate of a box takes the Conjugate path."""
    p = l1_l1
    margin = asymptotics.kink_margin(p.K, p.F, p.G, p.x, p.x_star, p.xi_star, tau=p.tau, sigma=p.sigma)
    v_P = p.x_star - p.tau * p.K.adjoint(p.xi_star) - p.x
    z_D = p.xi_star + p.sigma * p.K.apply(p.x_star)
    F_conj = p.F.conjugate()

    def changed(shift):
        return (np.any(p.G.mask(v_P + shift, p.tau) != p.G.mask(v_P, p.tau))
                or np.any(F_conj.mask(z_D + shift, p.sigma) != F_conj.mask(z_D, p.sigma)))

    assert 0 < margin < np.inf
    assert not changed(0.99 * margin) and not changed(-0.99 * margin)
    assert changed(1.01 * margin) or changed(-1.01 * margin)
    G_conj_box = prox.Box(-p.G.weight, p.G.weight).conjugate()          # alpha ||.||_1 via Moreau (2.6)
    assert asymptotics.kink_margin(p.K, p.F, G_conj_box, p.x, p.x_star, p.xi_star, tau=p.tau,
                                   sigma=p.sigma) == pytest.approx(margin, rel=1e-12)
    with pytest.raises(TypeError, match="0/1 mask"):
        asymptotics.kink_margin(p.K, p.F, prox.SquaredL2(), p.x, p.x_star, p.xi_star, tau=p.tau, sigma=p.sigma)
