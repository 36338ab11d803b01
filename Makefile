# Two commands on a fresh machine:  make sim   and   make test
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYMAVLINK_VERSION := 2.4.50
XML_DIR := .cache/mavlink-xml
ICD_XML := flightsw/icd/prospector.xml
ICD_PY  := flightsw/icd/generated/prospector.py
RUN_DIR ?= runs/$(shell date +%Y%m%d-%H%M%S)

.PHONY: sim test lint icd bench clean venv hil-tools browser-tools firmware bench-hil

venv: $(STAMP)

# The virtual environment, created on first use.  On a Debian machine without
# the venv module, install it through apt-get when we are root.
$(STAMP): pyproject.toml
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c "import ensurepip" 2>/dev/null || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq python3-venv; }
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,docs]'
	$(PY) tools/install_dialect.py
	@touch $@

# common.xml and its includes come from pymavlink's source distribution
# (the wheel carries no XML).  Needed only to regenerate or check the ICD.
$(XML_DIR)/common.xml: | $(STAMP)
	$(PY) tools/fetch_mavlink_xml.py --version $(PYMAVLINK_VERSION) --out $(XML_DIR)

icd: $(XML_DIR)/common.xml
	$(PY) tools/gen_icd.py --xml-dir $(XML_DIR) --out $(ICD_PY)
	$(PY) tools/install_dialect.py

# The run report inlines plotly.js's cartesian bundle when it is here (a third of the
# full bundle the plotly package ships, which it uses otherwise): fetched with npm.
PLOTLY_SPEC := plotly.js-cartesian-dist-min@3.4.0
PLOTLY_JS := sim/report_assets/plotly-cartesian.min.js
$(PLOTLY_JS): | $(STAMP)
	@$(PY) tools/fetch_plotly_bundle.py --spec $(PLOTLY_SPEC) --out $@

sim: $(STAMP) $(PLOTLY_JS)
	$(PY) -m prospector.cli run --scenario bennu --seed 1 --out $(RUN_DIR)

lint: $(STAMP)
	$(PY) -m ruff check flightsw sim hil ground prospector tests bench tools prospector_dialect.py setup.py

test: $(STAMP) $(XML_DIR)/common.xml lint hil-tools browser-tools $(PLOTLY_JS)
	@! command -v arm-none-eabi-gcc >/dev/null || $(MAKE) --no-print-directory firmware
	$(PY) -m pytest tests

# HIL: Debian's bare-metal toolchain and QEMU (about 51 MB + 16 MB), installed
# when missing if we are root; otherwise the HIL tests are skipped (one line, and
# pytest's -rs lists them).  Under CI (CI=true, set by .ci/run) the HIL tests must
# run: a tool that cannot be installed fails the run with one line naming it.
HIL_PKGS := gcc-arm-none-eabi qemu-system-arm
hil-tools:
	@if command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  apt-get install -y -qq --no-install-recommends $(HIL_PKGS) >/dev/null; then :; \
	elif [ -n "$${CI:-}" ] && [ "$${CI}" != false ] && [ "$${CI}" != 0 ]; then \
	  missing=""; for t in arm-none-eabi-gcc qemu-system-arm; do \
	    command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	  echo "CI: HIL tools missing:$$missing (cannot install $(HIL_PKGS): needs root and apt-get)" >&2; \
	  exit 1; \
	else echo "HIL tests will be skipped: cannot install $(HIL_PKGS) (needs root and apt-get)"; fi

# The run report's browser check (tests/sim/test_report_browser.py): Debian's chromium and
# chromedriver, driven by Selenium at /usr/bin/chromium and /usr/bin/chromedriver (never a
# browser Selenium Manager would download).  Installed when missing if we are root;
# otherwise that test is skipped with its reason, and under CI it fails with one line.
BROWSER_PKGS := chromium chromium-driver
browser-tools:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  apt-get install -y -qq --no-install-recommends $(BROWSER_PKGS) >/dev/null; then :; \
	elif [ -n "$${CI:-}" ] && [ "$${CI}" != false ] && [ "$${CI}" != 0 ]; then \
	  echo "CI: headless browser missing (cannot install $(BROWSER_PKGS): needs root and apt-get)" >&2; \
	  exit 1; \
	else echo "The report's browser test will be skipped: cannot install $(BROWSER_PKGS) (needs root and apt-get)"; fi

