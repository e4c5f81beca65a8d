#!/usr/bin/env bash
# run-tests.sh: every test: the unit test binaries in $BUILD/tests/, then the
# integration suite (pytest, with Debian's /usr/bin/python3, which has the
# Kafka client packages). Ends with exactly one line
#     N passed, N failed[, N skipped]
# totalled over both, and exits non-zero if anything failed or nothing ran.
#
#   BUILD=build-san scripts/run-tests.sh       test the sanitizer build
#   FJORD_TEST_FILTER='kill9 or retention'     only matching integration tests (pytest -k)
#   FJORD_BIN=/path/to/fjord                   another broker binary
#   FJORD_TEST_PYTHON=/usr/bin/python3         interpreter for pytest
#   FUZZ_SECONDS=15                            also run each fuzz target that long
set -u

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${BUILD:-build}"
export BUILD
case "$BUILD" in
/*) BUILD_DIR="$BUILD" ;;
*) BUILD_DIR="$ROOT/$BUILD" ;;
esac
export FJORD_BIN="${FJORD_BIN:-$BUILD_DIR/fjord}"
PY="${FJORD_TEST_PYTHON:-/usr/bin/python3}"

passed=0
failed=0
skipped=0

# Unit tests.
units=()
if [ -d "$BUILD_DIR/tests" ]; then
	while IFS= read -r f; do
		units+=("$f")
	done < <(find "$BUILD_DIR/tests" -maxdepth 1 -type f -name 'test_*' -perm -u+x | sort)
fi
if [ "${#units[@]}" -gt 0 ]; then
	unit_out="$(mktemp)"
	scripts/run-unit.sh "${units[@]}" | tee "$unit_out"
	line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$unit_out" | tail -n 1)"
	rm -f "$unit_out"
	if [ -n "$line" ]; then
		passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
		failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
	else
		echo "run-tests: unit test runner gave no summary"
		failed=$((failed + 1))
	fi
else
	echo "run-tests: no unit test binaries in $BUILD_DIR/tests"
fi

# Integration tests.
echo "== integration tests (broker: $FJORD_BIN)"
args=(-m pytest -q -rfE -p no:cacheprovider tests/integration)
if [ -n "${FJORD_TEST_FILTER:-}" ]; then
	args+=(-k "$FJORD_TEST_FILTER")
fi
py_out="$(mktemp)"
"$PY" "${args[@]}" 2>&1 | tee "$py_out"
py_rc=${PIPESTATUS[0]}
# pytest's closing line, e.g. "2 failed, 140 passed, 3 skipped, 1 error in 95.2s".
summary="$(grep -E '^(=+ )?[0-9]+ [a-z]+.* in [0-9.]+s' "$py_out" | tail -n 1)"
rm -f "$py_out"
count() { echo "$summary" | grep -oE "[0-9]+ $1" | head -n 1 | cut -d' ' -f1; }
p="$(count passed)"
f="$(count failed)"
e="$(count 'errors?')"
s="$(count skipped)"
passed=$((passed + ${p:-0}))
failed=$((failed + ${f:-0} + ${e:-0}))
skipped=$((skipped + ${s:-0}))
case "$py_rc" in
0 | 5) ;; # 5: no tests collected (e.g. a filter matched nothing)
1) if [ -z "${f}${e}" ]; then failed=$((failed + 1)); fi ;;
*) echo "run-tests: pytest exited with status $py_rc"; failed=$((failed + 1)) ;;
esac

# Fuzzing: a short run of each libFuzzer target (FUZZ_SECONDS each), when built.
if [ -n "${FUZZ_SECONDS:-}" ] && [ "${FUZZ_SECONDS}" != 0 ]; then
	fuzz_bins=()
	while IFS= read -r f; do
		fuzz_bins+=("$f")
	done < <(find build-fuzz -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x 2>/dev/null | sort)
	if [ "${#fuzz_bins[@]}" -gt 0 ]; then
		fz_out="$(mktemp)"
		scripts/run-fuzz.sh "$FUZZ_SECONDS" "${fuzz_bins[@]}" | tee "$fz_out"
		line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$fz_out" | tail -n 1)"
		rm -f "$fz_out"
		if [ -n "$line" ]; then
			passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
			failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
		else
			failed=$((failed + 1))
		fi
	else
		echo "run-tests: FUZZ_SECONDS set but no fuzz targets in build-fuzz/"
		failed=$((failed + 1))
	fi
fi

result="$passed passed, $failed failed"
if [ "$skipped" -gt 0 ]; then
	result="$result, $skipped skipped"
fi
echo "$result"
if [ "$failed" -gt 0 ] || [ "$passed" -eq 0 ]; then
	exit 1
fi
exit 0
