# Haven: the two commands a newcomer needs are `make run` and `make test`.
.PHONY: run test lint fuzz

run:
	go run ./infra/local

test:
	bash infra/ci/test.sh

lint:
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt:"; echo "$$bad"; exit 1; fi
	go vet ./...
	cfn-lint template.yaml

# Each fuzz target runs for FUZZTIME (default 30s).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$(go list ./...); do \
	  for target in $$(go test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$target"; \
	    go test -run='^$$' -fuzz="^$$target$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done
