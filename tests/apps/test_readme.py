"""Every example in README.md and the documents under docs/ runs as written.

- Each ```python block of a document runs, in order, in a fresh namespace per document (the blocks of a page
  share their names, as a reader reads them), in a new interpreter and a temporary working directory, with
  warnings as errors (scikit-learn's ConvergenceWarning excepted: the examples train for a few epochs to stay
  quick). A block preceded by ``<!-- docs-test: skip (reason) -->`` is skipped, and the reason must be given.
- ``QUICK`` gives a block quicker settings, ``CHECKS`` what must hold after it (what its comments claim).
- Each line of a ```bash block is listed in ``SHELL`` below: run (with small settings) or skipped with a
  reason. A new shell example fails the test until it is listed, so none goes unchecked.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

FENCE = re.compile(
    r"^(?P<skip><!-- docs-test: skip \((?P<reason>[^)]*)\) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)^```",
    re.M | re.S,
)


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the block's first code line in the document
    lang: str
    code: str
    skip_reason: str | None


def blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start("body")) + 1
        reason = match.group("reason")
        if match.group("skip") is not None and not (reason or "").strip():
            raise AssertionError(
                f"{path.name}:{line}: a skipped block must say why: <!-- docs-test: skip (why) -->"
            )
        found.append(Block(path, line, match.group("lang"), match.group("body"), reason))
    return found


# --- Python blocks ---------------------------------------------------------------------------------------

RUNNER = textwrap.dedent(
    """
    import json, sys, warnings
    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("error")
    warnings.simplefilter("ignore", ConvergenceWarning)
    namespaces = {}
    for path, line, code, checks in json.load(sys.stdin):
        namespace = namespaces.setdefault(path, {"__name__": "__main__"})  # one per document
        # blank lines in front, so that a traceback names the document's own line
        exec(compile("\\n" * (line - 1) + code, path, "exec"), namespace)
        for check in checks:
            if not eval(check, namespace):
                raise AssertionError(f"{path}:{line}: the example ran, but not {check}")
    """
)

#: (document, a line of the python block) -> (text in the block, what the suite runs instead): quick settings
QUICK = {
    ("README.md", "history = trainer.fit(X, y, epochs=100)"): [("epochs=100", "epochs=20")],
}

#: (document, a line of the python block) -> expressions that must be true after the block ran: what the
#: example claims in its comments
CHECKS = {
    ("README.md", "history = trainer.fit(X, y, epochs=100)"): [
        "history['val_score'][-1] > 0.9",
        "net.predict_proba(X[:3]).shape == (3, 10)",
        "max(gradcheck_network(net, X[:5], y[:5]).values()) < 1e-6",
    ],
    ("README.md", "session = ort.InferenceSession("): [
        "session.get_inputs()[0].type == 'tensor(double)'",
        "(label == clf.predict(X_test)).all()",
        "abs(probabilities - clf.predict_proba(X_test)).max() < 1e-9",
    ],
}


def runnable(path: Path) -> list[list]:
    """``[path, line, code, checks]`` for each python block of ``path`` that is not skipped."""
    name = path.relative_to(ROOT).as_posix()
    todo = []
    for block in blocks(path):
        if block.lang != "python":
            continue
        code, checks = block.code, []
        for (document, line), changes in QUICK.items():
            if document == name and line in block.code:
                for text, quick in changes:
                    code = code.replace(text, quick)
        for (document, line), expressions in CHECKS.items():
            if document == name and line in block.code:
                checks += expressions
        if block.skip_reason is None:
            todo.append([str(path), block.line, code, checks])
        else:
            assert not checks, f"{name}:{block.line} is skipped but has CHECKS"
    return todo


def test_python_examples_run(tmp_path):
    """One interpreter for all the documents (it starts once), a fresh namespace for each."""
    examples = [example for path in DOCUMENTS for example in runnable(path)]
    assert {Path(path).name for path, *_ in examples} >= {"README.md", "reading-order.md", "contributing.md"}
    result = _run(examples, tmp_path)
    start = result.stderr.find("Traceback")  # what failed, without the examples' progress bars
    traceback = result.stderr if start < 0 else result.stderr[start:]
    assert result.returncode == 0, f"an example failed:\n{traceback[-4000:]}"


def _run(examples: list, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps(examples),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )


def _run_here(examples: list, monkeypatch) -> None:
    """The runner in this process (quick: nothing to import again), its warning filters undone afterwards."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(examples)))
    with warnings.catch_warnings():
        exec(RUNNER, {})


def test_the_runner_reports_a_failing_example_at_its_line(tmp_path, monkeypatch):
    doc = str(tmp_path / "page.md")
    with pytest.raises(ValueError, match="boom") as failing:
        _run_here([[doc, 7, "x = 1\nraise ValueError('boom')\n", []]], monkeypatch)
    assert (doc, 7) in {(str(entry.path), entry.lineno) for entry in failing.traceback}  # 0-based: line 8
    with pytest.raises(AssertionError, match="the example ran, but not x == 2"):
        _run_here([[doc, 3, "x = 1\n", ["x == 2"]]], monkeypatch)
    with pytest.raises(UserWarning, match="careful"):
        _run_here([[doc, 1, "import warnings\nwarnings.warn('careful')\n", []]], monkeypatch)


