"""scikit-learn's callback API (``sklearn.callback``, new and experimental in 1.9) for the estimators.

The protocol, as scikit-learn's own ``LogisticRegression`` and ``GridSearchCV`` follow it:

1. ``fit`` is wrapped by :func:`sklearn.callback.with_callbacks`, which calls the callbacks' ``teardown``
   however ``fit`` ends;
2. at the start of ``fit``, ``self._init_callback_context(max_subtasks=...)`` creates the root task (and
   calls ``setup``), then ``root.call_on_fit_task_begin(...)``;
3. each iteration is a sub-task: ``sub = root.subcontext(task_name=...)``, ``sub.call_on_fit_task_begin``,
   work, ``sub.call_on_fit_task_end`` (a ``True`` return asks the estimator to stop);
4. at the end ``root.call_on_fit_task_end(..., reconstruction_attributes={})``.

``reconstruction_attributes`` are the fitted attributes a callback's ``fitted_estimator`` needs to predict
"as if fit had stopped here": for glassnet that is a copy of the network (``network_``), made only if a
callback asks for it. With these, ``ProgressBar`` shows one bar per fit (nested inside ``GridSearchCV``'s
bars) and ``ScoringMonitor`` scores every epoch.
"""

from __future__ import annotations

import copy


def snapshot(estimator):
    """A zero-argument function giving the reconstruction attributes of the current weights (lazy copy)."""
    return lambda: {"network_": copy.deepcopy(estimator.network_)}


class IterationCallbacks:
    """Opens and closes one callback sub-task per iteration (epoch, or L-BFGS iteration).

    Parameters
    ----------
    root : sklearn.callback.CallbackContext
        The fit's root context.
    estimator : estimator instance
        The estimator being fitted.
    X, y : array-like
        The training data as given to the callbacks (``y`` in the user's labels, so that scorers work).
    metadata : dict or None
        ``{"sample_weight": ...}`` when weights were given.
    task_name : str
        Name of each sub-task (``"epoch"`` or ``"lbfgs-iter"``).
    """

    def __init__(self, root, estimator, X, y, metadata, task_name: str) -> None:
        self.root, self.estimator, self.task_name = root, estimator, task_name
        self.data = {"X": X, "y": y, "metadata": metadata}
        self.current = None

    def begin(self) -> None:
        """Start the next iteration's sub-task."""
        self.current = self.root.subcontext(task_name=self.task_name)
        self.current.call_on_fit_task_begin(
            estimator=self.estimator, reconstruction_attributes=snapshot(self.estimator), **self.data
        )

    def end(self) -> bool:
        """End the current sub-task; return whether a callback asked to stop."""
        current, self.current = self.current, None  # closed even if a hook raises (e.g. Ctrl-C)
        stop = current.call_on_fit_task_end(
            estimator=self.estimator, reconstruction_attributes=snapshot(self.estimator), **self.data
        )
        return bool(stop)

    def close_unused(self) -> None:
        """End a sub-task that was begun but never run (L-BFGS begins the next one in its callback)."""
        current, self.current = self.current, None
        if current is not None:
            current.call_on_fit_task_end(estimator=self.estimator)
