r"""The docstrings' formulas as MathML, which every current browser draws: no TeX reaches the page.

glassnet's docstrings write their formulas in reStructuredText, in the TeX that Sphinx renders
(``:math:`\ell = -\sum_k y_k \log \mathrm{softmax}(z)_k``` and ``.. math::`` blocks). :func:`rst_to_html`
turns such a text into HTML: prose escaped, ````code```` as ``<code>``, every formula as a ``<math>``
element made by :func:`tex_to_mathml`, a small recursive-descent reader of the TeX they use: groups,
``^`` and ``_``, ``\frac``, ``\sqrt``, accents, ``\mathrm``, Greek letters and operators. A command it does
not know is drawn as its name in upright letters (``\logsoftmax`` reads "logsoftmax"), never as TeX.
"""

from __future__ import annotations

import html
import re

__all__ = ["rst_to_html", "tex_to_mathml"]

_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε", "eta": "η",
    "theta": "θ", "lambda": "λ", "mu": "μ", "sigma": "σ", "ell": "ℓ", "infty": "∞", "partial": "∂",
    "Delta": "Δ", "Sigma": "Σ", "nabla": "∇",
}  # fmt: skip
_OPERATORS = {
    "odot": "⊙", "cdot": "·", "times": "×", "le": "≤", "ge": "≥", "leq": "≤", "geq": "≥", "in": "∈",
    "sim": "∼", "leftarrow": "←", "rightarrow": "→", "to": "→", "langle": "⟨", "rangle": "⟩", "pm": "±",
    "approx": "≈", "ne": "≠", "mid": "∣", "top": "⊤", "sum": "∑", "prod": "∏",
}  # fmt: skip
_FUNCTIONS = {"log", "exp", "max", "min", "tanh", "arg", "softmax", "sign", "mean", "var", "erf"}
_SPACES = {"quad": "1em", "qquad": "2em", ",": "0.17em", ";": "0.28em", " ": "0.25em", "!": "0em"}
_IGNORED = {"left", "right", "big", "Big", "bigg", "Bigg", "textstyle", "displaystyle"}
_ACCENTS = {"hat": "^", "bar": "¯", "tilde": "~", "vec": "→", "dot": "˙"}
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\d+(?:\.\d+)?|[A-Za-z]|\S")


def _e(text: str) -> str:
    return html.escape(text, quote=False)


