"""The "step through one batch" view's content: a :class:`~glassnet.trace.StepTrace` as JSON, each layer with
its formula (from its docstring) and the source of its ``forward`` and ``backward``."""

from __future__ import annotations

import functools
import inspect
import re
import textwrap
import time

import numpy as np

from glassnet.nn.trace import StepTrace
from glassnet.playground.mathml import rst_to_html

__all__ = ["gradcheck_json", "layer_doc", "trace_to_json"]

PREVIEW_ROWS = 32  # rows of each batch-sized array sent to the page: a usual batch whole
MAX_ENTRIES = 4096  # parameter arrays larger than this are sent as their first rows only

_TEX = [
    (r"\partial", "∂"), (r"\odot", "⊙"), (r"\sigma", "σ"), (r"\delta", "δ"), (r"\eta", "η"),
    (r"\epsilon", "ε"), (r"\gamma", "γ"), (r"\beta", "β"), (r"\mu", "μ"), (r"\alpha", "α"),
    (r"\lambda", "λ"), (r"\theta", "θ"), (r"\sum", "Σ"), (r"\sqrt", "√"), (r"\le", "≤"), (r"\ge", "≥"),
    (r"\cdot", "·"), (r"\max", "max"), (r"\tanh", "tanh"), (r"\leftarrow", "←"), (r"\infty", "∞"),
    (r"\qquad", "    "), (r"\quad", "  "), (r"\textstyle", ""), (r"\mathrm", ""), (r"\,", " "),
    (r"\langle", "⟨"), (r"\rangle", "⟩"), (r"\sim", "~"), (r"\in", "∈"), ("^T", "ᵀ"), ("^2", "²"),
]  # fmt: skip


def _pretty(text: str) -> str:
    """Readable plain text from reStructuredText math: ``:math:`\\frac{a}{b}``` becomes ``(a)/(b)``."""
    text = re.sub(r":math:`([^`]*)`", r"\1", text)
    text = re.sub(
        r":(?:class|func|meth|attr|data|mod):`~?([^`]*)`", lambda m: m.group(1).split(".")[-1], text
    )
    text = text.replace("``", "").replace("**", "")
    text = re.sub(r"\\(?:Big|big|left|right)(?![a-z])", "", text)
    text = re.sub(r"\\t?frac\s*(\w)(\w)", r"\1/\2", text)  # \frac1N
    for _ in range(4):  # innermost braces first
        text = re.sub(r"\\sqrt\{([^{}]*)\}", r"√(\1)", text)
        text = re.sub(r"\\hat\s*\{?([^{}\s])\}?", "\\1\u0302", text)
        text = re.sub(r"\\bar\{?(\\?[^{}\s]+?)\}?(?=[\s_^(]|$)", "\\1\u0304", text)
        text = re.sub(r"\\t?frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", text)
    for tex, plain in sorted(_TEX, key=lambda pair: -len(pair[0])):
        text = text.replace(tex, plain)
    text = re.sub(r"_\{([^{}]*)\}", r"_\1", text)
    text = text.replace("{", "").replace("}", "")
    text = re.sub(r"\(∂ ?L\)/\(∂ ?([^)]*)\)", r"∂L/∂\1", text)
    text = re.sub(r"∂ (\w)", r"∂\1", text)
    text = re.sub(r"∂(\w) / ∂", r"∂\1/∂", text)
    text = re.sub(r"\((\w)\)/", r"\1/", text)
    return re.sub(r"[ \t]+\n", "\n", text)


@functools.cache
def layer_doc(cls: type) -> dict:
    """The formula text and the ``forward``/``backward`` source of a layer class (cached per class)."""
    doc = inspect.getdoc(cls) or ""
    if "module docstring" in doc.split("\n\n")[0]:  # the formulas live in the module's docstring
        doc = inspect.getdoc(inspect.getmodule(cls)) or doc
    keep, raw = [], []  # the paragraphs as plain text, and as written (for the HTML)
    for p in (p for p in doc.split("\n\n") if p.strip()):
        if p.lstrip().startswith(("Parameters", "Examples", "Attributes", ">>>")):
            break
        keep.append(p.replace(".. math::", "").strip())
        raw.append(p)
    formula = _pretty("\n\n".join(keep))
    summary = _pretty(keep[0]) if keep else ""
    blocks = [textwrap.dedent(b).strip() for b in re.findall(r"\.\. math::[ \t]*\n((?:[ \t]+\S.*\n?)+)", doc)]
    blocks += [textwrap.dedent(m).strip() for m in re.findall(r"\.\. math:: (.+(?:\n[ \t]+\S.*)*)", doc)]
    math = "\n\n".join(_pretty(b) for b in blocks)
    return {
        "formula": formula,
        "summary": summary,
        "math": math,
        # the same as HTML with MathML, which the page draws (the plain texts stay for search and copying)
        "summary_html": rst_to_html(keep[0]) if keep else "",
        "math_html": "".join(rst_to_html(".. math:: " + b.replace("\n", " ")) for b in blocks),
        "formula_html": rst_to_html("\n\n".join(raw)),
        "forward": _source(cls, "forward"),
        "backward": _source(cls, "backward"),
    }


