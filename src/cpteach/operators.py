"""Linear operators K for the model min_u F(Ku) + G(u - x) (docs/theory.md, eq. (1.1)).

Each operator maps arrays of shape ``(..., *shape_in)`` to ``(..., *shape_out)``; the
leading axes are a batch (several images at once). Every operator offers

- ``apply(u)`` = K u and ``adjoint(v)`` = K^T v,
- ``norm()`` = ||K|| (the operator 2-norm, exact or closed form),
- ``params`` and ``with_params(p)``: the learnable parameters (the matrix itself, or
  the filters),
- ``param_grad(a, b)``: the gradient with respect to ``params`` of <a, K b>, summed
  over the batch axes; for a matrix this is the outer product a b^T of eq. (3.4),
- ``matrix()``: the dense k x n matrix of K (column j = K e_j), for teaching sizes.

:func:`check_operator` is the argument check of every public function that takes a K.
"""
from __future__ import annotations

import numpy as np
import scipy.fft

__all__ = ["LinearOperator", "Matrix", "FiniteDifference", "FilterBank", "check_operator"]


class LinearOperator:
    """Base class. Subclasses set ``shape_in``, ``shape_out`` and implement the maps."""

    shape_in: tuple
    shape_out: tuple

    @property
    def size_in(self):
        """n, the number of unknowns."""
        return int(np.prod(self.shape_in))

    @property
    def size_out(self):
        """k, the number of rows of K."""
        return int(np.prod(self.shape_out))

    def apply(self, u):
        raise NotImplementedError

    def adjoint(self, v):
        raise NotImplementedError

    def norm(self):
        raise NotImplementedError

    @property
    def params(self):
        return np.zeros(0)

    def with_params(self, p):
        if np.size(p) != 0:
            raise ValueError(f"{type(self).__name__} has no parameters; got an array of size {np.size(p)}")
        return self

    def param_grad(self, a, b):
        return np.zeros(0)

    def param_grad_sum(self):
        """An accumulator for sums of ``param_grad`` (used by the backward pass (3.4))."""
        return _DenseAccumulator(self)

    def matrix(self):
        """The dense k x n matrix of K on the flattened shapes: column j is K e_j (for teaching sizes).

        Examples
        --------
        >>> FiniteDifference(3).matrix()
        array([[-1.,  1.,  0.],
               [ 0., -1.,  1.],
               [ 0.,  0.,  0.]])
        """
        n = self.size_in
        return self.apply(np.eye(n).reshape((n,) + tuple(self.shape_in))).reshape(n, -1).T

    def check_input(self, u, name="x"):
        """Raise a clear ValueError unless ``u`` ends with ``shape_in``."""
        u = np.asarray(u)
        d = len(self.shape_in)
        if u.ndim < d or u.shape[u.ndim - d:] != tuple(self.shape_in):
            raise ValueError(
                f"{name} has shape {u.shape}, but K acts on arrays whose last axes are "
                f"{tuple(self.shape_in)}; reshape {name} or build K for shape {u.shape[-d:] if u.ndim >= d else u.shape}")
        return u


def check_operator(K):
    """K must be one of cpteach.operators (a :class:`LinearOperator`); returns K."""
    if not isinstance(K, LinearOperator):
        raise TypeError(
            f"K must be a cpteach.operators operator, got {type(K).__name__}; "
            "wrap a matrix M as operators.Matrix(M)")
    return K


class _DenseAccumulator:
    """Sum of weight * param_grad(a, b) over calls: the pairs are kept and summed at the end.

    ``param_grad`` sums over leading batch axes: many pairs (single steps) are joined along one leading
    axis, so that L small outer products become one matrix product (for a Matrix: one BLAS call); a few
    pairs (stacks of steps) take a product each, without joined copies. Pairs may have different leading
    axes (a single step, a block of steps).
    """

    def __init__(self, K):
        self.K = K
        self.pairs = []

    def add(self, a, b, weight=1.0):
        self.pairs.append((a, b, weight))

    def add_and_adjoint(self, a, b, weight=1.0):
        """``add(a, b, weight)`` and return K^T a (a filter bank shares the FFT of a)."""
        self.add(a, b, weight)
        return self.K.adjoint(a)

    def value(self):
        if len(self.pairs) <= 4:
            return sum((weight * np.asarray(self.K.param_grad(a, b), dtype=float) for a, b, weight in self.pairs),
                       np.zeros_like(self.K.params, dtype=float))
        shape_a, shape_b = (-1,) + tuple(self.K.shape_out), (-1,) + tuple(self.K.shape_in)
        a = np.concatenate([(weight * a).reshape(shape_a) for a, _, weight in self.pairs])
        b = np.concatenate([np.asarray(b).reshape(shape_b) for _, b, _ in self.pairs])
        return np.asarray(self.K.param_grad(a, b), dtype=float)


