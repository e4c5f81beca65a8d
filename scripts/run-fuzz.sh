#!/usr/bin/env bash
# run-fuzz.sh SECONDS TARGET...: run each libFuzzer target for SECONDS with its
# seed corpus (tests/fuzz/corpus/<name>/) and its past crashes
# (tests/fuzz/regressions/<name>/, replayed first). New corpus units go to a
# scratch directory, never into the repository. Crashes are written to
# build-fuzz/artifacts/. Ends with "N passed, N failed" (one per target).
set -u
secs="$1"
shift
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
art="$ROOT/build-fuzz/artifacts"
mkdir -p "$art"
passed=0
failed=0
for bin in "$@"; do
	name="$(basename "$bin")"
	short="${name#fuzz_}"
	work="$(mktemp -d "${TMPDIR:-/tmp}/fjord-fuzz-$short.XXXXXX")"
	dirs=("$work")
	for d in "$ROOT/tests/fuzz/corpus/$short" "$ROOT/tests/fuzz/regressions/$short"; do
		[ -d "$d" ] && dirs+=("$d")
	done
	log="$work.log"
	echo "== fuzz $name for ${secs}s (corpus: ${dirs[*]:1})"
	if "$bin" -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 \
		-artifact_prefix="$art/$name-" "${dirs[@]}" >"$log" 2>&1; then
		grep -E "^stat::number_of_executed_units|^Done" "$log" | sed 's/^/   /'
		echo "PASS $name"
		passed=$((passed + 1))
	else
		tail -n 30 "$log"
		echo "FAIL $name (crash input in $art)"
		failed=$((failed + 1))
	fi
	rm -rf "$work" "$log"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
