#!/usr/bin/env bash
# The custom script example's test command, which scripts/test calls (the example is a module
# of its own). It installs what the tests need when it can: Azurite from the lockfile in
# testdata/azurite (npm ci) and curl (apt-get, as root); then checks formatting, vets for
# Linux and Windows, runs staticcheck and the race-enabled tests (Azurite tests included:
# with CUSTOMSCRIPT_REQUIRE_AZURITE set they fail instead of skipping when Azurite cannot
# start), and gives each fuzz target a short run.
#
#   examples/customscript/test.sh              everything
#   FUZZTIME=30s examples/customscript/test.sh longer fuzzing (default 5s per target)
set -euo pipefail
cd "$(dirname "$0")"

need() { command -v "$1" >/dev/null 2>&1; }

if ! need curl; then
	if [ "$(id -u)" = 0 ] && need apt-get; then
		echo "== installing curl"
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
	else
		echo "warning: curl missing and cannot be installed here (the benchmark needs it)" >&2
	fi
fi

if need node && need npm; then
	if [ ! -x testdata/azurite/node_modules/.bin/azurite-blob ]; then
		echo "== npm ci (azurite)"
		(cd testdata/azurite && npm ci --no-audit --no-fund --loglevel=error)
	fi
	export CUSTOMSCRIPT_REQUIRE_AZURITE=1
else
	echo "warning: node/npm missing: the Azurite tests will be skipped" >&2
fi

echo "== gofmt"
unformatted=$(gofmt -l . | grep -v '/testdata/' || true)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...
GOOS=windows go vet ./...

echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "== go test -race"
if [ -n "${VMEXT_TEST_JSON:-}" ]; then
	# scripts/test sums the results up with the other modules'.
	# With VMEXT_TEST_PROGRESS (scripts/test's testsummary binary), one line per package as it ends.
	if [ -n "${VMEXT_TEST_PROGRESS:-}" ]; then
		go test -race -count=1 -json ./... 2>&1 | tee "$VMEXT_TEST_JSON" | "$VMEXT_TEST_PROGRESS" -progress || status=$?
	else
		go test -race -count=1 -json ./... >"$VMEXT_TEST_JSON" || status=$?
	fi
	[ "${status:-0}" = 0 ] || { echo "go test failed (details in the summary)"; exit "$status"; }
else
	go test -race -count=1 ./...
fi

echo "== fuzz (${FUZZTIME:-5s} per target)"
# Each target's output is kept and printed when it fails. A failure that wrote no failing
# input (a fuzz worker that hung or died on a loaded machine) is tried once more, and says
# so; a failing input (written under testdata/fuzz) fails the run at once.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fuzzfailed=0
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		fuzz() { go test -run='^$' -fuzz="^${target}\$" -fuzztime="${FUZZTIME:-5s}" "$pkg" >"$out" 2>&1; }
		if fuzz; then
			echo "[pass] $pkg $target (fuzzed ${FUZZTIME:-5s})"
		elif ! grep -q 'Failing input written to' "$out"; then
			cat "$out"
			echo "[retry] $pkg $target: the fuzzer failed without a failing input; trying once more"
			if fuzz; then
				echo "[pass] $pkg $target (fuzzed ${FUZZTIME:-5s}, on the second try)"
			else
				cat "$out"; echo "[FAIL] $pkg $target"; fuzzfailed=1
			fi
		else
			cat "$out"; echo "[FAIL] $pkg $target"; fuzzfailed=1
		fi
	done
done
exit "$fuzzfailed"
