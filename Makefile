# Two commands: `make demo` and `make test`. Both create .venv (Python 3.11) if missing and install the pinned
# dependencies, torch 2.13.0 first (a CPU build lies on disk on these machines; a looser pin pulls CUDA).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED_DATA := $(abspath ../shared/data)
export INKMATH_DATA ?= $(if $(wildcard $(SHARED_DATA)),$(SHARED_DATA),data)

.PHONY: demo test venv chromium wheelhouse results results-accuracy results-speed results-page clean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/inkmath demo

# Browser tests drive Debian's chromium; install it when it is missing (needs root, as on CI).
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v /usr/bin/chromium >/dev/null 2>&1 || \
	  { (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "chromium could not be installed: browser tests will be skipped"; }

# The pinned runtime dependencies as wheels, downloaded once, so that tests/test_wheel.py can install the built wheel
# into a fresh virtual environment offline.
WHEELHOUSE := $(VENV)/wheelhouse
RUNTIME := torch numpy pillow kornia opencv-python-headless sympy rich safetensors PyYAML latex2mathml
$(WHEELHOUSE)/.downloaded: requirements.txt | $(STAMP)
	$(BIN)/python -m pip download -q --only-binary=:all: -d $(WHEELHOUSE) \
	  $$(grep -E '^($(subst $() ,|,$(RUNTIME)))==' requirements.txt)
	@touch $@

wheelhouse: $(WHEELHOUSE)/.downloaded

# The suite runs on TEST_WORKERS processes (pytest-xdist; 0: in this process). On 2 cores, 2 workers ran the 1,406
# tests in 296 s against 487 s in one (AMD EPYC, 2026-11-29; docs/decisions/code-layout.md).
TEST_WORKERS ?= 2
test: $(STAMP) chromium wheelhouse
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS)

# The results page (docs/results.md and the README's headline table), from result files only.
# `make results` measures every figure again on this machine (the accuracy runs take tens of minutes on 2 cores, the
# speed and web runs a few more), writes benchmarks/results/*.json and regenerates the page; run it on a quiet
# machine. `make results-page` only regenerates the page from the result files there.
R := benchmarks/results
results: results-accuracy results-speed results-page

results-accuracy: $(STAMP)
	$(BIN)/inkmath eval mnist mnist:test --result $(R)/symbols-mnist.json
	$(BIN)/inkmath eval hasy hasy:fold=1:test --result $(R)/symbols-hasy.json
	$(BIN)/inkmath eval crohme crohme:test:preset=crohme32 --result $(R)/symbols-crohme.json
	$(BIN)/inkmath eval crohme-m crohme:test:preset=crohme32 --result $(R)/symbols-crohme-m.json
	$(BIN)/inkmath crohme-eval val --json --result $(R)/expressions-1-val.json
	$(BIN)/python benchmarks/wap_val.py --json --result $(R)/expressions-2-wap-val.json
	$(BIN)/inkmath crohme-eval test --json --result $(R)/expressions-3-test.json
	$(BIN)/inkmath crohme-eval wap --json --result $(R)/expressions-4-wap.json
	$(BIN)/python benchmarks/hasy_folds.py --folds 1 --shipped-fold1

results-speed: $(STAMP)
	$(BIN)/python benchmarks/bench_predict.py
	$(BIN)/python benchmarks/bench_recognize.py --engines torch,onnx
	$(BIN)/python benchmarks/bench_train_throughput.py --images 6144 --rounds 3 --models seed-cnn
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/bench_scratch.py
	$(BIN)/python benchmarks/bench_solve.py --calls 20 --out $(R)/solve.md
	$(BIN)/python benchmarks/bench_web.py --engines onnx,torch --workers pool2 --seconds 30
	$(BIN)/python benchmarks/bench_batch.py --files 400 --rounds 2 --result $(R)/batch.json

results-page:
	$(BIN)/python benchmarks/results_page.py

clean:
	rm -rf $(VENV) .pytest_cache
