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

from funcgrad.scipy.stats import (bernoulli, beta, binom, cauchy, chi2, dirichlet,
                                  expon, gamma, laplace, logistic, multivariate_normal, norm,
                                  poisson, t, uniform)

__all__ = ["norm", "multivariate_normal", "t", "gamma", "beta", "dirichlet", "poisson",
           "bernoulli", "binom", "expon", "laplace", "logistic", "cauchy", "uniform", "chi2"]
