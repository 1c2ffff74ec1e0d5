"""Solvers of the BSS Eval engine: the Gram matrix of the delayed references, its factorisations.

museval solves ``(G + eps I) C = D`` for the distortion filters.  ``G`` is block Toeplitz in v4
(lag-major order): :class:`LevinsonFactor` (block Levinson/Whittle recursion, ``O(F^2 m^3)``) serves
large systems, with :class:`DenseFactor` (Cholesky; LU, then lstsq, as museval's fallbacks) when the
recursion breaks down and for small or per-frame (v3) systems.  Both estimate the condition number
as LAPACK does.  Everything runs on the host in float64, for both backends, single-threaded BLAS
(:func:`mssoracle.threads.single_threaded_blas`): the factors do not depend on the thread budget.
"""

import numpy as np
import scipy.fft
import scipy.linalg
from scipy.linalg import toeplitz

from .. import threads

__all__ = ["EPS", "CondFromRcond", "DenseFactor", "Breakdown", "LevinsonFactor", "LevinsonSolver",
           "toeplitz_matmul", "gram", "factor", "global_factor", "source_factor"]

EPS = np.finfo(float).eps


class CondFromRcond:
    """``cond`` of a factorisation from its reciprocal condition estimate ``rcond``:
    NaN when unknown, +inf when singular."""

    rcond = None

    @property
    def cond(self):
        """``1 / rcond``, to 6 significant digits.

        An estimate (LAPACK's is good to a factor of ~3); its last bits depend on the
        alignment of LAPACK's internal work arrays, so it is rounded to keep results
        reproducible.
        """
        if self.rcond is None:
            return float("nan")
        if self.rcond <= 0:
            return float("inf")
        return float(f"{1.0 / self.rcond:.6g}")


def aligned_fortran(a):
    """A Fortran-ordered float64 copy of ``a`` on a 64-byte boundary.

    OpenBLAS's level-1/2 kernels (used by LAPACK's triangular solves and condition
    estimates) take alignment-dependent code paths; f2py would otherwise copy C-ordered
    inputs to buffers of varying alignment, and the last bits of the results would
    depend on where those land.  Passing aligned Fortran arrays makes them reproducible.
    """
    a = np.asarray(a, dtype=np.float64)
    buf = np.empty(a.size + 8)
    off = (-buf.ctypes.data % 64) // 8
    out = buf[off : off + a.size].reshape(a.shape[::-1]).T
    out[...] = a
    return out


class DenseFactor(CondFromRcond):
    """Factorisation of ``G + eps I`` (Cholesky, LU if not positive definite, lstsq if singular) as museval solves."""

    def __init__(self, G, linalg):
        self.linalg = linalg
        n = G.shape[0]
        colsum = np.zeros(n)
        for i in range(0, n, 512):
            colsum += np.abs(G[i : i + 512]).sum(axis=0)
        anorm = colsum.max()
        G.flat[:: n + 1] += EPS  # museval solves G + eps I (G is ours: modified in place)
        self.kind = "chol"
        self.rcond = None
        with threads.single_threaded_blas():
            self._factor(G, n, anorm, linalg)

    def _factor(self, G, n, anorm, linalg):
        try:
            self.c = aligned_fortran(linalg.cholesky(G, lower=True, overwrite_a=False, check_finite=False))
            try:
                rc, info = linalg.lapack.dpocon(self.c, anorm, uplo="L")
                self.rcond = float(rc) if info == 0 else None
            except Exception:  # pragma: no cover
                self.rcond = None
            return
        except np.linalg.LinAlgError:
            pass
        # not numerically positive definite: LU with partial pivoting, as np.linalg.solve
        # LAPACK's getrf directly: scipy's lu_factor would warn on an exactly singular G
        lu, piv, _ = linalg.lapack.dgetrf(aligned_fortran(G), overwrite_a=1)
        if np.any(np.diag(lu) == 0):
            self.kind = "lstsq"
            G.flat[:: n + 1] -= EPS
            self.G = G
            self.rcond = 0.0
            return
        self.kind = "lu"
        self.lu = (lu, piv)
        try:
            rc, info = linalg.lapack.dgecon(lu, anorm, norm="1")
            self.rcond = float(rc) if info == 0 else None
        except Exception:  # pragma: no cover
            self.rcond = None

    def solve(self, D):
        with threads.single_threaded_blas():
            if self.kind == "chol":
                x, info = self.linalg.lapack.dpotrs(self.c, aligned_fortran(D), lower=1, overwrite_b=1)
                return x
            if self.kind == "lu":
                x, info = self.linalg.lapack.dgetrs(self.lu[0], self.lu[1], aligned_fortran(D), overwrite_b=1)
                return x
            return np.linalg.lstsq(self.G, D, rcond=None)[0]


