#!/usr/bin/env bash
# build/lpg-mpi against build/lpg on tests/configs/meta_tiny.json (3 lifetimes, 2 threads):
# meta-training on 1, 2 and 3 MPI ranks writes the same bytes as the threaded program (checkpoint
# with every lifetime's state, rule, log without its timings); a run resumed on another number of
# ranks ends where an unbroken run ends; so do levels chosen by regret (meta_levels.json) and ES
# meta-training; a rank that fails ends the job naming itself and leaves the last checkpoint
# intact. Then the same for lpg eval on tests/configs/eval_mpi.json: curves and tables byte for
# byte on 1, 2 and 3 ranks, and a failing rank leaves no results. Prints "N passed, N failed"
# like the other suites.
set -u
cd "$(dirname "$0")/.."
. tests/shell_check.sh
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

# MLP agents with Adam inner steps (their moments are lifetime state, saved by each lifetime's
# owner): 3 steps on 2 ranks + 3 resumed on 3 ranks write the threaded program's bytes.
adam="inner_optimizer=adam mlp_lrs=0.01"
rm -rf $run
build/lpg meta-train $config run_dir=$run meta_steps=6 $adam 2>/dev/null && mv $run $work/adam_threads
mpi 2 meta-train $config run_dir=$run meta_steps=3 $adam 2>/dev/null
mpi 3 meta-train $config run_dir=$run meta_steps=6 $adam --resume 2>/dev/null
check "Adam inner steps: 3 steps on 2 ranks + 3 resumed on 3 ranks = 6 threaded" \
  same_run $work/adam_threads $run

# Levels chosen by regret (tests/configs/meta_levels.json): the A2C return of a level is computed
# by the rank that runs its lifetime's last window and reaches the others with the window results,
# so 1, 2 and 3 ranks write the threaded program's bytes (the log without its CPU timings), and a
# run resumed on another number of ranks ends where an unbroken run ends.
levels=tests/configs/meta_levels.json
same_levels_run() { # same_run, also without the log's "cpu_seconds" and "a2c_seconds"
  cmp -s "$1/checkpoint.lpg" "$2/checkpoint.lpg" && cmp -s "$1/rule.lpg" "$2/rule.lpg" &&
    diff -q <(sed -E 's/"(cpu_|a2c_)?seconds":[^,]*,//g' "$1/log.jsonl") \
            <(sed -E 's/"(cpu_|a2c_)?seconds":[^,]*,//g' "$2/log.jsonl") >/dev/null
}
rm -rf $run
build/lpg meta-train $levels run_dir=$run meta_steps=10 2>/dev/null && mv $run $work/levels_threads
for n in 2 3; do
  mpi $n meta-train $levels run_dir=$run meta_steps=10 2>/dev/null && mv $run $work/levels_np$n
  check "levels by regret on $n ranks write the threaded program's bytes" \
    same_levels_run $work/levels_threads $work/levels_np$n
done
mpi 3 meta-train $levels run_dir=$run meta_steps=5 2>/dev/null
mpi 2 meta-train $levels run_dir=$run meta_steps=10 --resume 2>/dev/null
check "levels by regret: 5 steps on 3 ranks + 5 resumed on 2 ranks = 10 threaded" \
  same_levels_run $work/levels_threads $run
# ES (meta_optimizer "es"): a generation's 10 lifetimes split over ranks give the threaded
# program's bytes on 1, 2 and 3 ranks, and a run resumed across a change of N ends where an
# unbroken one ends.
es="meta_optimizer=es es_population=5 es_lifetimes_per_member=1"
rm -rf $run
build/lpg meta-train $config run_dir=$run meta_steps=4 $es 2>/dev/null && mv $run $work/es_threads
for n in 1 2 3; do
  mpi $n meta-train $config run_dir=$run meta_steps=4 $es 2>/dev/null && mv $run $work/es_np$n
  check "ES on $n rank(s) writes the threaded program's bytes" same_run $work/es_threads $work/es_np$n
done
mpi 2 meta-train $config run_dir=$run meta_steps=2 $es 2>/dev/null
mpi 3 meta-train $config run_dir=$run meta_steps=4 $es --resume 2>/dev/null
check "ES: 2 generations on 2 ranks + 2 resumed on 3 ranks = 4 threaded" same_run $work/es_threads $run
rm -rf $run

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

