"""The type information users get: the stubs match the compiled module (mypy.stubtest), and the
package and the README's examples pass `mypy --strict`."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.source_tree  # type-checks the checkout's package and README

ROOT = Path(__file__).resolve().parents[2]

# Every README example runs as written (tests/integration/test_readme.py); this only imports
# fastprod for the fragments that use it without importing it.
README_PRELUDE = "import fastprod\n"


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_stubs_match_the_compiled_module():
    done = mypy("mypy.stubtest", "fastprod._core", "--allowlist",
                str(ROOT / "tests" / "stubtest-allowlist.txt"))
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]


def test_package_and_readme_examples_pass_mypy_strict(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(blocks) >= 3
    for i, block in enumerate(blocks):
        (tmp_path / f"readme_example_{i}.py").write_text(README_PRELUDE + textwrap.dedent(block))
    done = mypy("mypy", "--strict", "--no-incremental", "fastprod", str(tmp_path))
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
