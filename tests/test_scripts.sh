#!/usr/bin/env bash
# The analysis scripts on crafted lpg eval results with worked values: scripts/transfer-plot
# --meta-seeds (Figure 9 over meta-seeds) and scripts/ab-table --each (choosing among rules) with its IQM.
# The crafted files give each method the same final return and score. Prints "N passed, N failed" like the other suites.
set -u
cd "$(dirname "$0")/.."
. tests/shell_check.sh
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# refuses <message> <command...>: the command fails and its output holds the message
refuses() {
  local msg=$1 err; shift
  err=$("$@" 2>&1) && return 1
  grep -qF -- "$msg" <<< "$err"
}
# results <file> <game> <method>=<return>/<se> ...: a minimal lpg eval results.json
results() {
  python3 - "$@" <<'PY'
import json, sys
path, game, cells = sys.argv[1], sys.argv[2], sys.argv[3:]
methods, res = [], {}
for c in cells:
    name, v = c.split("=")
    ret, se = map(float, v.split("/"))
    methods.append({"name": name})
    res[name] = {"final_return": ret, "final_return_se": se, "mean": ret, "se": se, "failed": False}
json.dump({"methods": methods, "environments": [{"name": game, "results": res}]}, open(path, "w"))
PY
}
# meta_seeds <results.json> ...: the meta-seed table of those files against random.json
meta_seeds() { python3 scripts/transfer-plot --meta-seeds $work/random.json - "$@"; }
# Random play returns 1 and A2C 11 on game g. Set x: 6 and 4 on meta-seeds 1 and 2, normalised
# 0.5 and 0.3 (agent-seed se 0.5/10 = 0.05 each), mean 0.40, se over meta-seeds 0.10 (half the
# range), agent-seed se of the mean sqrt(2 * 0.05^2) / 2 = 0.035. Set y: 9 and 10, 0.8 and 0.9,
# mean 0.85 ± 0.05. y - x = 0.45 > 0.10 + 0.05 and > 2 x 0.035: beyond both errors.
results $work/random.json g random=1/0 a2c=11/0
results $work/s1.json g x_s1=6/0.5 y_s1=9/0 a2c=11/0
results $work/s2.json g x_s2=4/0.5 y_s2=10/0 a2c=11/0
out=$(meta_seeds $work/s1.json $work/s2.json)
check "transfer-plot --meta-seeds: x is 0.40 ± 0.10 (0.04), y 0.85 ± 0.05 (0.00)" \
  grep -qxF '| g | 0.40 ± 0.10 (0.04) | 0.85 ± 0.05 (0.00) |' <<< "$out"
check "transfer-plot --meta-seeds: the mean row of one game is that game's row" \
  grep -qxF '| mean | 0.40 ± 0.10 (0.04) | 0.85 ± 0.05 (0.00) |' <<< "$out"
check "transfer-plot --meta-seeds: y is above x beyond the meta-seed errors" \
  grep -qxF 'g: y above x beyond the meta-seed errors (0.85 against 0.40, errors 0.05 and 0.10) and two agent-seed errors' <<< "$out"
# y's seeds 0.8 and 0.45 (return 5.5): mean 0.625 ± 0.175; 0.225 < 0.275: no line.
results $work/s2b.json g x_s2=4/0.5 y_s2=5.5/0 a2c=11/0
out=$(meta_seeds $work/s1.json $work/s2b.json)
check "transfer-plot --meta-seeds: a difference within the errors is not named" \
  test -z "$(grep beyond <<< "$out")"
# Meta-seeds that agree: x 6 and 6 (0.5 and 0.5, se 2/10 = 0.2 each; meta-seed error 0, agent-seed
# 0.141), y 7 and 7 (0.6, errors 0). 0.1 > 0 + 0 but 0.1 < 2 x 0.141: not named.
results $work/s1c.json g x_s1=6/2 y_s1=7/0 a2c=11/0
results $work/s2c.json g x_s2=6/2 y_s2=7/0 a2c=11/0
out=$(meta_seeds $work/s1c.json $work/s2c.json)
check "transfer-plot --meta-seeds: agreeing meta-seeds with noisy agents: x 0.50 ± 0.00 (0.14)" \
  grep -qxF '| g | 0.50 ± 0.00 (0.14) | 0.60 ± 0.00 (0.00) |' <<< "$out"
check "transfer-plot --meta-seeds: a difference within the agent-seed errors is not named" \
  test -z "$(grep beyond <<< "$out")"
check "transfer-plot --meta-seeds: one meta-seed is refused, naming the set and game" \
  refuses "'x' on 'g': 1 meta-seed(s)" meta_seeds $work/s1.json
check "transfer-plot --meta-seeds: a run in two files is refused" \
  refuses "'x_s1' on 'g' is in two files" meta_seeds $work/s1.json $work/s1.json
# ab-table --each on s1.json: x 6 ± 0.5, y 9 ± 0, A2C 11 ± 0. Normalised 6/11 = 0.545 and
# 9/11 = 0.818; both behind A2C (differences 5 and 2 beyond 2 se, 1 and 0); y ahead of x (3 > 2 x 0.5).
out=$(python3 scripts/ab-table --each --base x_s1 $work/s1.json)
check "ab-table --each: x is 0.545 of A2C and behind it" \
  grep -qxF 'x_s1: A2C-normalised score 0.545 over 1 environments (IQM 0.545); against A2C: ahead on 0, behind on 1, tie on 0' <<< "$out"
check "ab-table --each: y is 0.818 of A2C, behind it and ahead of x" \
  grep -qxF 'y_s1: A2C-normalised score 0.818 over 1 environments (IQM 0.818); against A2C: ahead on 0, behind on 1, tie on 0; against the base: ahead on 1, behind on 0, tie on 0' <<< "$out"
# The IQM over four environments, A2C 10 on each: z returns 5, 10, 20 and 100, ratios 0.5, 1, 2
# and 10. The mean is 13.5 / 4 = 3.375; the IQM drops floor(4/4) = 1 from each end: (1 + 2) / 2 = 1.5.
for g in a:5 b:10 c:20 d:100; do results $work/iqm_${g%%:*}.json ${g%%:*} z_s1=${g#*:}/0 a2c=10/0; done
out=$(python3 scripts/ab-table --each $work/iqm_a.json $work/iqm_b.json $work/iqm_c.json $work/iqm_d.json)
check "ab-table: mean 3.375 and IQM 1.500 of the ratios 0.5, 1, 2, 10" \
  grep -qF 'z_s1: A2C-normalised score 3.375 over 4 environments (IQM 1.500)' <<< "$out"
check_summary