class _Reader:
    """Reads a token list into MathML, one atom (with its sub- and superscripts) at a time."""

    def __init__(self, tex: str) -> None:
        self.tokens = _TOKEN.findall(tex)
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str | None:
        token = self.peek()
        self.i += 1
        return token

    def row(self, until: str | None = None) -> str:
        """Atoms up to ``until`` (``}``) or the end, as one ``<mrow>``."""
        parts = []
        while self.peek() is not None and self.peek() != until:
            parts.append(self.scripted())
        if until is not None and self.peek() == until:
            self.take()
        return f"<mrow>{''.join(parts)}</mrow>"

    def scripted(self) -> str:
        base = self.atom()
        sub = sup = None
        while self.peek() in ("_", "^"):
            which = self.take()
            if which == "_":
                sub = self.atom()
            else:
                sup = self.atom()
        if sub is not None and sup is not None:
            return f"<msubsup>{base}{sub}{sup}</msubsup>"
        if sub is not None:
            return f"<msub>{base}{sub}</msub>"
        if sup is not None:
            return f"<msup>{base}{sup}</msup>"
        return base

    def braced_text(self) -> str:
        """The raw text of a ``{...}`` argument (for ``\\mathrm`` and ``\\text``)."""
        if self.peek() != "{":
            return self.take() or ""
        self.take()
        depth, words = 1, []
        while self.peek() is not None:
            token = self.take()
            depth += token == "{"
            depth -= token == "}"
            if depth == 0:
                break
            words.append(token)
        return "".join(words)

    def atom(self) -> str:
        token = self.take()
        if token is None:
            return "<mrow></mrow>"
        if token == "{":
            return self.row("}")
        if token.startswith("\\"):
            return self.command(token[1:])
        if token[0].isdigit():
            return f"<mn>{token}</mn>"
        if token.isalpha():
            return f"<mi>{token}</mi>"
        if token == "'":
            return "<mo>′</mo>"
        return f"<mo>{_e(token)}</mo>"

    def command(self, name: str) -> str:
        if name in ("frac", "tfrac", "dfrac"):
            numerator = self.atom()
            return f"<mfrac>{numerator}{self.atom()}</mfrac>"
        if name == "sqrt":
            return f"<msqrt>{self.atom()}</msqrt>"
        if name in ("mathrm", "text", "operatorname", "mathbf"):
            text = self.braced_text()
            return (
                f'<mi mathvariant="normal">{_e(text)}</mi>'
                if name != "text"
                else f"<mtext>{_e(text)}</mtext>"
            )
        if name in _ACCENTS:
            return f'<mover accent="true">{self.atom()}<mo>{_ACCENTS[name]}</mo></mover>'
        if name in _IGNORED:
            return "<mrow></mrow>"
        if name in _SPACES:
            return f'<mspace width="{_SPACES[name]}"></mspace>'
        if name in _SYMBOLS:
            return f"<mi>{_SYMBOLS[name]}</mi>"
        if name in _OPERATORS:
            return f"<mo>{_OPERATORS[name]}</mo>"
        if name in ("{", "}", "|", "%", "#", "&", "_"):
            return f"<mo>{_e(name)}</mo>"
        # \log, \max, ... and any command this reader does not know: its name, upright, never raw TeX
        return f'<mi mathvariant="normal">{_e(name)}</mi>'


def tex_to_mathml(tex: str, display: bool = False) -> str:
    """One TeX formula as a ``<math>`` element (``display``: a block of its own)."""
    body = _Reader(tex.strip()).row()
    mode = ' display="block"' if display else ""
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML"{mode}>{body}</math>'


_INLINE = re.compile(r":math:`([^`]*)`|``([^`]*)``|:(?:class|func|meth|attr|data|mod):`~?([^`]*)`")


def _inline(text: str) -> str:
    out, last = [], 0
    for m in _INLINE.finditer(text):
        out.append(_e(text[last : m.start()]).replace("**", ""))
        math, code, ref = m.groups()
        if math is not None:
            out.append(tex_to_mathml(math))
        elif code is not None:
            out.append(f"<code>{_e(code)}</code>")
        else:
            out.append(f"<code>{_e(ref.split('.')[-1])}</code>")
        last = m.end()
    out.append(_e(text[last:]).replace("**", ""))
    return "".join(out)


def rst_to_html(text: str) -> str:
    """A docstring's paragraphs as HTML: ``.. math::`` blocks displayed, inline ``:math:`` and ``code``
    set in their lines, everything else escaped."""
    blocks, math_next = [], False
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        stripped = paragraph.strip()
        if ".. math::" in stripped and not stripped.startswith(".. math::"):
            prose, tex = stripped.split(".. math::", 1)
            blocks.append(f"<p>{_inline(prose.strip())}</p>")
            stripped = ".. math::" + tex
        if stripped.startswith(".. math::") or math_next:
            tex = stripped[len(".. math::") :] if stripped.startswith(".. math::") else stripped
            # one formula, however many lines it is written on (a TeX line break is only a space)
            lines = [line.strip() for line in tex.splitlines() if line.strip()]
            if lines:
                blocks.append(tex_to_mathml(" ".join(lines), display=True))
            math_next = not lines  # ".. math::" alone: the formula is the next (indented) paragraph
        elif stripped:
            blocks.append(f"<p>{_inline(stripped)}</p>")
    return "".join(blocks)
