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
        # nobody sees the sub-tasks of a fit without callbacks that is not part of a meta-estimator's task
        # tree: they are not made (about 20 us an epoch); when in doubt (another scikit-learn), they are
        self.listened = bool(getattr(root, "_callbacks", True)) or getattr(root, "parent", True) is not None

    def begin(self) -> None:
        """Start the next iteration's sub-task."""
        if not self.listened:
            return
        self.current = self.root.subcontext(task_name=self.task_name)
        self.current.call_on_fit_task_begin(
            estimator=self.estimator, reconstruction_attributes=snapshot(self.estimator), **self.data
        )

    def end(self) -> bool:
        """End the current sub-task; return whether a callback asked to stop."""
        current, self.current = self.current, None  # closed even if a hook raises (e.g. Ctrl-C)
        if current is None:
            return False  # not begun: nobody listens
        stop = current.call_on_fit_task_end(
            estimator=self.estimator, reconstruction_attributes=snapshot(self.estimator), **self.data
        )
        return bool(stop)

    def close_unused(self) -> None:
        """End a sub-task that was begun but never run (L-BFGS begins the next one in its callback)."""
        current, self.current = self.current, None
        if current is not None:
            current.call_on_fit_task_end(estimator=self.estimator)


class EpochProgressBar:
    """A scikit-learn callback that draws one tqdm bar per fit: epochs done, the loss and the validation score.

    Set it on the estimator itself, alone or inside a meta-estimator::

        clf = MLPClassifier().set_callbacks(EpochProgressBar())
        GridSearchCV(make_pipeline(StandardScaler(), clf), grid).fit(X, y)  # one bar per fit, with its loss

    scikit-learn's own ``sklearn.callback.ProgressBar`` draws the fits' progress without the loss, and as an
    auto-propagated callback it belongs on the outermost estimator (``search.set_callbacks(ProgressBar())``):
    set on an estimator inside a ``Pipeline`` or ``GridSearchCV``, scikit-learn refuses it with a
    ``TypeError``. This bar is an ordinary callback of the estimator, so ``clone`` keeps it and each fit of
    a search draws its own bar, named after its place in the search (``GridSearchCV > Pipeline #3 >
    MLPClassifier``). It reads ``loss_curve_`` and ``validation_scores_`` after each epoch (L-BFGS keeps
    no curve until it ends: its bar counts iterations), asks for no ``fitted_estimator`` (nothing is
    copied for it) and never asks to stop, so a fit gives the same model with or without it.

    Parameters
    ----------
    file : file object, default sys.stderr
        Where tqdm draws (a pickled copy draws on ``sys.stderr``).
    bar : tqdm bar or None
        Draw on this bar, which the caller opens and closes (``glassnet compare`` draws one bar per model,
        whether glassnet's or scikit-learn's estimator fits it), instead of one of its own per fit.
    score_name : str
        The label of the validation score after the loss (``val_score``).
    """

    def __init__(self, file=None, *, bar=None, score_name: str = "val_score") -> None:
        self.file, self.bar, self.score_name = file, bar, score_name
        self._fits: dict = {}  # id(estimator) -> (root context, tqdm bar), during that estimator's fit

    def __getstate__(self) -> dict:
        # bars stay in their process (joblib pickles estimators); a copy draws its own bars on stderr
        return {"file": None, "bar": None, "score_name": self.score_name, "_fits": {}}

    def setup(self, estimator, context) -> None:
        if self.bar is not None:
            self._fits[id(estimator)] = (context, self.bar)
            return
        try:
            from tqdm.auto import tqdm
        except ImportError as exc:
            raise ImportError("EpochProgressBar draws with tqdm: pip install 'glassnet[all]'.") from exc
        unit = "iteration" if getattr(estimator, "solver", None) == "lbfgs" else "epoch"
        total = context.max_subtasks or None  # the epoch budget (L-BFGS: one more, scipy's last call)
        bar = tqdm(total=total, desc=_place(estimator, context), unit=unit, leave=True, file=self.file)
        self._fits[id(estimator)] = (context, bar)

    def on_fit_task_begin(self, estimator, context) -> None:
        pass

    def on_fit_task_end(self, estimator, context) -> bool:
        root, bar = self._fits.get(id(estimator), (None, None))
        if bar is None or context is root:
            return False
        # tqdm limits its redraws: thousands of tiny epochs stay cheap
        bar.set_postfix(epoch_postfix(estimator, self.score_name), refresh=False)
        bar.update(1)
        return False

    def teardown(self, estimator, context) -> None:
        _, bar = self._fits.pop(id(estimator), (None, None))
        if bar is not None and bar is not self.bar:
            bar.close()


def epoch_postfix(estimator, score_name: str = "val_score") -> dict:
    """What a bar shows after an epoch: the last training loss and validation score, when there are any."""
    postfix = {}
    curve = estimator.__dict__.get("loss_curve_")
    if curve:
        postfix["loss"] = f"{curve[-1]:.4g}"
    scores = estimator.__dict__.get("validation_scores_")
    if scores:
        postfix[score_name] = f"{scores[-1]:.4f}"
    return postfix


def _place(estimator, context) -> str:
    """The estimator's name after the meta-estimators it runs in: ``GridSearchCV > Pipeline #3 > MLPClassifier``."""
    names = []
    outer = context.parent
    while outer is not None:
        if outer.parent is None:
            names.append(outer.estimator_name)
        elif outer.source_estimator_name is not None:  # a sub-estimator's fit, merged into its parent's task
            names.append(f"{outer.estimator_name} #{outer.task_id}")
        outer = outer.parent
    return " > ".join([*reversed(names), type(estimator).__name__])
