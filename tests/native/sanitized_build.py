"""pytest plugin for `make test-asan` (-p sanitized_build).

Stops the run before any test unless the fastprod._core that was imported is the sanitized build
and the ASan runtime is loaded: a clean run proves nothing if pytest quietly imported the in-place
build instead (the checkout is on sys.path too). Fails each test during which some process wrote
a sanitizer report, naming the report: scenario children and children that a test expects to die
would otherwise let a report pass unnoticed.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest

# Tests that measure this process's memory: ASan keeps freed blocks in quarantine (so that a
# use-after-free is caught) and pads every block with redzones, so RSS grows by design there.
MEASURES_MEMORY = {"tests/unit/test_bad_input.py::test_a_million_failing_calls_keep_no_memory"}
# Tests that run programs under valgrind, which cannot run beside the ASan runtime that LD_PRELOAD
# hands every child process.
UNDER_VALGRIND = {
    "tests/unit/test_bench_instructions.py::test_a_short_run_under_callgrind_gives_plausible_counts"}

LOGS = Path(os.environ.get("FASTPROD_SANITIZER_LOGS", "build/asan/logs"))
_seen: set[Path] = set()


def _problem() -> str | None:
    import fastprod._core as core

    lib = Path(os.environ.get("FASTPROD_SANITIZED_LIB", "build/asan/lib")).resolve()
    so = Path(core.__file__).resolve()
    if lib not in so.parents:
        return f"fastprod._core came from {so}, not from the sanitized build in {lib}"
    if b"__asan_init" not in so.read_bytes():
        return f"{so} is not built with -fsanitize=address"
    if "libasan" not in Path("/proc/self/maps").read_text():
        return "libasan is not loaded: LD_PRELOAD it (docs/sanitizers.md)"
    return None


def _new_reports() -> list[Path]:
    found = set(LOGS.iterdir()) if LOGS.is_dir() else set()
    new = sorted(found - _seen)
    _seen.update(new)
    return new


def _summary(report: Path) -> str:
    lines = report.read_text(errors="replace").splitlines()
    return next((line for line in lines if line.startswith("SUMMARY:")), lines[1] if lines else "")


def pytest_sessionstart(session: pytest.Session) -> None:
    problem = _problem()
    if problem:
        pytest.exit(f"not a sanitized run: {problem}", returncode=3)
    _new_reports()


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"sanitized build: ASan + UBSan (checked); reports go to {LOGS}"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid in MEASURES_MEMORY:
            item.add_marker(pytest.mark.skip(reason="measures RSS, which ASan's quarantine grows"))
        elif item.nodeid in UNDER_VALGRIND:
            item.add_marker(pytest.mark.skip(reason="valgrind cannot run beside ASan"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    outcome = yield
    if call.when != "teardown":
        return
    reports = _new_reports()
    if reports:
        result = outcome.get_result()
        result.outcome = "failed"
        result.longrepr = "\n".join(f"sanitizer report {r} (printed in full at the end): "
                                    f"{_summary(r)}" for r in reports)
