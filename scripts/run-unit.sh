#!/usr/bin/env bash
# run-unit.sh BINARY...: run each unit test binary, show its output, and end
# with one line "N passed, N failed" summed over all of them.
# A binary that dies without its own summary line counts as one failure.
# Exit status: non-zero if anything failed.
set -u

passed=0
failed=0
for bin in "$@"; do
	echo "== $bin"
	out="$(timeout 900 "$bin" 2>&1)"
	rc=$?
	printf '%s\n' "$out"
	summary="$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)"
	if [ -n "$summary" ]; then
		p="$(echo "$summary" | sed -E 's/^([0-9]+) passed, ([0-9]+) failed.*/\1/')"
		f="$(echo "$summary" | sed -E 's/^([0-9]+) passed, ([0-9]+) failed.*/\2/')"
		passed=$((passed + p))
		failed=$((failed + f))
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			echo "$bin: exit status $rc despite no failed test"
			failed=$((failed + 1))
		fi
	else
		echo "$bin: no summary line (exit status $rc)"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
