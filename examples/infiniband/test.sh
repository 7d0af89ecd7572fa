#!/usr/bin/env bash
# The InfiniBand example's test command, which scripts/test calls (the example is a module of
# its own): checks formatting, vets for Linux and Windows, runs staticcheck and the
# race-enabled tests, and gives each fuzz target a short run, with one [pass] or [FAIL] line
# per target (and the fuzzer's output when it fails). It exits non-zero if anything failed.
#
#   examples/infiniband/test.sh               everything
#   FUZZTIME=30s examples/infiniband/test.sh  longer fuzzing (default 5s per target)
#   VMEXT_TEST_JSON=FILE examples/infiniband/test.sh
#                                             the tests' go test -json stream goes to FILE
#                                             (scripts/test sums it up with the other legs)
set -euo pipefail
cd "$(dirname "$0")"
fuzztime=${FUZZTIME:-5s}

echo "== gofmt"
unformatted=$(gofmt -l . | grep -v '/testdata/' || true)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet (linux, windows)"
GOOS=linux go vet ./...
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

echo "== fuzz ($fuzztime per target)"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
failed=0
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		if go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" >"$out" 2>&1; then
			echo "[pass] $pkg $target (fuzzed $fuzztime)"
		else
			cat "$out"; echo "[FAIL] $pkg $target"; failed=1
		fi
	done
done
exit "$failed"