class Breakdown(Exception):
    pass


class LevinsonSolver:
    """Block Levinson solve with a dense fallback when the recursion or a solve breaks down."""

    def __init__(self, r_ref):
        with threads.single_threaded_blas():
            self._lev = LevinsonFactor(r_ref)
        self._r = r_ref
        self._dense = None
        self.cond = self._lev.cond
        self.kind = "levinson"

    def solve(self, D):
        if self._dense is None:
            try:
                with threads.single_threaded_blas():
                    return self._lev.solve(D)
            except Breakdown:
                self._dense = factor(gram(self._r))
                self.kind = self._dense.kind
        return self._dense.solve(D)


def toeplitz_matmul(R, X):
    """``T @ X`` for the symmetric block Toeplitz ``T[i, j] = R[i - j]`` (``i >= j``), ``R[j - i].T`` otherwise.

    ``R (p, m, m)``, ``X (p, m, k)`` -> ``(p, m, k)``, with FFTs along the block axis.
    """
    sfft = scipy.fft
    p = R.shape[0]
    n = sfft.next_fast_len(2 * p, real=True)
    Rf = sfft.rfft(R, n=n, axis=0)
    low = sfft.irfft(Rf @ sfft.rfft(X, n=n, axis=0), n=n, axis=0)[:p]
    Rt = np.ascontiguousarray(R.transpose(0, 2, 1))
    Rt[0] = 0.0
    up = sfft.irfft(sfft.rfft(Rt, n=n, axis=0) @ sfft.rfft(X[::-1], n=n, axis=0), n=n, axis=0)[:p][::-1]
    return low + up


