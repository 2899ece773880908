#!/usr/bin/env bash
# build/lpg-mpi against build/lpg on tests/configs/meta_tiny.json (3 lifetimes, 2 threads):
# meta-training on 1, 2 and 3 MPI ranks writes the same bytes as the threaded program (checkpoint
# with every lifetime's state, rule, log without its timings); a run resumed on another number of
# ranks ends where an unbroken run ends; a rank that fails ends the job naming itself and leaves
# the last checkpoint intact. Prints "N passed, N failed" like the other suites.
set -u
cd "$(dirname "$0")/.."
pass=0; fail=0
check() { # check <name> <command...>: a test passes when the command succeeds
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "ok   $name"; else fail=$((fail + 1)); echo "FAIL $name"; fi
}
ROOT=""; [ "$(id -u)" -eq 0 ] && ROOT=--allow-run-as-root
mpi() { local n=$1; shift; mpirun $ROOT --oversubscribe -np "$n" build/lpg-mpi "$@"; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
config=tests/configs/meta_tiny.json
run=$work/run # every run uses this run_dir (it is recorded in the files), then is moved aside
same_run() { # same_run <dir a> <dir b>: checkpoint and rule byte for byte, log without "seconds"
  cmp -s "$1/checkpoint.lpg" "$2/checkpoint.lpg" && cmp -s "$1/rule.lpg" "$2/rule.lpg" &&
    diff -q <(sed 's/"seconds":[^,]*,//' "$1/log.jsonl") <(sed 's/"seconds":[^,]*,//' "$2/log.jsonl") >/dev/null
}

build/lpg meta-train $config run_dir=$run meta_steps=6 2>/dev/null && mv $run $work/threads
for n in 1 2 3; do
  mpi $n meta-train $config run_dir=$run meta_steps=6 2>/dev/null && mv $run $work/np$n
  check "meta-train on $n rank(s) writes the threaded program's bytes" same_run $work/threads $work/np$n
done

# Resume across a change of N: 3 meta-steps on 2 ranks, the other 3 on 3 ranks, then on 1.
mpi 2 meta-train $config run_dir=$run meta_steps=3 2>/dev/null
cp -r $run $work/at3
mpi 3 meta-train $config run_dir=$run meta_steps=6 --resume 2>/dev/null
check "3 steps on 2 ranks + 3 resumed on 3 ranks = 6 threaded" same_run $work/threads $run
rm -rf $run && cp -r $work/at3 $run
build/lpg meta-train $config run_dir=$run meta_steps=6 --resume 2>/dev/null
check "a checkpoint of 2 ranks resumes in the threaded program" same_run $work/threads $run

# A bad file on one rank (rank 1 is given a config that does not exist): the job ends with a
# message naming rank 1, non-zero, and the checkpoint is left as it was.
rm -rf $run && cp -r $work/at3 $run
mpirun $ROOT --oversubscribe -np 1 build/lpg-mpi meta-train $config run_dir=$run meta_steps=6 --resume : \
  -np 1 build/lpg-mpi meta-train $work/missing.json run_dir=$run meta_steps=6 --resume \
  >$work/out 2>&1
rc=$?
check "a failing rank ends the job non-zero" test $rc -ne 0
check "the message names the failing rank" grep -q "rank 1 of 2 failed" $work/out
check "the message names the bad file" grep -q "missing.json" $work/out
check "the last checkpoint stays intact" cmp -s $work/at3/checkpoint.lpg $run/checkpoint.lpg

# A killed rank (signal 9 in the middle of a long run that checkpoints every step): mpirun ends
# the job naming rank 1, and the checkpoint left behind is whole and resumes.
rm -rf $run
mpirun $ROOT --oversubscribe -np 2 build/lpg-mpi meta-train $config run_dir=$run \
  meta_steps=20000 checkpoint_every=1 >$work/out 2>&1 &
job=$! # mpirun; its children are the ranks
for _ in $(seq 100); do [ -e $run/checkpoint.lpg ] && break; sleep 0.1; done
victim=""
for p in $(pgrep -P $job); do
  tr '\0' '\n' </proc/$p/environ 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && victim=$p
done
if [ -n "$victim" ]; then sleep 0.3; kill -9 $victim; else kill $job; fi
wait $job
rc=$?
check "a killed rank ends the job non-zero" test -n "$victim" -a $rc -ne 0
check "mpirun names the killed rank" grep -q "rank 1 .*signal 9" $work/out
check "the checkpoint left by the killed job opens" build/lpg info $run/checkpoint.lpg >/dev/null
at=$(build/lpg info $run/checkpoint.lpg 2>/dev/null | sed -n 's/^meta-step: //p')
mpi 2 meta-train $config run_dir=$run meta_steps=$((at + 2)) --resume >/dev/null 2>&1
check "and resumes" test "$(build/lpg info $run/checkpoint.lpg 2>/dev/null | sed -n 's/^meta-step: //p')" = $((at + 2))

# Other commands refuse to run on several ranks rather than repeat their work.
mpi 2 env configs/envs/chain_short.json >$work/out 2>&1
check "commands other than meta-train refuse several ranks" grep -q "runs as one process" $work/out

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