class Matrix(LinearOperator):
    """A dense k x n matrix M acting on vectors of length n.

    Examples
    --------
    >>> K = Matrix(np.array([[1.0, 2.0], [0.0, 1.0], [3.0, 0.0]]))
    >>> K.apply(np.array([1.0, 1.0]))
    array([3., 1., 3.])
    """

    def __init__(self, M):
        M = np.asarray(M)
        if M.ndim != 2:
            raise ValueError(f"Matrix needs a 2-D array (k x n), got shape {M.shape}")
        if not np.issubdtype(M.dtype, np.number) or np.iscomplexobj(M):
            raise TypeError(f"Matrix needs a real numeric array, got dtype {M.dtype}")
        M = M.astype(float)
        if not np.all(np.isfinite(M)):
            raise ValueError("Matrix entries must be finite (found NaN or inf)")
        self.M = M
        self.shape_out, self.shape_in = (M.shape[0],), (M.shape[1],)
        self._norm = None

    def __repr__(self):
        return f"Matrix(shape={self.M.shape})"

    def apply(self, u):
        return u @ self.M.T

    def adjoint(self, v):
        return v @ self.M

    def norm(self):
        if self._norm is None:
            self._norm = float(np.linalg.norm(self.M, 2)) if self.M.size else 0.0
        return self._norm

    @property
    def params(self):
        return self.M

    def with_params(self, p):
        return Matrix(np.reshape(p, self.M.shape))

    def matrix(self):
        return self.M.copy()

    def param_grad(self, a, b):
        # d<a, M b>/dM = a b^T, summed over batch axes: one matrix product (0.17 ms for the 1500 pairs of a
        # backward pass of 48 pixels, 1.0 ms by einsum)
        k, n = self.M.shape
        return np.reshape(a, (-1, k)).T @ np.reshape(b, (-1, n))