def test_quick_settings_and_checks_find_their_blocks():
    for name, line in [*QUICK, *CHECKS]:
        python = [b.code for b in blocks(ROOT / name) if b.lang == "python"]
        assert sum(line in code for code in python) == 1, f"no single python block of {name} has {line!r}"
    for (name, line), changes in QUICK.items():
        code = next(b.code for b in blocks(ROOT / name) if b.lang == "python" and line in b.code)
        for text, _ in changes:
            assert text in code, f"{name}'s block with {line!r} no longer has {text!r}: update QUICK"


def test_every_skipped_block_says_why():
    for path in DOCUMENTS:
        for block in blocks(path):  # blocks() raises on a skip without a reason
            assert block.skip_reason is None or block.skip_reason.strip()


# --- shell blocks ----------------------------------------------------------------------------------------

INSTALL = "installs packages into a new virtual environment; .ci/run runs the test command on a fresh machine"

#: every shell line of the documents (comments stripped): the arguments run here, or the reason it is not run
SHELL: dict[str, list[str] | str] = {
    'python3 -m venv .venv && .venv/bin/pip install -e ".[all,fast]" && .venv/bin/glassnet compare': INSTALL,
    'python3 -m venv .venv && .venv/bin/pip install -q -e ".[all,dev,bench]" && .venv/bin/python -m pytest -q': INSTALL,
    "glassnet train --recipe digits --epochs 20 -o digits.npz": (
        [
            "train",
            "--recipe",
            "digits",
            "--epochs",
            "1",
            "--hidden",
            "16",
            "-o",
            "digits.npz",
            "--no-progress",
        ]
    ),
    "glassnet evaluate digits.npz": ["evaluate", "digits.npz"],
    "glassnet predict digits.npz digit.png --top 3": ["predict", "digits.npz", "digit.png", "--top", "3"],
    "glassnet export digits.npz --format onnx -o digits.onnx": [
        "export",
        "digits.npz",
        "--format",
        "onnx",
        "-o",
        "digits.onnx",
    ],
    "glassnet playground": "serves a web page until Ctrl-C; tests/apps/test_playground.py starts it on a free port",
    ".venv/bin/python -m pytest -q": "the whole suite, which this test is part of",
    ".venv/bin/python -m pytest -q -x -p no:cacheprovider tests/nn/test_layers.py": "a test file of this suite",
    "bash .ci/kernels": "reruns the whole suite once per OpenBLAS kernel family",
    "glassnet bench speed --quick": "minutes of timing; tests/apps/test_bench_speed.py runs its parts on tiny data",
    "glassnet bench accuracy --quick": "a minute of training; tests/apps/test_bench_accuracy.py runs it on tiny data",
    "python benchmarks/fast_kernels.py": "times the kernels; tests/nn/test_fastpaths.py checks each one against NumPy",
}


def shell_lines(path: Path) -> list[tuple[int, str]]:
    lines = []
    for block in blocks(path):
        if block.lang not in ("bash", "sh", "shell", "console"):
            continue
        for offset, raw in enumerate(block.code.splitlines()):
            command = _strip_comment(raw).strip()
            if command:
                lines.append((block.line + offset, command))
    return lines


def _strip_comment(line: str) -> str:
    """The line without its trailing ``# comment`` (a ``#`` inside quotes, or inside a word, stays)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def test_every_shell_example_is_listed():
    unlisted = [
        f"{path.relative_to(ROOT)}:{line}: {command}"
        for path in DOCUMENTS
        for line, command in shell_lines(path)
        if command not in SHELL
    ]
    assert not unlisted, "shell examples missing from tests/apps/test_readme.py's SHELL:\n" + "\n".join(
        unlisted
    )


def test_shell_examples_run(tmp_path, monkeypatch, capsys):
    pytest.importorskip("sklearn")
    from glassnet.cli import main

    monkeypatch.chdir(tmp_path)
    _digit_picture(tmp_path / "digit.png")
    documented = {command for path in DOCUMENTS for _, command in shell_lines(path)}
    for command, action in SHELL.items():
        if isinstance(action, str) or command not in documented:
            continue
        if action[0] == "export":
            pytest.importorskip("onnx")
        assert main(action) == 0, f"`{command}` (run as glassnet {' '.join(action)}) failed"
    out = capsys.readouterr().out
    assert "digit.png" in out  # predict named its input


def _digit_picture(path: Path) -> None:
    """A light-on-dark "1" as a PNG, for the predict example."""
    import numpy as np
    from PIL import Image

    image = np.zeros((32, 32), dtype=np.uint8)
    image[4:28, 14:18] = 255
    Image.fromarray(image).save(path)
