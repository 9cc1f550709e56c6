#!/bin/sh
# fuzz-smoke: every fuzz target in the module, briefly (FUZZ_SMOKE_TIME, default 3s), on its
# seeds and testdata/fuzz corpus, so a parser regression found once stays found.
# Packages are picked by grep (cheap), targets listed by `go test -list` (exact).
#
# Go 1.26's fuzz coordinator can fail a target at the -fuzztime deadline with a bare
# "context deadline exceeded" and no failing input (reported as go.dev/issue/75804),
# mostly on a loaded machine. Such a run is not a finding: the target's corpus is then
# replayed deterministically, and only a failure there (or any other failure) fails.
set -u
GO=${GO:-go}
T=${FUZZ_SMOKE_TIME:-3s}
status=0
for d in $(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do
	fs=$($GO test -list 'Fuzz.*' "$d") || { printf '%s\n' "$fs"; exit 1; }
	for f in $(printf '%s\n' "$fs" | grep '^Fuzz'); do
		echo "== $d $f"
		out=$($GO test -run '^$' -fuzz "^$f\$" -fuzztime "$T" -fuzzminimizetime 1s -parallel 1 "$d" 2>&1)
		rc=$?
		printf '%s\n' "$out" | tail -n 3
		[ $rc -eq 0 ] && continue
		if printf '%s\n' "$out" | grep -q '^    context deadline exceeded$' &&
			! printf '%s\n' "$out" | grep -q 'Failing input written'; then
			echo "   (deadline race of Go's fuzz coordinator, go.dev/issue/75804: replaying the corpus)"
			$GO test -count=1 -run "^$f\$" "$d" && continue
		fi
		printf '%s\n' "$out"
		status=1
	done
done
exit $status
