# hookrelay: the two commands are `make dev` and `make test`; see README.md.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: dev test venv lint-template build unit e2e clean check-config redrive bench fuzz fuzz-smoke fuzz-seeds fuzz-tools doc deny deny-tools links

## ---- python tools (moto server, cfn-lint, ...) ----------------------------------------------
venv: $(VENV)/.installed vectors-deps
$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# npm side of the provider signers (tests/vectors/signer.py): GitHub's @octokit/webhooks-methods.
.PHONY: vectors-deps
VECTORS := tests/vectors
vectors-deps: $(VECTORS)/node_modules/.installed
$(VECTORS)/node_modules/.installed: $(VECTORS)/package.json $(VECTORS)/package-lock.json
	cd $(VECTORS) && npm ci --no-audit --no-fund
	touch $@

## ---- deploy / template (owned by the template work) ------------------------------------------
# One switch for every Lambda build: `make build ARCH=arm64` (the template's default architecture,
# needs `rustup target add aarch64-unknown-linux-gnu`) or ARCH=x86_64 (the default here).
# ARCH=amd64 / aarch64 are accepted too, in case the environment already sets ARCH that way.
ARCH ?= x86_64
override ARCH := $(patsubst amd64,x86_64,$(patsubst aarch64,arm64,$(strip $(ARCH))))
CARGO_LAMBDA_ARCH = $(if $(filter arm64,$(ARCH)),--arm64,$(if $(filter x86_64,$(ARCH)),--x86-64,$(error ARCH must be arm64 or x86_64, not '$(ARCH)')))
LAMBDA_BINS := ingress s3-relay worker
TEMPLATE := template.yaml
# `sam validate` needs a region but no credentials or network.
SAM_REGION ?= us-east-1
SAM := SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam
# cargo finds `cargo-lambda` (and cargo-lambda finds `python3 -m ziglang`) on PATH.
DEPLOY_PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: deploy-tools deploy
deploy-tools: $(VENV)/.deploy-installed
$(VENV)/.deploy-installed: requirements-deploy.txt $(VENV)/.installed
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-deploy.txt
	touch $@

lint-template: venv
	$(VENV)/bin/cfn-lint $(TEMPLATE)
	$(SAM) validate --lint --region $(SAM_REGION) --template-file $(TEMPLATE)

# Deployable zips: $(LAMBDA_DIR)/<name>/bootstrap.zip for each of $(LAMBDA_BINS) (there even when
# CARGO_TARGET_DIR points elsewhere). `INCLUDE=hookrelay.toml` packages files next to `bootstrap`
# (/var/task), e.g. a config of any size for HOOKRELAY_CONFIG_FILE (docs/deploy.md, section 3).
LAMBDA_DIR := target/lambda
INCLUDE ?=
build: deploy-tools
	PATH="$(DEPLOY_PATH)" $(CARGO) lambda build --release --output-format zip $(CARGO_LAMBDA_ARCH) \
		--lambda-dir $(LAMBDA_DIR) $(addprefix --bin ,$(LAMBDA_BINS)) $(addprefix --include ,$(INCLUDE))
	@for bin in $(LAMBDA_BINS); do ls -l $(LAMBDA_DIR)/$$bin/bootstrap.zip || exit 1; done

# Convenience, needs AWS credentials: SAM builds the same binaries (CargoLambda.toml applies) and
# deploys them for $(ARCH). See docs/deploy.md for the parameters and the secrets to create first.
deploy: deploy-tools
	PATH="$(DEPLOY_PATH)" $(SAM) build --beta-features --template-file $(TEMPLATE) \
		--parameter-overrides Architecture=$(ARCH)
	$(SAM) deploy --guided --parameter-overrides Architecture=$(ARCH)

## ---- local pipeline and tests ----------------------------------------------------------------
MOTO_SERVER := $(abspath $(VENV))/bin/moto_server
# `make test` keeps its cargo output here to print one closing count over every test binary.
TEST_LOG := target/test-output.log
# Tests and `make dev` talk to loopback servers only; never let the SDK probe instance metadata.
LOCAL_AWS_ENV := HOOKRELAY_MOTO_SERVER=$(MOTO_SERVER) AWS_EC2_METADATA_DISABLED=true

# The whole pipeline on loopback: SQS/S3/Secrets Manager (moto), a demo algorithm, and the three
# real function binaries under a local Lambda Runtime API. Ctrl-C stops everything.
dev: venv
	$(CARGO) build --workspace --bins
	$(LOCAL_AWS_ENV) $(CARGO) run --quiet -p hookrelay-e2e --bin devstack -- $(DEV_ARGS)

