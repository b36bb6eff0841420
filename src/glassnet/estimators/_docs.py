"""Docstring sections shared by the classifier and the regressor, written once.

The ``Parameters`` section comes from the declarations (:func:`glassnet.config.params.params_docstring`);
the fitted attributes and the notes on glassnet's differences from scikit-learn are here.
"""

from __future__ import annotations

import inspect
import re

from glassnet.config.params import params_docstring

ATTRIBUTES = r"""Attributes
----------
{extra_attributes}network_ : glassnet.nn.network.Sequential
    The fitted engine network (``Dense -> activation [-> Dropout] -> ... -> Dense`` plus its loss head).
    Everything below is derived from it; this is what a model file stores, together with ``classes_``,
    ``target_type_`` (classifier), ``out_activation_`` and ``n_features_in_``.
coefs_ : list of ndarray of shape (n_in, n_out)
    The weight matrices in scikit-learn's layout (live views of the transposed ``network_`` weights).
intercepts_ : list of ndarray of shape (n_out,)
    The bias vectors (live views into ``network_``).
n_features_in_ : int
    Number of features seen during ``fit``.
feature_names_in_ : ndarray of shape (n_features_in_,)
    Names of the features seen during ``fit``, when ``X`` had string column names.
n_iter_ : int
    Number of epochs (stochastic solvers) or L-BFGS iterations run by the last ``fit``.
n_layers_ : int
    Number of layers, input and output included.
n_outputs_ : int
    Number of output units.
out_activation_ : str
    The output activation: ``'softmax'``, ``'logistic'``, ``'identity'`` or ``'exp'``.
t_ : int
    Number of training samples seen by the stochastic solvers (over all fits).
loss_ : float
    The loss at the end of training (the last epoch's mean, including the L2 term).
best_loss_ : float or None
    The lowest training loss (stochastic solvers; ``None`` with early stopping).
loss_curve_ : list of float
    The loss of each epoch (stochastic solvers).
validation_scores_ : list of float or None
    The score (accuracy or R^2) on the validation set after each epoch, when there is one
    (``early_stopping=True`` or ``eval_set``).
validation_loss_curve_ : list of float or None
    The loss (without the L2 term) on the validation set after each epoch. glassnet addition.
best_validation_score_ : float or None
    The best of ``validation_scores_``.
history_ : glassnet.training.callbacks.History
    The engine's record of the last ``fit`` or ``partial_fit`` of a stochastic solver: per epoch the loss,
    learning rate, time and validation loss and score, and anything callbacks add. glassnet addition.
"""

DIFFERENCES = r"""Notes
-----
Differences from scikit-learn's estimator of the same name, all deliberate:

- the L2 term is ``alpha / (2 n) * sum ||W||^2`` with ``n`` the training-set size, not the batch size, so
  ``alpha`` means the same for every ``batch_size`` (identical for ``solver='lbfgs'``);
- ``partial_fit`` exists only for ``solver='sgd'`` and ``'adam'``, in both estimators;
- a diverging loss raises :class:`glassnet.exceptions.TrainingDivergedError` instead of leaving a
  chance-level model;
- early stopping holds out ``validation_fraction`` of the training *weight* (a row of weight k and k copies of it
  give the same model), and decides between epochs of the same validation score by their validation loss;
- ``dropout``, ``weight_decay``, ``learning_rate='cosine'``, the activations scikit-learn lacks (see ``activation``){extra_differences} and
  ``partial_fit(..., X_val=..., y_val=...)`` are additions; ``set_callbacks`` accepts scikit-learn's callbacks
  (``sklearn.callback.ProgressBar``, ``ScoringMonitor``), one task per epoch or L-BFGS iteration.
"""


def build_docstring(
    summary: str, params: tuple, extra_attributes: str, extra_differences: str, examples: str
) -> str:
    """Assemble a class docstring: summary, Parameters (from declarations), Attributes, Notes, Examples."""
    return "\n\n".join(
        [
            summary.strip(),
            params_docstring(params).rstrip(),
            ATTRIBUTES.format(extra_attributes=extra_attributes).rstrip(),
            DIFFERENCES.format(extra_differences=extra_differences).rstrip(),
            examples.strip(),
        ]
    )


