"""README.md's Python example runs as written, and its gradient check passes on the trained network."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "README.md lost its Python example"
    namespace: dict = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    net, X, y = namespace["net"], namespace["X"], namespace["y"]
    errors = namespace["gradcheck_network"](net, X[:5], y[:5])
    assert namespace["history"]["val_score"][-1] > 0.9
    assert max(errors.values()) < 1e-6
