# AT Queue for Go. `make help` lists the targets.
SHELL    := /bin/bash
GO       ?= go
PKGS     ?= ./...
BENCHFLAGS ?=

.PHONY: help test faults lint bench demo fuzz

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

test: ## every test with the race detector (RabbitMQ at $AMQP_URL or 127.0.0.1:5672), then the fault injection
	$(GO) test -race -count=1 -timeout 12m $$($(GO) list $(PKGS) | grep -v /internal/e2e/faults)
	@$(MAKE) --no-print-directory faults

faults: ## fault injection against the real broker; prints the accounting line of each fault
	set -o pipefail; $(GO) test -race -count=1 -timeout 10m -v ./internal/e2e/faults/ 2>&1 \
	  | grep -E '^(fault=|--- |ok|FAIL|PASS|panic:|\s+\S+_test\.go:[0-9]+: )'


lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	@command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@latest
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck $(PKGS)

bench: ## every performance figure against its baseline, same run: JSON lines, then the targets (BENCHFLAGS="--parts rabbit")
	$(GO) run ./internal/bench/cmd/atqbench $(BENCHFLAGS)

demo: ## run the demo over the embedded transport
	$(GO) run ./cmd/demo

fuzz: ## run each fuzz target for a short, fixed time
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 20s ./wire/
	$(GO) test -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime 20s ./schema/
	$(GO) test -run '^$$' -fuzz '^FuzzParseDescription$$' -fuzztime 20s ./registry/