#: the validation-set parameters of ``fit`` and ``partial_fit``, written once (see :func:`document_validation`)
VALIDATION_PARAMETERS = r"""X_val : {array-like, sparse matrix} of shape (n_val, n_features), default=None
    Validation inputs, scored after every epoch (``validation_scores_``, ``validation_loss_curve_``) and used
    by early stopping instead of a held-out ``validation_fraction``, as scikit-learn's
    ``HistGradientBoostingClassifier.fit`` takes them. In a ``Pipeline``, ``transform_input=["X_val"]``
    transforms them as ``X`` (with ``sklearn.set_config(enable_metadata_routing=True)`` and
    ``set_fit_request(X_val=True, y_val=True)`` on this estimator).
y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
    Validation targets: the training targets' classes (or number of outputs).
sample_weight_val : array-like of shape (n_val,), default=None
    Weights of the validation rows, for their score and loss.
eval_set : tuple (X_val, y_val) or (X_val, y_val, sample_weight_val), default=None
    The older spelling of ``X_val, y_val, sample_weight_val`` (an error if both are given)."""


def document_validation(method):
    """Put :data:`VALIDATION_PARAMETERS` in place of the ``{validation}`` line of ``method``'s docstring."""
    indent = " " * 8  # a method's docstring body
    text = "\n".join(indent + line if line else line for line in VALIDATION_PARAMETERS.splitlines())
    method.__doc__ = method.__doc__.replace(indent + "{validation}", text)
    return method


#: where an estimator's documentation lives: its page ``docs/estimators/<Name>.md`` (:func:`estimator_page`) in
#: the release the estimator comes from, pinned to the release's tag so that a link never shows another
#: version's parameters. One page per estimator, not an anchor on a shared page: scikit-learn links each row of
#: the parameter table as ``<link>#:~:text=...``, and a link may hold only one ``#``.
DOCS_URL = "https://github.com/glassnet/glassnet/blob/v{version}/docs/estimators/{name}.md"


class DocumentationLinkMixin:
    """The "?" link of scikit-learn's HTML display (``_repr_html_``, Jupyter) to the estimator's documentation.

    scikit-learn builds the link from ``_doc_link_module`` (the estimator's top package must be this one),
    ``_doc_link_template`` and ``_doc_link_url_param_generator``; here the template is :data:`DOCS_URL`.
    """

    _doc_link_module = "glassnet"
    _doc_link_template = DOCS_URL

    def _doc_link_url_param_generator(self) -> dict:
        from glassnet._version import __version__

        return {"version": __version__, "name": type(self).__name__}


def estimator_page(cls) -> str:
    """The Markdown page of ``docs/estimators/<Name>.md``, written from the class docstring (never by hand).

    Each parameter is a heading followed by its type line, so that the links of scikit-learn's HTML parameter
    table (``<page>#:~:text=<name>,-<type line>``, a text fragment) find it.
    """
    from sklearn.externals._numpydoc import docscrape

    doc = docscrape.NumpyDocString(inspect.cleandoc(cls.__doc__))

    def text(lines) -> str:  # reStructuredText's ``code`` and :role:`target` as Markdown's `code`
        return re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", "\n".join(lines).replace("``", "`")).strip()

    page = [f"# {cls.__name__}", "", f"`from glassnet.estimators import {cls.__name__}`", ""]
    page += [text(doc["Summary"]), "", text(doc["Extended Summary"]), ""]
    for section in ("Parameters", "Attributes"):
        page += [f"## {section}", ""]
        for item in doc[section]:
            page += [f"### {item.name}", "", item.type.replace("`", ""), "", text(item.desc), ""]
    if doc["Notes"]:
        page += ["## Notes", "", text(doc["Notes"]), ""]
    if doc["Examples"]:
        page += ["## Examples", "", "```pycon", "\n".join(doc["Examples"]).strip(), "```", ""]
    page.append("*Written from the docstring by `glassnet.estimators.pages.write_pages()`; do not edit.*")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in "\n".join(page).splitlines())) + "\n"