def _array(a: np.ndarray | None, rows: int | None = PREVIEW_ROWS) -> dict | None:
    if a is None:
        return None
    a = np.asarray(a, dtype=np.float64)
    shown = a if rows is None or a.ndim == 0 else a[:rows]
    if a.size > MAX_ENTRIES and a.ndim == 2:
        shown = a[: max(1, MAX_ENTRIES // a.shape[1])]
    return {
        "shape": list(a.shape),
        "values": np.round(shown, 8).tolist(),
        "rows_shown": int(len(shown)) if a.ndim else 0,
    }


def _softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by each row's largest logit so that no exponential overflows."""
    e = np.exp(z - z.max(axis=1, keepdims=True))  # (N, K)
    return e / e.sum(axis=1, keepdims=True)


def _layer_json(entry, layer) -> dict:
    """One layer's part of the step: its formula, source, and what passed through it."""
    doc = layer_doc(type(layer))
    return {
        "index": entry.index,
        "name": entry.name,
        "kind": entry.kind,
        "formula": {
            "summary": doc["summary"],
            "math": doc["math"],
            "doc": doc["formula"],
            "summary_html": doc["summary_html"],
            "math_html": doc["math_html"],
            "doc_html": doc["formula_html"],
        },  # fmt: skip
        "source_forward": doc["forward"],
        "source_backward": doc["backward"],
        "input": _array(entry.input),
        "output": _array(entry.output),
        "grad_output": _array(entry.grad_output),
        "grad_input": _array(entry.grad_input),
        "params_before": {k: _array(v, None) for k, v in entry.params_before.items()},
        "params_after": {k: _array(v, None) for k, v in entry.params_after.items()},
        "grads": {k: _array(v, None) for k, v in entry.grads.items()},
    }


def trace_to_json(
    trace: StepTrace, net, rows: np.ndarray | None, step: int, labels: np.ndarray | None = None
) -> dict:
    r"""Everything the page shows for one step, in forward order; arrays trimmed to what a screen holds.

    With the batch's ``labels`` (class indices) and a softmax head, also each row's probabilities
    ``p = softmax(z)``, so that the page can show :math:`\partial L/\partial z = (p - y)/N` with its numbers."""
    layers = [_layer_json(entry, layer) for entry, layer in zip(trace.layers, net.layers, strict=True)]
    loss_text = (inspect.getdoc(type(net.loss)) or "").split("\n\n")[0]
    loss_doc = _pretty(loss_text)
    softmax_head = type(net.loss).__name__ == "SoftmaxCrossEntropy" and labels is not None
    return {
        "step": step,
        "rows": [] if rows is None else [int(r) for r in rows],
        "batch_size": 0 if rows is None else int(len(rows)),
        "loss": trace.loss,
        "data_loss": trace.data_loss,
        "penalty": trace.penalty,
        "lr": trace.lr,
        "loss_kind": type(net.loss).__name__,
        "loss_formula": loss_doc,
        "loss_formula_html": rst_to_html(loss_text),
        # class indices, or a regression's target values
        "labels": None if labels is None else np.asarray(labels)[:PREVIEW_ROWS].tolist(),
        "proba": _array(_softmax(np.asarray(trace.logits, dtype=np.float64))) if softmax_head else None,
        "loss_source": {
            "forward": _source(type(net.loss), "forward"),
            "backward": _source(type(net.loss), "backward"),
        },
        "logits": _array(trace.logits),
        "grad_logits": _array(trace.grad_logits),
        "layers": layers,
    }


def _source(cls: type, name: str) -> dict:
    """The source of ``cls.name`` (found along the MRO), with the class that defines it, file and line."""
    function = getattr(cls, name)
    owner = next((c.__name__ for c in cls.__mro__ if name in c.__dict__), cls.__name__)
    try:
        text = textwrap.dedent(inspect.getsource(function))
        path = inspect.getsourcefile(function) or ""
        line = inspect.getsourcelines(function)[1]
    except (OSError, TypeError):
        text, path, line = "(source not available)", "", 0
    short = path[path.rfind("glassnet/") :] if "glassnet/" in path else path
    return {"code": text, "file": short, "line": line, "owner": owner}


def gradcheck_json(net, X: np.ndarray, y: np.ndarray, alpha: float, n_samples: int) -> dict:
    """``glassnet.gradcheck.gradcheck_network`` of ``net`` on the batch ``(X, y)`` as the page's JSON: the
    relative error per parameter, the batch's rows and the seconds it took."""
    from glassnet.nn.gradcheck import gradcheck_network

    start = time.perf_counter()
    errors = gradcheck_network(net, X, y, alpha=alpha, n_samples=n_samples, raise_on_error=False)
    return {
        "errors": {k: float(v) for k, v in errors.items()},
        "rows": int(len(X)),
        "seconds": time.perf_counter() - start,
    }