class FiniteDifference(LinearOperator):
    """Forward differences with Neumann boundary (the discrete gradient of TV).

    For a signal of shape ``shape`` (1-D or 2-D) the output has shape
    ``(len(shape), *shape)``: one difference image per axis, zero in the last row
    (Neumann boundary). Both maps read slices of their input (no padding, no copies) and
    write into one freshly allocated output.

    .. math:: (K u)_i[j] = u[j + e_i] - u[j] \\ (j_i < n_i - 1), \\qquad (K u)_i[j] = 0 \\ (j_i = n_i - 1),

    .. math:: (K^T v)[j] = \\sum_i v_i[j - e_i] - v_i[j],

    with v_i[j - e_i] = 0 for j_i = 0 and v_i[j] = 0 for j_i = n_i - 1 (so K^T = -div).

    Examples
    --------
    >>> K = FiniteDifference(4)
    >>> K.apply(np.array([1.0, 3.0, 2.0, 2.0]))
    array([[ 2., -1.,  0.,  0.]])
    >>> K.adjoint(np.array([[2.0, -1.0, 0.0, 5.0]]))
    array([-2.,  3., -1.,  0.])
    """

    def __init__(self, shape):
        shape = (shape,) if np.isscalar(shape) else tuple(int(s) for s in shape)
        if len(shape) not in (1, 2) or min(shape) < 2:
            raise ValueError(f"FiniteDifference needs a 1-D or 2-D shape with sizes >= 2, got {shape}")
        self.shape_in = shape
        self.shape_out = (len(shape),) + shape
        d = len(shape)

        def along(i, index):  # index tuple: ``index`` on signal axis i (of the last d axes), all of the others
            return (Ellipsis,) + tuple(index if j == i else slice(None) for j in range(d))

        self._axes = [dict(component=(Ellipsis, i) + (slice(None),) * d,  # v_i of v = (v_0, ..., v_{d-1})
                           head=along(i, slice(None, -1)), tail=along(i, slice(1, None)),
                           inner=along(i, slice(1, -1)), before_inner=along(i, slice(None, -2)),
                           first=along(i, 0), last=along(i, -1), before_last=along(i, -2))
                      for i in range(d)]

    def __repr__(self):
        return f"FiniteDifference(shape={self.shape_in})"

    def apply(self, u):
        out = np.empty(np.shape(u)[: np.ndim(u) - len(self.shape_in)] + self.shape_out)
        for ax in self._axes:
            Du = out[ax["component"]]
            np.subtract(u[ax["tail"]], u[ax["head"]], out=Du[ax["head"]])   # u[j + e_i] - u[j]
            Du[ax["last"]] = 0.0                                             # Neumann boundary
        return out

    def adjoint(self, v):
        out = np.empty(np.shape(v)[: np.ndim(v) - len(self.shape_out)] + self.shape_in)
        for i, ax in enumerate(self._axes):
            v_i = v[ax["component"]]
            if i == 0:  # the first axis writes out, the others add to it
                np.subtract(v_i[ax["before_inner"]], v_i[ax["inner"]], out=out[ax["inner"]])  # 0 < j_i < n_i - 1
                np.negative(v_i[ax["first"]], out=out[ax["first"]])                           # j_i = 0: -v_i[j]
                out[ax["last"]] = v_i[ax["before_last"]]                      # j_i = n_i - 1: v_i[j - e_i]
            else:
                out[ax["inner"]] += v_i[ax["before_inner"]] - v_i[ax["inner"]]
                out[ax["first"]] -= v_i[ax["first"]]
                out[ax["last"]] += v_i[ax["before_last"]]
        return out

    def norm(self):
        # K^T K is the Neumann Laplacian; its eigenvalues add over the axes
        return float(np.sqrt(sum(2 - 2 * np.cos(np.pi * (n - 1) / n) for n in self.shape_in)))