# lpg eval on 1, 2 and 3 ranks (3 environments, 2 rule files and A2C, 3 seeds: the jobs split
# inside methods) writes the threaded program's curves and tables; results.json without the
# per-method wall-clock "seconds".
econfig=tests/configs/eval_mpi.json
same_eval() { # same_eval <dir a> <dir b>: the same files, each byte for byte
  [ -n "$(ls "$1")" ] && diff -q <(ls "$1") <(ls "$2") >/dev/null || return 1
  for f in "$1"/*; do
    if [ "${f##*/}" = results.json ]; then
      diff -q <(grep -v '"seconds":' "$f") <(grep -v '"seconds":' "$2/results.json") >/dev/null || return 1
    else
      cmp -s "$f" "$2/${f##*/}" || return 1
    fi
  done
}
build/lpg eval $econfig output_dir=$work/eval_threads >/dev/null 2>&1
for n in 1 2 3; do
  mpi $n eval $econfig output_dir=$work/eval_np$n >/dev/null 2>$work/err
  check "eval on $n rank(s) writes the threaded program's bytes" same_eval $work/eval_threads $work/eval_np$n
done
check "eval on 3 ranks splits a method's seeds across ranks" grep -q "(seeds\? [0-9-]* on rank 1)" $work/err

# A run that fails (A2C diverges on the chain) is no rank's failure: on 2 ranks as threaded, the
# other runs are written, its row says "failed", and both exit 1.
diverge=a2c_chain=tests/configs/eval_a2c_diverging.json
build/lpg eval $econfig $diverge output_dir=$work/div_threads >/dev/null 2>&1
rc_threads=$?
mpi 2 eval $econfig $diverge output_dir=$work/div_np2 >/dev/null 2>&1
rc_np2=$?
check "eval: a diverging run on 2 ranks gives the threaded program's bytes" \
  same_eval $work/div_threads $work/div_np2
check "eval: and both exit 1" test $rc_threads -eq 1 -a $rc_np2 -eq 1

# A bad file on one rank ends the eval naming the rank, non-zero, and no results are written;
# so does a rank that read other inputs than rank 0 (another rule file under the same name).
mpirun $ROOT --oversubscribe -np 1 build/lpg-mpi eval $econfig output_dir=$work/eval_bad : \
  -np 1 build/lpg-mpi eval $econfig output_dir=$work/eval_bad rules=grid:$work/missing.lpg \
  >$work/out 2>&1
rc=$?
check "eval: a rank with a missing rule file ends the job non-zero" test $rc -ne 0
names_rank_and_file() { grep -q "rank 1 of 2 failed" $work/out && grep -q missing.lpg $work/out; }
check "eval: the message names the rank and the file" names_rank_and_file
check "eval: no results or curves are written" test -z "$(ls $work/eval_bad 2>/dev/null)"
mpirun $ROOT --oversubscribe -np 2 build/lpg-mpi eval $econfig output_dir=$work/eval_other : \
  -np 1 build/lpg-mpi eval $econfig output_dir=$work/eval_other \
  rules=grid:checkpoints/grid_beta005.lpg,all:checkpoints/all.lpg >$work/out 2>&1
rc=$?
check "eval: a rank with other inputs ends the job non-zero, named" \
  test $rc -ne 0 -a -z "$(ls $work/eval_other 2>/dev/null)"
check "eval: the message names that rank" grep -q "rank 2 read other inputs" $work/out

# A killed rank in the middle of a long eval: non-zero, mpirun names rank 1, nothing written.
mpirun $ROOT --oversubscribe -np 2 build/lpg-mpi eval $econfig output_dir=$work/eval_killed \
  steps=100000000 >$work/out 2>&1 &
job=$!
victim=""
for _ in $(seq 100); do
  for p in $(pgrep -P $job); do
    tr '\0' '\n' </proc/$p/environ 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && victim=$p
  done
  [ -n "$victim" ] && break; sleep 0.1
done
if [ -n "$victim" ]; then sleep 0.5; kill -9 $victim; else kill $job; fi
wait $job
rc=$?
killed_and_named() { [ $rc -ne 0 ] && grep -q "rank 1 .*signal 9" $work/out; }
check "eval: a killed rank ends the job non-zero, named by mpirun" killed_and_named
check "eval: the killed job wrote no results or curves" test -z "$(ls $work/eval_killed 2>/dev/null)"

# Other commands refuse to run on several ranks rather than repeat their work.
mpi 2 env configs/envs/chain_short.json >$work/out 2>&1
check "commands other than meta-train and eval refuse several ranks" grep -q "runs as one process" $work/out

check_summary
