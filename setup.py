"""Builds the one compiled module, fastprod._core, from src_ext/ (metadata is in pyproject.toml).

Knobs: FASTPROD_DEBUG=1 (-O0 -g, Cython annotate and line tracing), FASTPROD_SANITIZE=1
(ASan/UBSan for `make test-asan`, see docs/sanitizers.md; its generated C goes under build/asan/,
so that a sanitized build never rewrites the in-place build's src_ext/_core.c).
librdkafka is neither linked nor needed at build time: _core resolves it at import (src_ext/engine/rdk.c).
"""

import os
import re
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).resolve().parent
VERSION = re.search(r'__version__ = "([^"]+)"', (HERE / "fastprod" / "_version.py").read_text())[1]

debug = os.environ.get("FASTPROD_DEBUG") == "1"
sanitize = os.environ.get("FASTPROD_SANITIZE") == "1"

compile_args = ["-std=gnu11", "-Wall", "-Wno-unused-function", "-fvisibility=hidden"]
link_args = []
macros = []
if debug:
    compile_args += ["-O0", "-g3"]
    macros += [("CYTHON_TRACE_NOGIL", "1"), ("FASTPROD_DEBUG", "1")]
else:
    # -flto: the engine's units are separate, yet send() still gets their small hot functions
    # inlined (callgrind, keyed send(): 1,415 instructions per record without it, ~1,350 with).
    compile_args += ["-O2", "-flto=auto"]
    link_args += ["-O2", "-flto=auto"]
if sanitize:
    # -O1 -g: fast enough for the whole suite, with traces that still match the source; UB stops
    # the process (a finding, not a warning scrolled past in a passing suite).
    compile_args += ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
                     "-fno-omit-frame-pointer"]
    link_args += ["-fsanitize=address,undefined"]

# The C engine: each .c its own unit, compiled beside the Cython layer's (it never sees Python.h).
# The table encoder (send_table) likewise: C over Arrow's C Data Interface, no Python.h.
ENGINE_SOURCES = sorted(str(p.relative_to(HERE)) for p in (HERE / "src_ext" / "engine").glob("*.c"))
TABLE_SOURCES = sorted(str(p.relative_to(HERE)) for p in (HERE / "src_ext" / "table").glob("*.c"))

extension = Extension(
    "fastprod._core",
    ["src_ext/_core.pyx", *ENGINE_SOURCES, *TABLE_SOURCES],
    include_dirs=["src_ext/engine", "src_ext/table"],
    depends=[*(str(p) for p in sorted((HERE / "src_ext").rglob("*")) if p.is_file()),
             "fastprod/_core.pxd"],
    extra_compile_args=compile_args,
    extra_link_args=link_args,
    define_macros=macros,
    libraries=["dl", "pthread"],
)

setup(
    version=VERSION,
    ext_modules=cythonize(
        [extension],
        # "." for fastprod/_core.pxd, the declarations of the module's own types
        include_path=["src_ext", "."],
        annotate=debug,
        # Sanitized: generated apart from the in-place build's C, always afresh (Cython would
        # otherwise reuse a newer src_ext/_core.c, made without the #line directives that let
        # sanitizer traces name .pyx/.pxi lines).
        build_dir="build/asan/cython" if sanitize else None,
        force=sanitize,
        emit_linenums=sanitize,
        compiler_directives={
            "language_level": "3",
            "embedsignature": True,
            # no generated __reduce_cython__/__setstate_cython__ in help(): none of these
            # objects can be pickled (a producer holds threads and librdkafka)
            "auto_pickle": False,
            "linetrace": debug,
        },
    ),
)