class FilterBank(LinearOperator):
    """A bank of c filters of odd size k1 x k2, applied by periodic cross-correlation (3.5).

    ``(K u)_c[i, j] = sum_{a, b} w_c[a, b] u[(i + a - r1) mod n1, (j + b - r2) mod n2]``
    with r = k // 2, evaluated with real FFTs. Input images have shape ``shape``
    (n1, n2) with optional leading batch axes; the output has shape (..., c, n1, n2).

    Parameters
    ----------
    filters : array, shape (c, k1, k2), k1 and k2 odd
    shape : (n1, n2), the image shape, at least the filter size

    Examples
    --------
    >>> K = FilterBank(np.ones((1, 3, 3)) / 9, (8, 8))
    >>> round(K.norm(), 12)
    1.0
    """

    def __init__(self, filters, shape):
        filters = np.asarray(filters)
        if filters.ndim != 3:
            raise ValueError(f"filters must have shape (c, k1, k2), got {filters.shape}")
        if not np.issubdtype(filters.dtype, np.number) or np.iscomplexobj(filters):
            raise TypeError(f"filters must be a real numeric array, got dtype {filters.dtype}")
        c, k1, k2 = filters.shape
        if k1 % 2 == 0 or k2 % 2 == 0:
            raise ValueError(
                f"filter sizes must be odd so that the filter has a centre, got {k1} x {k2}; "
                f"use e.g. {k1 + 1 - k1 % 2} x {k2 + 1 - k2 % 2} (pad the filters with a row/column of zeros)")
        if not np.all(np.isfinite(filters)):
            raise ValueError("filters must be finite (found NaN or inf)")
        shape = tuple(int(s) for s in shape)
        if len(shape) != 2 or shape[0] < k1 or shape[1] < k2:
            raise ValueError(f"image shape must be 2-D and at least the filter size {k1} x {k2}, got {shape}")
        self.filters = filters.astype(float)
        self.shape_in = shape
        self.shape_out = (c,) + shape
        # kernel h_c on the image grid with h_c[(a - r1) mod n1, (b - r2) mod n2] = w_c[a, b]
        h = np.zeros((c,) + shape)
        h[:, :k1, :k2] = self.filters
        h = np.roll(h, (-(k1 // 2), -(k2 // 2)), axis=(-2, -1))
        self._H = self._fft(h)  # correlation: K u = irfft(conj(H) * U)
        self._H_conj = np.conj(self._H)  # kept: np.conj of a large complex array is slow
        self._norm = float(np.sqrt(np.max(np.sum(np.abs(self._H) ** 2, axis=0))))

    def __repr__(self):
        return f"FilterBank({self.filters.shape[0]} filters of {self.filters.shape[1]}x{self.filters.shape[2]}, shape={self.shape_in})"

    def _fft(self, u):
        return scipy.fft.rfft2(u, axes=(-2, -1))  # scipy's rfft2 is several times faster than numpy's

    def _ifft(self, U):
        # U is always a temporary: letting scipy overwrite it saves a copy of the spectrum
        return scipy.fft.irfft2(U, s=self.shape_in, axes=(-2, -1), overwrite_x=True)

    def apply(self, u):
        return self._ifft(self._H_conj * self._fft(u)[..., None, :, :])  # K u = irfft(conj(H_c) U)

    def adjoint(self, v):
        return self._ifft(self._channel_sum(self._fft(v)))  # K^T v = irfft(sum_c H_c V_c)

    def _channel_sum(self, V):
        """sum_c H_c V_c over the channel axis, batch axes kept; the products overwrite V (a temporary)."""
        return np.multiply(V, self._H, out=V).sum(axis=-3)

    def norm(self):
        return self._norm  # max over frequencies of sqrt(sum_c |w_c_hat|^2), exact

    @property
    def params(self):
        return self.filters

    def with_params(self, p):
        return FilterBank(np.reshape(p, self.filters.shape), self.shape_in)

    def _crop(self, g):
        """Read the correlation g_c[p, q] at the filter offsets p = a - r1, q = b - r2."""
        _, k1, k2 = self.filters.shape
        g = np.roll(g, (k1 // 2, k2 // 2), axis=(-2, -1))
        return g[:, :k1, :k2]

    def param_grad(self, a, b):
        # (3.5): d<a, K b>/dw_c[a', b'] = sum_ij a_c[i, j] b[i + a' - r1, j + b' - r2], by FFT
        grad = self.param_grad_sum()
        grad.add(a, b)
        return grad.value()

    def param_grad_sum(self):
        return _SpectralAccumulator(self)


class _SpectralAccumulator:
    """Sum of weight * param_grad(a, b) for a FilterBank, accumulated in Fourier space
    so that only one inverse FFT is needed at the end.

    The correlation sum_ij a_c[i, j] b[i + p, j + q] has the spectrum conj(A_c) B =
    conj(A_c conj(B)); the sum keeps A_c conj(B) (conj of the small B only) and conjugates once.
    """

    def __init__(self, K):
        self.K = K
        self.spectrum_conj = np.zeros_like(K._H)  # conj of the summed correlation spectra

    def add(self, a, b, weight=1.0):
        self._add_spectrum(self.K._fft(a), b, weight, overwrite=True)

    def _add_spectrum(self, A, b, weight, overwrite):
        """Add A conj(B) summed over the batch axes; with ``overwrite`` the products go into A."""
        B_conj = np.conj(self.K._fft(weight * b))  # weight on the small factor: one pass less
        A, B_conj = A.reshape((-1,) + A.shape[-3:]), B_conj.reshape((-1,) + B_conj.shape[-2:])   # one batch axis
        if len(A) > 1:  # summed over the batch
            self.spectrum_conj += np.einsum("bcij,bij->cij", A, B_conj)
        else:           # one image (a batch of one, e.g. a block of one step of the backward pass)
            self.spectrum_conj += np.multiply(A[0], B_conj[0], out=A[0] if overwrite else None)

    def add_and_adjoint(self, a, b, weight=1.0):
        """``add(a, b, weight)`` and return K^T a, computing the FFT of a only once."""
        A = self.K._fft(a)
        self._add_spectrum(A, b, weight, overwrite=False)
        return self.K._ifft(self.K._channel_sum(A))

    def value(self):
        return self.K._crop(self.K._ifft(np.conj(self.spectrum_conj)))
