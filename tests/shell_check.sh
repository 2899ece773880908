# tests/shell_check.sh: what the shell suites share (sourced by test_mpi.sh and test_scripts.sh).
# check <name> <command...> counts a test as passed when the command succeeds; check_summary
# prints "N passed, N failed" like the C suites and returns non-zero if any failed.
pass=0; fail=0
check() {
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "ok   $name"; else fail=$((fail + 1)); echo "FAIL $name"; fi
}
check_summary() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
