"""Probability distributions under scipy.stats's names, differentiable in every continuous
argument: each distribution is a module of functions (``norm.logpdf(x, loc, scale)``), as
in ``jax.scipy.stats``, written with funcgrad.numpy and funcgrad.scipy.special, so they
compile with ``fg.jit``. Arguments broadcast; invalid parameters (a scale <= 0) give nan
and points outside the support -inf log-density, as SciPy's do.

Example:
    >>> from funcgrad.scipy.stats import norm
    >>> norm.logpdf(np.array([0.0, 1.0]), loc=0.0, scale=2.0)
    array([-1.61208571, -1.73708571])
    >>> fg.grad(lambda s: fnp.sum(norm.logpdf(1.0, 0.0, s)))(np.array([2.0]))  # (x^2/s^2 - 1)/s
    array([-0.375])
"""

from funcgrad.scipy.stats import (bernoulli, beta, betabinom, binom, cauchy, chi2, dirichlet,
                                  expon, gamma, gennorm, geom, gumbel_l, gumbel_r, laplace,
                                  logistic, multivariate_normal, nbinom, norm, pareto,
                                  poisson, t, truncnorm, uniform, vonmises)
from funcgrad.scipy.stats._descriptive import ModeResult, mode, rankdata, sem

__all__ = ["norm", "multivariate_normal", "t", "gamma", "beta", "dirichlet", "poisson",
           "bernoulli", "binom", "expon", "laplace", "logistic", "cauchy", "uniform", "chi2",
           "geom", "nbinom", "betabinom", "pareto", "gumbel_l", "gumbel_r", "truncnorm",
           "vonmises", "gennorm", "sem", "rankdata", "mode", "ModeResult"]