# The devboard firmware (hil/firmware), C headers generated from our ICD by mavgen.
firmware: $(STAMP) $(XML_DIR)/common.xml
	$(MAKE) --no-print-directory -s -C hil/firmware PY=$(abspath $(PY)) \
	  XML_DIR=$(abspath $(XML_DIR)) BUILD=$(abspath build/firmware)

bench-hil: firmware
	$(PY) bench/bench_hil.py

bench: $(STAMP)
	$(PY) bench/bench_sil.py

# The run report's numbers (size, time to make, time to open in headless Chromium) on a
# run directory: RUN=path/to/run (a whole mission: make sim).
.PHONY: bench-report
bench-report: $(STAMP) browser-tools
	$(PY) bench/bench_report.py $(RUN)

clean:
	rm -rf $(VENV) .cache build *.egg-info

# Re-record the golden logs (tests/golden/) after an intended change of flight behaviour;
# commit them with the change.  tests/test_golden_logs.py replays them bit for bit.
.PHONY: golden bench-logs
golden: $(STAMP)
	$(PY) tests/golden/record.py

bench-logs: $(STAMP)
	$(PY) bench/bench_logs.py

# Structure-aware fuzzing of the log readers, replay, the link, scenarios and run configs
# (tests/fuzz/fuzzing.py).  Failures are saved in tests/fuzz/cases/, which make test replays;
# make test also runs a bounded number of fresh cases.  Figures appended to bench/RESULTS.md.
# FUZZ_JOBS worker processes (1 by default: a shared machine); FUZZ_SEED makes a run again.
.PHONY: fuzz
FUZZ_INPUTS ?= 1000000
FUZZ_JOBS ?= 1
fuzz: $(STAMP)
	$(PY) tools/fuzz.py --inputs $(FUZZ_INPUTS) --jobs $(FUZZ_JOBS) \
		$(if $(FUZZ_SEED),--seed $(FUZZ_SEED)) --results bench/RESULTS.md

# Line coverage of flightsw and sim (issue 22: each package >= 95 %, no module under 85 %),
# the whole suite under pytest-cov with every Python subprocess measured too (the prospector
# command lines, the recorder child, sweep workers: [tool.coverage.run] patch = subprocess).
# Data under .cache/coverage/.  Not part of make test: it takes several minutes more.
.PHONY: coverage
COV_DATA := .cache/coverage/.coverage
coverage: $(STAMP) $(XML_DIR)/common.xml hil-tools
	@! command -v arm-none-eabi-gcc >/dev/null || $(MAKE) --no-print-directory firmware
	rm -rf .cache/coverage
	$(PY) -m pytest tests --cov --cov-report= ; status=$$?; \
	  if ls $(COV_DATA).* >/dev/null 2>&1; then $(PY) -m coverage combine -q --append --data-file=$(COV_DATA); fi; \
	  $(PY) -m coverage report --data-file=$(COV_DATA) --sort=cover && \
	  $(PY) tools/coverage_summary.py --data-file=$(COV_DATA); cov=$$?; \
	  [ $$status = 0 ] && exit $$cov || exit $$status

# Mutation testing of the mission-critical modules (docs/testing.md): mutmut, one mutant at
# a time, in a copy of the tree under .cache/mutants (the working tree is never mutated);
# prints the score per module and every surviving mutant that docs/testing.md does not
# explain as equivalent.  Not part of make test: it takes the better part of an hour.
.PHONY: mutants
MUTANTS_STAMP := $(VENV)/.mutants-installed
$(MUTANTS_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -q -e '.[test,mutants]'
	@touch $@

mutants: $(MUTANTS_STAMP)
	$(PY) tools/mutants.py

# The documentation site (mkdocs.yml): the generated pages brought up to date, then
# `mkdocs build --strict` into build/site (any warning fails it).  tests/test_docs.py runs
# the same strict build, so make test fails on a broken page too.  No network needed.
.PHONY: docs
DOC_GENERATORS := gen_command_docs gen_architecture gen_fault_docs gen_icd_docs gen_scenario_docs
docs: $(STAMP)
	@for tool in $(DOC_GENERATORS); do $(PY) tools/$$tool.py || exit 1; done
	$(PY) -m mkdocs build --strict --site-dir build/site
