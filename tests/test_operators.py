"""Operators: adjoint dot tests, norms against power iteration, param_grad against finite differences."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpteach import operators


def make_operators(rng):
    return {
        "matrix": operators.Matrix(rng.standard_normal((7, 5))),
        "fd1": operators.FiniteDifference(9),
        "fd2": operators.FiniteDifference((6, 5)),
        "filterbank": operators.FilterBank(rng.standard_normal((4, 3, 5)), (8, 9)),
    }


NAMES = ["matrix", "fd1", "fd2", "filterbank"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("batch", [(), (3,), (2, 2)])
def test_adjoint_dot_product(name, batch):
    rng = np.random.default_rng(0)
    K = make_operators(rng)[name]
    u = rng.standard_normal(batch + K.shape_in)
    v = rng.standard_normal(batch + K.shape_out)
    Ku, Ktv = K.apply(u), K.adjoint(v)
    assert Ku.shape == batch + K.shape_out and Ktv.shape == batch + K.shape_in
    lhs, rhs = np.sum(Ku * v), np.sum(u * Ktv)
    assert abs(lhs - rhs) <= 1e-12 * max(1.0, abs(lhs))


def dense(K):
    """The matrix of K, column by column (an independent oracle for small sizes)."""
    eye = np.eye(K.size_in).reshape((K.size_in,) + K.shape_in)
    return K.apply(eye).reshape(K.size_in, K.size_out).T


@pytest.mark.parametrize("name", NAMES)
def test_norm_matches_power_iteration(name):
    rng = np.random.default_rng(1)
    K = make_operators(rng)[name]
    u = rng.standard_normal(K.shape_in)
    for _ in range(3000):
        u = K.adjoint(K.apply(u))
        u /= np.linalg.norm(u)
    power = np.sqrt(np.linalg.norm(K.adjoint(K.apply(u))))
    assert K.norm() == pytest.approx(power, rel=1e-6)
    assert K.norm() == pytest.approx(np.linalg.norm(dense(K), 2), rel=1e-10)


def test_filterbank_matches_direct_correlation_formula():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((2, 3, 5))
    u = rng.standard_normal((6, 7))
    K = operators.FilterBank(w, u.shape)
    expected = np.zeros((2, 6, 7))
    for c in range(2):
        for i in range(6):
            for j in range(7):
                expected[c, i, j] = sum(w[c, a, b] * u[(i + a - 1) % 6, (j + b - 2) % 7]
                                        for a in range(3) for b in range(5))
    np.testing.assert_allclose(K.apply(u), expected, atol=1e-12)


def test_finite_difference_is_forward_difference_with_neumann_boundary():
    u = np.array([[1.0, 2.0, 4.0], [0.0, 5.0, 5.0]])
    Du = operators.FiniteDifference(u.shape).apply(u)
    np.testing.assert_array_equal(Du[0], [[-1, 3, 1], [0, 0, 0]])
    np.testing.assert_array_equal(Du[1], [[1, 2, 0], [5, 0, 0]])


@pytest.mark.parametrize("shape", [(2,), (7,), (2, 2), (5, 3), (4, 6)])
@pytest.mark.parametrize("batch", [(), (3,), (2, 2)])
def test_finite_difference_against_np_diff_and_dense_transpose(shape, batch):
    """apply = np.diff with a zero appended along each axis; adjoint = the transposed dense matrix."""
    rng = np.random.default_rng(5)
    K = operators.FiniteDifference(shape)
    u = rng.standard_normal(batch + shape)
    v = rng.standard_normal(batch + K.shape_out)
    d = len(shape)
    expected = np.stack([np.diff(u, axis=u.ndim - d + i, append=np.take(u, [-1], axis=u.ndim - d + i))
                         for i in range(d)], axis=u.ndim - d)
    np.testing.assert_array_equal(K.apply(u), expected)
    M = dense(K)  # k x n, built column by column from apply
    Ktv = v.reshape(batch + (K.size_out,)) @ M
    np.testing.assert_allclose(K.adjoint(v), Ktv.reshape(batch + shape), rtol=0, atol=1e-13)


@pytest.mark.parametrize("name", ["matrix", "filterbank"])
@pytest.mark.parametrize("batch", [(), (3,)])
def test_param_grad_against_finite_differences(name, batch):
    rng = np.random.default_rng(3)
    K = make_operators(rng)[name]
    a = rng.standard_normal(batch + K.shape_out)
    b = rng.standard_normal(batch + K.shape_in)
    direction = rng.standard_normal(K.params.shape)
    eps = 1e-6

    def f(p):
        return np.sum(a * K.with_params(p).apply(b))

    fd = (f(K.params + eps * direction) - f(K.params - eps * direction)) / (2 * eps)
    analytic = np.sum(K.param_grad(a, b) * direction)
    assert analytic == pytest.approx(fd, rel=1e-7)


@pytest.mark.parametrize("name", ["matrix", "filterbank"])
def test_param_grad_sum_accumulates_weighted_terms(name):
    rng = np.random.default_rng(4)
    K = make_operators(rng)[name]
    pairs = [(rng.standard_normal(K.shape_out), rng.standard_normal(K.shape_in)) for _ in range(3)]
    acc = K.param_grad_sum()
    for i, (a, b) in enumerate(pairs):
        acc.add(a, b, weight=i - 0.5)
    expected = sum((i - 0.5) * np.einsum("i,j->ij", a.ravel(), b.ravel()) for i, (a, b) in enumerate(pairs))
    # <a, K b> = a^T M(w) b is linear in w: compare through the dense matrices
    direction = rng.standard_normal(K.params.shape)
    eps = 1.0
    dM = dense(K.with_params(K.params + eps * direction)) - dense(K)
    assert np.sum(acc.value() * direction) == pytest.approx(np.sum(expected * dM), rel=1e-10)


@pytest.mark.parametrize("name", ["matrix", "filterbank"])
@pytest.mark.parametrize("batch", [(), (3,), (2, 2)])
def test_add_and_adjoint_is_add_then_adjoint(name, batch):
    """The shared-FFT path returns K^T a and adds weight * param_grad(a, b), leaving a and b untouched."""
    rng = np.random.default_rng(6)
    K = make_operators(rng)[name]
    a = rng.standard_normal(batch + K.shape_out)
    b = rng.standard_normal(batch + K.shape_in)
    a0, b0 = a.copy(), b.copy()
    acc = K.param_grad_sum()
    Kt_a = acc.add_and_adjoint(a, b, weight=-0.7)
    acc.add(a, b, weight=0.2)
    np.testing.assert_allclose(Kt_a, K.adjoint(a), rtol=0, atol=1e-12)
    np.testing.assert_allclose(acc.value(), -0.5 * K.param_grad(a, b), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ValueError, match="odd"):
        operators.FilterBank(np.ones((2, 4, 3)), (8, 8))
    with pytest.raises(ValueError, match="at least the filter size"):
        operators.FilterBank(np.ones((2, 3, 3)), (2, 8))
    with pytest.raises(ValueError, match="2-D"):
        operators.Matrix(np.ones(3))
    with pytest.raises(ValueError, match="last axes"):
        operators.Matrix(np.ones((3, 4))).check_input(np.ones(5))


@settings(max_examples=40, deadline=None)
@given(c=st.integers(1, 4), k1=st.sampled_from([1, 3, 5]), k2=st.sampled_from([1, 3, 5]),
       n1=st.integers(5, 9), n2=st.integers(5, 9), batch=st.integers(0, 2), seed=st.integers(0, 2**16))
def test_filterbank_adjoint_and_norm_for_any_shape(c, k1, k2, n1, n2, batch, seed):
    """Dot test and exact norm for random filter counts, odd filter sizes and image shapes."""
    rng = np.random.default_rng(seed)
    K = operators.FilterBank(rng.standard_normal((c, k1, k2)), (n1, n2))
    lead = (batch,) if batch else ()
    u = rng.standard_normal(lead + K.shape_in)
    v = rng.standard_normal(lead + K.shape_out)
    lhs, rhs = np.sum(K.apply(u) * v), np.sum(u * K.adjoint(v))
    assert abs(lhs - rhs) <= 1e-11 * max(1.0, abs(lhs))
    assert K.norm() == pytest.approx(np.linalg.norm(dense(K), 2), rel=1e-10)


@pytest.mark.parametrize("name", NAMES)
def test_matrix_applies_like_K_and_its_transpose_like_the_adjoint(name):
    rng = np.random.default_rng(4)
    K = make_operators(rng)[name]
    M = K.matrix()
    assert M.shape == (K.size_out, K.size_in)
    u, v = rng.standard_normal(K.shape_in), rng.standard_normal(K.shape_out)
    np.testing.assert_allclose(M @ u.ravel(), K.apply(u).ravel(), atol=1e-12)        # K u
    np.testing.assert_allclose(M.T @ v.ravel(), K.adjoint(v).ravel(), atol=1e-12)    # dot test: <M u, v> = <u, K^T v>
    assert np.linalg.norm(M, 2) == pytest.approx(K.norm(), rel=1e-10)


def test_matrix_of_the_finite_difference_is_the_difference_matrix():
    D = np.diff(np.eye(5), axis=0)                               # rows e_{j+1} - e_j, then the Neumann zero row
    np.testing.assert_array_equal(operators.FiniteDifference(5).matrix(), np.vstack([D, np.zeros(5)]))
    M = np.arange(6.0).reshape(3, 2)
    K = operators.Matrix(M)
    np.testing.assert_array_equal(K.matrix(), M)
    K.matrix()[0, 0] = 99.0                                      # a copy: K is not changed through it
    assert K.M[0, 0] == 0.0


def test_check_operator_names_the_fix():
    with pytest.raises(TypeError, match=r"operators.Matrix\(M\)"):
        operators.check_operator(np.eye(2))
    K = operators.FiniteDifference(3)
    assert operators.check_operator(K) is K
