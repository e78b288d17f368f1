# Footfall's everyday commands. The README's test command is `go test ./...`;
# `make test` is the same with the real ClickHouse and Chromium made mandatory.

GO ?= go
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test test-short lint bench bench-load build run

build:
	$(GO) build -o footfall ./cmd/footfall

run:
	$(GO) run ./cmd/footfall serve

test:
	FOOTFALL_REQUIRE_CLICKHOUSE=1 $(GO) test -count=1 ./...

test-short:
	$(GO) test -short ./...

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Beacon ingestion under load: footfall (ClickHouse, SQLite) against a
# minimal Go 204 server, pinned with taskset; see docs/ingestion.md.
# Pass options as LOADBENCH_FLAGS="-duration 30s -profile cpu.pprof".
bench-load:
	$(GO) run ./cmd/loadbench $(LOADBENCH_FLAGS)
