# Haven: the two commands a newcomer needs are `make run` and `make test`.
.PHONY: run test lint fuzz build

run:
	go run ./infra/local

test:
	bash infra/ci/test.sh

lint:
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt:"; echo "$$bad"; exit 1; fi
	go vet ./...
	cfn-lint template.yaml

# Each fuzz target runs for FUZZTIME (default 30s). Minimising a new input is
# bounded too: Go otherwise may spend the whole budget on one and then report
# "context deadline exceeded" as a failure.
FUZZTIME ?= 30s
fuzz:
	@set -e; for pkg in $$(go list ./...); do \
	  list=$$(go test -list '^Fuzz' $$pkg); \
	  targets=$$(echo "$$list" | grep '^Fuzz' || true); \
	  for target in $$targets; do \
	    echo "== $$pkg $$target"; \
	    go test -run='^$$' -fuzz="^$$target$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=5x $$pkg; \
	  done; \
	done

# Deployable artifacts: dist/<LogicalId>.zip for every function of template.yaml,
# bootstrap at the zip root, linux/arm64, CGO_ENABLED=0, -tags lambda.norpc,
# -trimpath, -ldflags='-s -w', -gcflags='github.com/...=-l' (infra/build reads the
# function list from the template; build.Flags says why).
# ROOT makes the targets work from any directory: `sam build` runs
# `make -f <this Makefile> build-<LogicalId>` in a scratch copy of the CodeUri.
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
build:
	cd "$(ROOT)" && go run ./infra/build/cmd/build -out dist

# sam build (Metadata: BuildMethod: makefile) calls build-<LogicalId> with
# ARTIFACTS_DIR set; one pattern rule serves every function.
build-%:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)"; exit 1; }
	cd "$(ROOT)" && go run ./infra/build/cmd/build -function $* -artifacts "$(abspath $(ARTIFACTS_DIR))"