class LevinsonFactor(CondFromRcond):
    """Block Levinson (Whittle) solver for the block Toeplitz Gram matrix of v4.

    The Gram matrix of the delayed references is block Toeplitz once its rows
    are ordered lag-major: ``T[k, k'] = R(k - k')`` with ``R(d)[a, b] = r_ab(d)``
    (``m x m`` blocks, ``m = nsrc * nchan``).  The multichannel Levinson
    recursion (forward and backward predictors) solves ``(T + eps I) x = b`` in
    ``O(F^2 m^3)`` operations instead of the ``O(F^3 m^3)`` of a dense Cholesky
    factorisation (about 0.2 s instead of 1-3 s for four stereo sources).  The
    backward predictors of every order are kept (they are the block ``U D U^T``
    factorisation of the inverse), so each further solve costs ``O(F^2 m^2)``.
    The condition number is estimated as LAPACK does (Hager-Higham 1-norm
    estimator of the inverse, times the 1-norm of ``G``).  A breakdown
    (non-finite values, or a residual check failing) raises ``Breakdown`` and
    the caller falls back to the dense factorisation.
    """

    kind = "levinson"

    def __init__(self, r):
        m, _, p = r.shape
        self.m, self.p = m, p
        R = np.ascontiguousarray(r.transpose(2, 0, 1))  # R[d][a, b] = r_ab(d)
        R[0] = R[0] + EPS * np.eye(m)  # museval solves G + eps I
        self.R = R
        self.Hrev = np.concatenate([R[d] for d in range(p - 1, -1, -1)], axis=1)  # R[d] at block p - 1 - d
        HT = np.concatenate([R[d].T for d in range(p)], axis=1)
        F = np.zeros((p * m, m))
        B = np.zeros((p * m, m))
        F[:m] = np.eye(m)
        B[:m] = np.eye(m)
        Ef = R[0].copy()
        Eb = R[0].copy()
        self.B = [B[:m].copy()]
        self.Eb = [Eb.copy()]
        with np.errstate(all="ignore"):
            try:
                for n in range(p - 1):
                    s = (n + 1) * m
                    Hs = self.Hrev[:, (p - 2 - n) * m : (p - 1) * m]
                    Df = Hs @ F[:s]
                    Db = HT[:, m : s + m] @ B[:s]
                    alpha = -np.linalg.solve(Eb, Df)
                    beta = -np.linalg.solve(Ef, Db)
                    Fn = np.zeros((s + m, m))
                    Fn[:s] = F[:s]
                    Fn[m:] += B[:s] @ alpha
                    Bn = np.zeros((s + m, m))
                    Bn[m:] = B[:s]
                    Bn[:s] += F[:s] @ beta
                    Ef = Ef + Db @ alpha
                    Eb = Eb + Df @ beta
                    F[: s + m] = Fn
                    B[: s + m] = Bn
                    self.B.append(Bn)
                    self.Eb.append(Eb.copy())
            except np.linalg.LinAlgError:
                raise Breakdown() from None
        if not (np.isfinite(F).all() and np.isfinite(B).all()):
            raise Breakdown()
        # 1-norm of G: column (b, k') sums sum_a sum_k |T[(k, a), (k', b)]|
        A = np.abs(r).sum(axis=0)  # (m, p): sum_a |r_ab(d)|, lower part (k >= k')
        At = np.abs(r).sum(axis=1)  # (m, p): sum_a |r_ba(d)|, upper part
        cA = np.cumsum(A, axis=1)
        cAt = np.cumsum(At, axis=1) - At[:, :1]
        kp = np.arange(p)
        colsum = cA[:, p - 1 - kp] + cAt[:, kp]
        self.anorm = float(colsum.max()) + EPS
        self.rcond = None
        try:
            inv_norm = self._hager()
            self.rcond = 0.0 if not np.isfinite(inv_norm) else 1.0 / (self.anorm * inv_norm)
        except np.linalg.LinAlgError:
            raise Breakdown() from None

    def _solve_lag(self, D):
        """Solve with a lag-major right-hand side ``(p*m, k)``."""
        m, p = self.m, self.p
        X = np.zeros(D.shape)
        X[:m] = np.linalg.solve(self.Eb[0], D[:m])
        for n in range(p - 1):
            s = (n + 1) * m
            delta = self.Hrev[:, (p - 2 - n) * m : (p - 1) * m] @ X[:s]
            gamma = np.linalg.solve(self.Eb[n + 1], D[s : s + m] - delta)
            X[: s + m] += self.B[n + 1] @ gamma
        return X

    def _hager(self):
        n = self.m * self.p
        x = np.full((n, 1), 1.0 / n)
        est = 0.0
        for it in range(5):
            y = self._solve_lag(x)
            new = float(np.abs(y).sum())
            if it > 0 and new <= est:
                break
            est = new
            xi = np.where(y >= 0, 1.0, -1.0)
            z = self._solve_lag(xi)
            j = int(np.argmax(np.abs(z)))
            if it > 0 and abs(z[j, 0]) <= float(z[:, 0] @ x[:, 0]):
                break
            x = np.zeros((n, 1))
            x[j] = 1.0
        alt = (-1.0) ** np.arange(n) * (1.0 + np.arange(n) / max(n - 1, 1))
        est2 = 2.0 * float(np.abs(self._solve_lag(alt[:, None])).sum()) / (3.0 * n)
        return max(est, est2)

    def solve(self, D):
        """Solve with a right-hand side in museval's order ``(m*p, k)``, rows ``(a, k)``."""
        m, p = self.m, self.p
        k = D.shape[1]
        Dl = np.ascontiguousarray(D.reshape(m, p, k).transpose(1, 0, 2)).reshape(p * m, k)
        X = self._solve_lag(Dl)
        if not np.isfinite(X).all():
            raise Breakdown()
        # residual check against catastrophic breakdown
        res = toeplitz_matmul(self.R, X.reshape(p, m, k)).reshape(p * m, k) - Dl
        scale = np.abs(Dl).max() + self.anorm * np.abs(X).max() * EPS
        if not (np.abs(res).max() <= 1e-6 * max(scale, np.finfo(float).tiny)):
            raise Breakdown()
        return np.ascontiguousarray(X.reshape(p, m, k).transpose(1, 0, 2)).reshape(m * p, k)


def gram(r):
    """Gram matrix of delayed signals from their correlations ``r (n, n, F)`` (museval's ``_reshape_G`` order)."""
    n, _, F = r.shape
    G = np.empty((n * F, n * F))
    for a in range(n):
        for b in range(a, n):
            blk = toeplitz(r[a, b], r[b, a])
            G[a * F : (a + 1) * F, b * F : (b + 1) * F] = blk
            if b != a:
                G[b * F : (b + 1) * F, a * F : (a + 1) * F] = blk.T
    return G


def factor(G):
    """Dense factorisation of ``G + eps I`` (``G`` is modified in place)."""
    return DenseFactor(G, scipy.linalg)


def global_factor(r_ref):
    """v4 Gram factorisation from the whole-signal correlations ``r_ref (nx, nx, F)``:
    block Levinson for large systems (dense Cholesky if it breaks down)."""
    nx, _, F = r_ref.shape
    if nx >= 2 and nx * F >= 2048:
        try:
            return LevinsonSolver(r_ref)
        except Breakdown:
            pass
    return factor(gram(r_ref))


def source_factor(r_ref, j, nchan):
    """Dense factorisation of the Gram matrix of source ``j``'s own delayed channels."""
    sl = slice(j * nchan, (j + 1) * nchan)
    return factor(gram(np.ascontiguousarray(r_ref[sl, sl])))
