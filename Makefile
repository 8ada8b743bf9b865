# Sluice — build, run and test. `make help` lists the targets.
GO        ?= go
BIN       := bin
PKGS      := ./...
# Tests that need real servers or tools (kcat, Postgres, ...) are behind the
# `integration` tag; `make test` runs them and fails when one is missing.
TEST_TAGS := integration,invariants
TEST_FLAGS ?= -race -shuffle=on -timeout 25m
DATA_DIR  ?= ./sluice-data

.PHONY: build run test test-unit bench lint fmt generate check-generated clean help

build: ## Build the sluice binary into bin/
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/sluice ./cmd/sluice

run: build ## Run a worker: REST API on :8083, embedded broker on 127.0.0.1:9092, data in ./sluice-data
	$(BIN)/sluice worker --set data.dir=$(DATA_DIR)

test: build ## All tests, with the race detector, integration tests included (starts PostgreSQL)
	SLUICE_BIN=$(abspath $(BIN)/sluice) internal/testenv/with-servers.sh $(GO) test $(TEST_FLAGS) -tags $(TEST_TAGS) $(PKGS)

test-unit: ## Unit tests only (no external tools or servers)
	$(GO) test -race -shuffle=on $(PKGS)

bench: build ## Benchmarks, each against its baseline in the same run (see README)
	SLUICE_BIN=$(abspath $(BIN)/sluice) internal/testenv/with-servers.sh sh -c '\
	  $(GO) test -run "^$$" -bench . -benchmem -count 1 ./transforms/ ./runtime/convert/ ./connectors/datagen/ ./broker/partlog/ && \
	  $(GO) test -run "^$$" -bench . -benchtime 200000x -count 1 ./runtime/task/ && \
	  $(GO) test -run "^$$" -bench . -benchtime 1x -count 1 -timeout 30m -tags integration ./broker/ ./runtime/ ./cmd/sluice/ ./connectors/postgres/ ./connectors/jdbc/'

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags $(TEST_TAGS) $(PKGS)

fmt: ## Format the code
	gofmt -w $$(git ls-files '*.go')

generate: ## Regenerate generated files
	$(GO) generate $(PKGS)

check-generated: generate ## Fail when generated files are stale
	git diff --exit-code

clean: ## Remove build output and the default data dir
	rm -rf $(BIN) $(DATA_DIR)

help: ## This list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'
