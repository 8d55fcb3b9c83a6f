"""librdkafka is resolved at import; a wrong or old library must fail the import clearly, and
fastprod.librdkafka_version() names the one loaded."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import fastprod

ROOT = Path(__file__).resolve().parents[2]


def _import_with(library: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import fastprod"], capture_output=True, text=True,
                          env={"FASTPROD_LIBRDKAFKA": library, "PATH": "/usr/bin:/bin"})


def test_missing_library():
    r = _import_with("/nonexistent/librdkafka.so.1")
    assert r.returncode != 0
    assert "ImportError: cannot load librdkafka from /nonexistent/librdkafka.so.1" in r.stderr


def test_library_without_the_symbols():
    import xxhash._xxhash  # a shared library on every platform, with no librdkafka in it

    r = _import_with(xxhash._xxhash.__file__)
    assert r.returncode != 0
    assert re.search(r"ImportError: librdkafka in .* lacks the symbol rd_kafka_\w+", r.stderr)


@pytest.mark.source_tree
def test_too_old_librdkafka(tmp_path):
    """A stand-in library exporting every symbol fastprod resolves, claiming version 2.0.0."""
    header = (ROOT / "src_ext" / "engine" / "rdk.h").read_text()
    names = sorted(set(re.findall(r"X\([^,]+,\s*(rd_kafka_\w+),", header)))
    assert "rd_kafka_producev" in names and len(names) > 20
    body = [f"void {n}(void) {{}}" for n in names if n not in ("rd_kafka_version", "rd_kafka_version_str")]
    body += ["int rd_kafka_version(void) { return 0x020000ff; }",
             'const char *rd_kafka_version_str(void) { return "2.0.0"; }']
    src = tmp_path / "old.c"
    src.write_text("\n".join(body) + "\n")
    lib = tmp_path / "librdkafka-old.so"
    build = subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(lib), str(src)],
                           capture_output=True, text=True)
    if build.returncode != 0:
        pytest.fail(f"cannot build the stand-in library: {build.stderr}")
    r = _import_with(str(lib))
    assert r.returncode != 0
    assert "librdkafka 2.0.0 in" in r.stderr and "too old: fastprod needs >= 2.3.0" in r.stderr


def test_librdkafka_version():
    version, number = fastprod.librdkafka_version()
    assert number >= 0x020300FF and version.count(".") == 2
