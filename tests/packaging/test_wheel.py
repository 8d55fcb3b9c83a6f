"""The wheel users install: `make wheel` (its `dist` step here) builds it and the sdist; it holds
the compiled module, the stubs and py.typed but no sources of the compiled module and no
librdkafka of its own; installed into a fresh venv with no Cython and no compiler on PATH, it
passes the unit suite run from outside the source tree, so the installed package is what the
tests import. Installed with the machine's Java, Maven and gcc on PATH, its `fastprod kafka` and
`fastprod bench --local` (with the C loop it ships) run from outside any checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEST_DEPENDENCIES = ["pytest", "pytest-timeout", "hypothesis", "fastavro"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("build")  # not the checkout's dist/ or build/
    dist = out / "dist"
    done = subprocess.run(["make", "-s", "dist", f"VPY={sys.executable}", f"DIST={dist}",
                           f"UNREPAIRED={out / 'unrepaired'}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    wheels = sorted(dist.glob("fastprod-*manylinux*.whl"))
    sdists = sorted(dist.glob("fastprod-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, list(dist.iterdir())
    print(f"\n{wheels[0].name}\n{done.stdout.strip()}")
    return {"wheel": wheels[0], "sdist": sdists[0], "show": done.stdout}


def test_wheel_holds_the_module_and_stubs_but_no_sources_or_librdkafka(built):
    names = zipfile.ZipFile(built["wheel"]).namelist()
    assert any(n.startswith("fastprod/_core.") and n.endswith(".so") for n in names)
    assert {"fastprod/py.typed", "fastprod/_core.pyi", "fastprod/bench/run.py",
            "fastprod/kafka_local/pom.xml"} <= set(names)
    # The one C file is the benchmark's loop, compiled where `fastprod bench` runs.
    assert [n for n in names if n.endswith((".c", ".h", ".pyx", ".pxi", ".pxd"))] == [
        "fastprod/bench/c_loop.c"]
    assert [n for n in names if "librdkafka" in n or n.endswith(".libs/")] == []
    assert "manylinux" in built["wheel"].name
    assert "is consistent with the following platform tag" in " ".join(built["show"].split())


def test_sdist_holds_what_builds_the_module(built):
    import tarfile

    names = {n.split("/", 1)[1] for n in tarfile.open(built["sdist"]).getnames() if "/" in n}
    assert {"src_ext/_core.pyx", "src_ext/engine/engine.c", "src_ext/engine/rdk.h", "setup.py",
            "fastprod/_core.pyi", "fastprod/_core.pxd", "CHANGELOG.md", "fastprod/bench/c_loop.c",
            "fastprod/kafka_local/pom.xml"} <= names
    assert "src_ext/_core.c" not in names


def test_sdist_builds_a_wheel_on_its_own(built, tmp_path):
    """pip builds the sdist in an isolated environment (setuptools and Cython from the sdist's
    build-system table), so nothing the checkout has and the sdist lacks can hide here."""
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                           str(built["sdist"]), "-w", str(tmp_path)], capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = tmp_path.glob("fastprod-*.whl")
    assert any(n.startswith("fastprod/_core.") for n in zipfile.ZipFile(wheel).namelist())


def test_installed_wheel_passes_the_unit_suite_without_cython_or_compiler(built, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # Only the venv on PATH: no gcc, cc or cython to fall back on.
    env = {"PATH": str(env_dir / "bin"), "HOME": os.environ.get("HOME", str(tmp_path)),
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CACHE_DIR"):
        if name in os.environ:
            env[name] = os.environ[name]

    def run(*args: str, cwd: Path = tmp_path) -> str:
        done = subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        return done.stdout

    run("-m", "pip", "install", "-q", str(built["wheel"]), *TEST_DEPENDENCIES)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(ROOT / "tests", work / "tests",
                    ignore=shutil.ignore_patterns("__pycache__", "packaging"))
    shutil.copy(ROOT / "pyproject.toml", work)
    where = run("-c", "import fastprod, importlib.util, shutil; "
                      "print(fastprod.__file__); print(importlib.util.find_spec('Cython')); "
                      "print(shutil.which('gcc'), shutil.which('cc'))", cwd=work)
    location, cython, compilers = where.splitlines()
    assert location.startswith(str(env_dir)), location
    assert cython == "None" and compilers == "None None"
    out = run("-m", "pytest", "tests/unit", "-m", "not source_tree and not slow", "-q", "-p",
              "no:cacheprovider", cwd=work)
    print(out.strip().splitlines()[-1])
    assert " passed" in out.splitlines()[-1] and "failed" not in out.splitlines()[-1]


def test_installed_wheel_runs_a_local_broker_and_the_bench_outside_the_checkout(built, tmp_path):
    """From /tmp-like ground with no checkout in sight: `fastprod kafka start|status|stop` and
    `fastprod bench --local` with the C loop, fastprod and confluent-kafka. Kafka jars come from
    this machine's cache (the shipped pom.xml fetches them when the cache has none)."""
    from fastprod.kafka_local import runtime
    from tests.integration.conftest import free_port_block

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    cache = tmp_path / "cache"
    cache.mkdir()
    if runtime.libs_dir().joinpath(".complete").exists():
        (cache / runtime.libs_dir().parent.name).symlink_to(runtime.libs_dir().parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}", FASTPROD_CACHE=str(cache),
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    work = tmp_path / "elsewhere"
    work.mkdir()

    def fastprod(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(env_dir / "bin" / "fastprod"), *args], cwd=work, env=env,
                              capture_output=True, text=True, timeout=900)

    installed = subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q",
                                str(built["wheel"])], env=env, capture_output=True, text=True,
                               timeout=900)
    assert installed.returncode == 0, installed.stderr[-3000:]

    state, port = tmp_path / "kafka", free_port_block()
    started = fastprod("kafka", "start", "--dir", str(state), "--port", str(port))
    try:
        assert started.returncode == 0, started.stderr
        assert started.stdout == f"127.0.0.1:{port}\n"
        status = fastprod("kafka", "status", "--dir", str(state))
        assert status.returncode == 0 and status.stdout.endswith(f"127.0.0.1:{port} up\n")
    finally:
        stopped = fastprod("kafka", "stop", "--dir", str(state))
    assert stopped.returncode == 0, stopped.stderr
    assert fastprod("kafka", "status", "--dir", str(state)).stdout == "no cluster\n"

    out = tmp_path / "bench.json"
    bench = fastprod("bench", "--local", "--local-port", str(free_port_block()), "--records",
                     "20000", "--runs", "1", "--scenario", "keyless", "--scenario",
                     "keyed-futures", "--clients", "native,fastprod,fastprod-drop,confluent",
                     "--json", str(out))
    assert bench.returncode == 0, bench.stdout[-3000:] + bench.stderr[-3000:]
    print(bench.stdout)
    scenarios = json.loads(out.read_text())["scenarios"]
    assert {client: e["status"] for name in ("keyless", "keyed-futures")
            for client, e in scenarios[name]["clients"].items()} == {
        "native": "ok", "fastprod": "ok", "fastprod-drop": "ok", "confluent": "ok"}
    assert not (cache / "kafka-local" / "bench" / "cluster.json").exists()  # stopped after


def test_cibuildwheel_builds_every_supported_platform():
    """The cibuildwheel configuration parses and selects CPython 3.10-3.14 on manylinux x86_64 and
    aarch64, musllinux x86_64 and macOS x86_64/arm64 (the builds themselves need Docker or a Mac:
    .github/workflows/wheels.yml runs them on tags)."""
    identifiers = set()
    for platform in ("linux", "macos"):
        done = subprocess.run([sys.executable, "-m", "cibuildwheel", "--print-build-identifiers",
                               "--platform", platform], cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        identifiers |= set(done.stdout.split())
    expected = {f"cp3{minor}-{tag}" for minor in range(10, 15)
                for tag in ("manylinux_x86_64", "manylinux_aarch64", "musllinux_x86_64",
                            "macosx_x86_64", "macosx_arm64")}
    assert identifiers == expected
