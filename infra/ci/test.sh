#!/usr/bin/env bash
# Runs every Haven test. Installs what the tests need when it is missing
# (Debian chromium, npm packages); under CI=true a tool that cannot be had is
# a failure, never a silent skip.
set -euo pipefail
cd "$(dirname "$0")/../.."

need() { # need <command> <how to install>
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "test: $1 is missing; installing ($2)"
    eval "$2" || true
  fi
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "test: $1 is still missing" >&2
    if [ "${CI:-}" = "true" ]; then exit 1; fi
    return 1
  fi
}

apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { apt-get update -qq >/dev/null && apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

start=$(date +%s)
need go "echo 'install Go 1.26 from go.dev'"
# aws-lambda-rie runs the built functions under the real Lambda runtime API
# (infra/rie's test; skipped without it, except under CI=true).
RIE_VERSION=v0.0.0-20261030222936-bef5c4ba774d
export PATH="$PATH:$(go env GOPATH)/bin"
need aws-lambda-rie "go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$RIE_VERSION" || true
need cfn-lint "pip install cfn-lint" || true
# A second, independent OpenAPI validator (Python), besides kin-openapi in
# infra/apicontract: the document must hold in other dialects than Go's.
need openapi-spec-validator "pip install openapi-spec-validator" || true
need moto_server "pip install 'moto[server]'" || true
need chromium "apt_install chromium" || true
if [ -f package.json ]; then
  need npm "apt_install nodejs npm" || true
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    npm ci --no-audit --no-fund --silent
  fi
fi

echo "== gofmt, go vet"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))
if [ -n "$bad" ]; then echo "gofmt would change:"; echo "$bad"; exit 1; fi
go vet ./...

echo "== cfn-lint (the template, then SAM's transform of it: 0 errors, 0 warnings)"
if command -v cfn-lint >/dev/null 2>&1; then
  cfn-lint template.yaml
  transformed=$(mktemp --suffix=.json)
  python3 infra/ci/sam_transform.py template.yaml "$transformed"
  cfn-lint "$transformed" # exits non-zero on warnings too
  rm -f "$transformed"
  export HAVEN_TRANSFORM_LINTED=1 # infra/samtemplate's test need not repeat it
fi

echo "== openapi-spec-validator"
if command -v openapi-spec-validator >/dev/null 2>&1; then
  openapi-spec-validator openapi.yaml
else
  echo "openapi-spec-validator missing: openapi.yaml checked by kin-openapi only"; [ "${CI:-}" != "true" ] || exit 1
fi

echo "== go test (race detector; fuzz seed corpora run as tests)"
log=$(mktemp)
status=0
# Every test process records the (function, action, resource) its IAM
# checks decided (infra/iam); the least-privilege test reads them after.
iamdir=$(mktemp -d)
HAVEN_IAM_RECORD="$iamdir" go test -race -count=1 ./... >"$log" 2>&1 || status=$?
grep -Ev '^(=== |--- PASS|PASS$)' "$log" || true
if [ "$status" -ne 0 ]; then echo "go test failed"; exit "$status"; fi

echo "== least privilege (no denied call; every grant of template.yaml exercised or excused)"
HAVEN_IAM_REPORT="$iamdir" go test -count=1 -v -run '^TestLeastPrivilege$' ./infra/iam | grep -Ev '^(=== |PASS$)'
rm -rf "$iamdir"

echo "== date sweep (the date-sensitive packages at other dates; shared/clock)"
# Every package whose tests take the time from infra/testenv's clock, except
# those whose tests read no date: builds (infra/build...), benchmarks
# (infra/bench) and the runtime test (infra/rie: the deployable binaries it
# runs read the machine's clock, as in AWS). The go test run above was today.
sweep=$(go list -f '{{.ImportPath}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./... |
  awk '/infra\/testenv/ {print $1}' | grep -Ev '/infra/(build|bench|rie|testenv)($|/)')
for at in "2026-12-31T23:59 America/Toronto" "2027-01-01T05:30:00Z" "2030-06-15"; do
  echo "-- HAVEN_TEST_CLOCK=$at"
  HAVEN_TEST_CLOCK="$at" go test -count=1 $sweep >"$log" 2>&1 || { cat "$log"; echo "go test failed at $at"; exit 1; }
done

echo "== moto cross-check (store suite against a second DynamoDB implementation)"
if command -v moto_server >/dev/null 2>&1; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  moto_server -H 127.0.0.1 -p "$port" >/tmp/haven-moto.log 2>&1 &
  moto=$!
  trap 'kill $moto 2>/dev/null || true' EXIT
  for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$port" >/dev/null 2>&1 && break; sleep 0.2; done
  # Sequential tests only: moto's transactions overbook under concurrency.
  HAVEN_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$port" go test -count=1 -p 1 -run '^TestStore' ./shared/dynamostore
else
  echo "moto_server missing: cross-check not run"; [ "${CI:-}" != "true" ] || exit 1
fi

echo "== all tests passed in $(( $(date +%s) - start )) s"
