"""The ``'lbfgs'`` solver: SciPy's L-BFGS-B on the network's flat parameter vector.

The engine keeps every weight and bias in one vector (``network_.flat_params``) and its gradient in another
(``network_.flat_grads``), which is exactly the interface of :func:`scipy.optimize.minimize`: the objective
writes the candidate vector into the network, runs ``loss_and_grad`` on the full training set and returns the
loss and a copy of the gradient. As in scikit-learn, ``maxiter=max_iter``, ``maxfun=max_fun`` and
``gtol=tol``.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning

from glassnet.exceptions import TrainingDivergedError
from glassnet.training.data import dense_rows


class LbfgsSolverMixin:
    """Full-batch L-BFGS for :class:`~glassnet.estimators._base.BaseMultilayerPerceptron`."""

    def _fit_lbfgs(self, data, iterations) -> None:
        net = self.network_
        train = data.train
        X = dense_rows(train.X, dtype=net.dtype)  # full batch
        n_total = train.weight_total

        @np.errstate(over="ignore", invalid="ignore")  # overflow shows up as a non-finite loss
        def loss_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
            net.flat_params[...] = theta
            loss = net.loss_and_grad(
                X, train.y, train.sample_weight, alpha=self.alpha, n_samples=n_total, check=False
            )
            return loss, net.flat_grads.astype(np.float64)

        self.n_iter_ = 0
        iterations.begin()
        try:
            result = scipy.optimize.minimize(
                loss_and_grad,
                net.flat_params.astype(np.float64),
                method="L-BFGS-B",
                jac=True,
                options={"maxiter": self.max_iter, "maxfun": self.max_fun, "gtol": self.tol},
                callback=self._lbfgs_callback(data, iterations),
            )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", UserWarning, stacklevel=4)
            result = None
        finally:
            iterations.close_unused()
        if result is not None:
            self._finish_lbfgs(result)

    def _lbfgs_callback(self, data, iterations):
        """scipy's per-iteration callback: bookkeeping, verbose lines, validation and sklearn callbacks."""

        def callback(intermediate_result) -> None:
            self.network_.flat_params[...] = intermediate_result.x
            self.n_iter_ += 1
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {intermediate_result.fun:.8f}")
            if data.val is not None:
                self._judge_validation(data.val)
            stop = iterations.end()
            iterations.begin()
            if stop:
                raise StopIteration

        return callback

    def _judge_validation(self, val) -> None:
        """Score the validation rows, judge the iteration by the validation rule and record it (keeping the
        best weights with early stopping, as the stochastic solvers do)."""
        score, loss = self._evaluate_split(val)
        _, best = self._validation_rule().step(score, loss)
        if best and self.early_stopping:
            self._best_params = self.network_.flat_params.copy()
        self._record_validation(score, loss, best)

    def _finish_lbfgs(self, result) -> None:
        self.network_.flat_params[...] = result.x
        self.loss_ = float(result.fun)
        self.n_iter_ = min(int(result.nit), self.max_iter)
        if not np.isfinite(self.loss_):
            self._raise_diverged(self.loss_, f"the loss became {self.loss_}")
        if result.status != 0 and "callback" not in str(result.message).lower():
            warnings.warn(
                f"lbfgs failed to converge after {self.n_iter_} iteration(s) (status={result.status}): "
                f"{result.message}. Increase the number of iterations (max_iter) or of function evaluations "
                "(max_fun), or scale the data, for example with sklearn.preprocessing.StandardScaler.",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _check_finite_weights(self) -> None:
        if not np.all(np.isfinite(self.network_.flat_params)):
            self._raise_diverged(float("nan"), "the solver produced non-finite weights")

    def _raise_diverged(self, loss: float, what: str):
        """Raise the engine's :class:`~glassnet.exceptions.TrainingDivergedError` with advice."""
        raise TrainingDivergedError(
            f"{type(self).__name__} training diverged: {what}. The learning rate "
            f"(learning_rate_init={self.learning_rate_init}) is probably too large for this data: lower it, "
            f"or standardise the inputs (e.g. with sklearn.preprocessing.StandardScaler).",
            epoch=self.n_iter_,
            loss=loss,
        )
