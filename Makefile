# AT Queue for Go. `make help` lists the targets.
GO       ?= go
PKGS     ?= ./...
BENCHTIME ?= 2s

.PHONY: help test lint bench demo fuzz

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

test: ## run every test with the race detector (needs RabbitMQ at $$AMQP_URL or 127.0.0.1:5672)
	$(GO) test -race -count=1 -timeout 12m $(PKGS)

lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	@command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@latest
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck $(PKGS)

bench: ## in-process Call vs a bare protoactor future; Go over RabbitMQ vs a bare amqp091-go relay
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./actors/
	$(GO) run ./internal/relay/cmd/atqbench

demo: ## run the demo over the embedded transport
	$(GO) run ./cmd/demo

fuzz: ## run each fuzz target for a short, fixed time
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 20s ./wire/
	$(GO) test -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime 20s ./schema/
	$(GO) test -run '^$$' -fuzz '^FuzzParseDescription$$' -fuzztime 20s ./registry/