# Everything CI runs: formatting, lints, the template, unit tests and end-to-end tests over the real
# binaries. Each e2e test starts its own servers on free loopback ports and stops them.
test: venv lint-template
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	$(MAKE) --no-print-directory doc deny links
	$(CARGO) build --workspace --bins --locked
	$(LOCAL_AWS_ENV) $(CARGO) test --workspace --locked 2>&1 | tee $(TEST_LOG); exit $${PIPESTATUS[0]}
	$(MAKE) --no-print-directory fuzz-smoke
	@awk '/^test result:/ { passed += $$4; failed += $$6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' $(TEST_LOG)

## ---- the habits of a maintained crate: docs build, dependency policy ---------------------------
# The API docs, intra-doc links checked (a broken link or a missing doc of a public item fails).
doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --locked

# Licenses, banned crates and sources of every dependency (deny.toml says why not advisories).
CARGO_DENY_VERSION := 0.20.2
deny-tools:
	@$(CARGO) deny --version >/dev/null 2>&1 || $(CARGO) install cargo-deny --version $(CARGO_DENY_VERSION) --locked
deny: deny-tools
	$(CARGO) deny --locked check --hide-inclusion-graph licenses bans sources

# Every relative link and #anchor of the Markdown files resolves.
links:
	python3 tools/check_links.py

## ---- fuzzing (fuzz/, FUZZING.md) -----------------------------------------------------------
# Coverage-guided targets (cargo-fuzz, libFuzzer + AddressSanitizer) for every parser that sees
# outside input; fuzz/ is its own workspace, outside the product's build. cargo-fuzz needs nightly
# flags (-Zsanitizer): the nightly toolchain when one is installed, else the stable one with
# RUSTC_BOOTSTRAP=1 (the same compiler, its unstable flags unlocked).
FUZZ_TARGETS := ingress_accept ingress_event verify_schemes filter_match s3_events worker_records config_toml
# `make fuzz`: executions per target (FUZZ_TIME=<secs> caps each target's time instead).
FUZZ_RUNS ?= 1000000
FUZZ_TIME ?=
# `make test`: a smoke run per target over its seeds, so the targets keep building and running.
FUZZ_SMOKE_RUNS ?= 3000
FUZZ_LIMIT = $(if $(FUZZ_TIME),-max_total_time=$(FUZZ_TIME),-runs=$(FUZZ_RUNS))
FUZZ_CARGO := $(shell rustup toolchain list 2>/dev/null | grep -q '^nightly' && echo '$(CARGO) +nightly' || echo 'RUSTC_BOOTSTRAP=1 $(CARGO)')
FUZZ_LOGS := fuzz/logs

fuzz-tools:
	@$(CARGO) fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked

# Seeds from events/, the e2e fixtures, tests/vectors and the example configs (gitignored).
fuzz-seeds:
	python3 fuzz/seeds.py

fuzz-smoke: fuzz-tools fuzz-seeds
	$(CARGO) fmt --manifest-path fuzz/Cargo.toml -- --check
	$(FUZZ_CARGO) fuzz build
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p target/fuzz-smoke/$$t; \
		echo "fuzz smoke: $$t"; \
		$(FUZZ_CARGO) fuzz run $$t target/fuzz-smoke/$$t fuzz/seeds/$$t -- -runs=$(FUZZ_SMOKE_RUNS) \
			>target/fuzz-smoke/$$t.log 2>&1 || { tail -n 40 target/fuzz-smoke/$$t.log; exit 1; }; \
		grep -E '^Done [0-9]+ runs' target/fuzz-smoke/$$t.log; \
	done

# Every target in turn for $(FUZZ_RUNS) executions (or FUZZ_TIME seconds), corpus kept in
# fuzz/corpus/; each run's log goes to fuzz/logs/ and the results table of FUZZING.md is rewritten
# from them. A crash stops that target (its input is in fuzz/artifacts/<target>/), not the others;
# the make fails at the end if any target crashed.
fuzz: fuzz-tools fuzz-seeds
	$(FUZZ_CARGO) fuzz build
	@mkdir -p $(FUZZ_LOGS); failed=; \
	for t in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/corpus/$$t; \
		echo "fuzz: $$t ($(FUZZ_LIMIT))"; \
		$(FUZZ_CARGO) fuzz run $$t fuzz/corpus/$$t fuzz/seeds/$$t -- $(FUZZ_LIMIT) -print_final_stats=1 \
			>$(FUZZ_LOGS)/$$t.log 2>&1 || failed="$$failed $$t"; \
		tail -n 1 $(FUZZ_LOGS)/$$t.log; \
	done; \
	python3 fuzz/report.py $(FUZZ_LOGS) FUZZING.md $(FUZZ_TARGETS); \
	test -z "$$failed" || { echo "fuzz: crashes in$$failed (see fuzz/artifacts/)"; exit 1; }

# Validate a config offline and print its routes: `make check-config CONFIG=path/to/hookrelay.toml`.
CONFIG ?= examples/hookrelay.toml
check-config:
	$(CARGO) run --quiet -p hookrelay --bin hookrelay -- check-config $(CONFIG)

# Move dead-lettered jobs back to the jobs queue, unchanged: `make redrive DLQ=<url> QUEUE=<url>`.
# (AWS's own: `aws sqs start-message-move-task --source-arn <dlq-arn>` moves them to their source queue.)
redrive:
	@test -n "$(DLQ)" -a -n "$(QUEUE)" || { echo "usage: make redrive DLQ=<dlq-url> QUEUE=<queue-url>"; exit 2; }
	$(CARGO) run --quiet -p hookrelay --bin hookrelay -- redrive $(DLQ) $(QUEUE)

# Just the unit tests (no servers), or just the end-to-end tests over the real binaries.
unit:
	$(CARGO) test --workspace --exclude hookrelay-e2e --locked

e2e: venv
	$(CARGO) build --workspace --bins --locked
	$(LOCAL_AWS_ENV) $(CARGO) test -p hookrelay-e2e --locked

# The fault-injection proof at scale (not part of `make test`, which runs it at 2,500 jobs): the same
# test, >= 10,000 jobs through a misbehaving target, an SQS outage and killed workers; every
# acknowledged job is accounted for. Sizes: `make soak SOAK_WEBHOOKS=20000 SOAK_S3_EVENTS=5000`;
# `SOAK_SEED=<n>` picks another misbehaviour schedule.
SOAK_WEBHOOKS ?= 10000
SOAK_S3_EVENTS ?= 2500
SOAK_SEED ?= 20261123
.PHONY: soak
soak: venv
	$(CARGO) build --workspace --bins --locked
	$(LOCAL_AWS_ENV) HOOKRELAY_SOAK_WEBHOOKS=$(SOAK_WEBHOOKS) HOOKRELAY_SOAK_S3_EVENTS=$(SOAK_S3_EVENTS) \
		HOOKRELAY_CHAOS_SEED=$(SOAK_SEED) HOOKRELAY_SOAK_DEADLINE_SECS=3600 \
		$(CARGO) test -p hookrelay-e2e --locked --test faults -- --nocapture

# Release-mode measurements on this machine, written to BENCHMARKS.md (not part of `make test`):
# cold starts vs a lambda_runtime floor and a Python relay, the first invocation over TLS vs a Python
# worker, the ingress's warm overhead, the ingress hot path (criterion), worker concurrency, peak RSS,
# binary and zip sizes. bench/NOTES.md (the tuning log) is appended to the report verbatim.
BENCH_PY := target/bench-py
BENCH_FUNCTIONS := target/bench-functions
$(BENCH_PY)/.installed: bench/requirements.txt
	python3 -m venv $(BENCH_PY)
	$(BENCH_PY)/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $@

bench: venv deploy-tools $(BENCH_PY)/.installed
	$(CARGO) bench -p hookrelay --bench hot_path --locked
	PATH="$(DEPLOY_PATH)" $(CARGO) lambda build --release --output-format zip $(CARGO_LAMBDA_ARCH) \
		--lambda-dir $(LAMBDA_DIR) $(addprefix --bin ,$(LAMBDA_BINS))
	@# The measured functions are built on their own, with the features a deploy build has (a
	@# workspace build would add the test harness's), and kept aside from later workspace builds.
	$(CARGO) build --release --locked $(addprefix -p ,$(LAMBDA_BINS))
	mkdir -p $(BENCH_FUNCTIONS)
	cd $${CARGO_TARGET_DIR:-target}/release && cp $(LAMBDA_BINS) $(abspath $(BENCH_FUNCTIONS))/
	@# The runner and the floor (echo-lambda) from the workspace build.
	$(CARGO) build --release --workspace --bins --locked
	$(LOCAL_AWS_ENV) BENCH_PYTHON=$(abspath $(BENCH_PY))/bin/python BENCH_LAMBDA_DIR=$(abspath $(LAMBDA_DIR)) \
		BENCH_FUNCTION_DIR=$(abspath $(BENCH_FUNCTIONS)) $${CARGO_TARGET_DIR:-target}/release/bench

clean:
	$(CARGO) clean
	rm -rf fuzz/target
	rm -rf $(VENV) .aws-sam
