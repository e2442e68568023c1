#!/usr/bin/env bash
# A real single-node Slurm on this machine: submit `lab train` with --requeue and --signal=B:USR1, send it
# USR1 mid-run (what Slurm sends before a time limit or preemption), and check that the job checkpoints,
# requeues itself, restarts with SLURM_RESTART_COUNT=1, resumes the same run and ends with every epoch
# exactly once in metrics.csv.
#
# Usage: tests/cluster/slurm_requeue.sh [WORK_DIR]   (as root; installs slurm-wlm and munge when missing)
# Needs `lab` on PATH (or LAB="python -m lab_workbench.commands" with PYTHONPATH set). Prints PASS or FAIL and exits 0/1.
set -euo pipefail

WORK=${1:-$(mktemp -d /tmp/lab-slurm.XXXXXX)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
LAB=${LAB:-lab}
HOST=$(hostname -s)
EPOCHS=${EPOCHS:-25}
log() { echo "[slurm-test] $*"; }
fail() { echo "FAIL: $*"; exit 1; }

# --- a one-node cluster on this host (tests/cluster/slurm_cluster.sh), stopped on exit
source "$(dirname "${BASH_SOURCE[0]}")/slurm_cluster.sh"
trap 'slurm_stop "$WORK"' EXIT
slurm_start "$WORK" || fail "the cluster did not start"

# --- the job: `exec` makes lab the batch shell, so the B:USR1 signal reaches it
cat > "$WORK/job.sh" <<EOF
#!/usr/bin/env bash
#SBATCH --job-name=lab-requeue
#SBATCH --requeue
#SBATCH --signal=B:USR1@60
#SBATCH --open-mode=append
#SBATCH --output=$WORK/job.out
#SBATCH --chdir=$WORK
echo "start restart=\${SLURM_RESTART_COUNT:-0} job=\$SLURM_JOB_ID"
exec $LAB train --name rq --resume auto --epochs $EPOCHS --subset 900 --model cnn -K 8 -H 16 \\
  --batch-size 8 --log-file $WORK/train.log
EOF
JOB=$(sbatch --parsable "$WORK/job.sh")
log "submitted job $JOB"

metrics="$WORK/runs/rq/metrics.csv"
rows() { [ -f "$metrics" ] && echo $(( $(wc -l < "$metrics") - 1 )) || echo 0; }
for _ in $(seq 300); do [ "$(rows)" -ge 3 ] && break; sleep 0.5; done
[ "$(rows)" -ge 3 ] || { cat "$WORK/job.out"; fail "the job never trained 3 epochs"; }
log "sending USR1 to the batch step after $(rows) epochs"
scancel --signal=USR1 --batch "$JOB"

# a requeued job waits for its begin time (about 2 minutes in Slurm); release it now
for _ in $(seq 120); do grep -q "restart=1" "$WORK/job.out" 2>/dev/null && break
  state=$(squeue -h -j "$JOB" -o %T 2>/dev/null || true)
  [ "$state" = "PENDING" ] && scontrol update JobId="$JOB" StartTime=now 2>/dev/null || true
  sleep 1
done
grep -q "restart=1" "$WORK/job.out" || { cat "$WORK/job.out"; fail "the job did not restart"; }
log "job restarted: $(grep -c '^start' "$WORK/job.out") starts"
for _ in $(seq 600); do [ -z "$(squeue -h -j "$JOB" 2>/dev/null)" ] && break; sleep 1; done
[ -z "$(squeue -h -j "$JOB" 2>/dev/null)" ] || fail "the job did not finish"

echo "--- job output"; cat "$WORK/job.out"
status=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['status'])" "$WORK/runs/rq/results.json")
epochs=$(tail -n +2 "$metrics" | cut -d, -f1 | tr '\n' ' ')
expected=$(seq -s ' ' 1 "$EPOCHS")
log "status=$status epochs: $epochs"
grep -q "requeueing Slurm job $JOB" "$WORK/job.out" || fail "lab did not requeue the job"
grep -q "resuming runs/rq at epoch" "$WORK/job.out" || fail "the restarted job did not resume the run"
[ "$status" = completed ] || fail "final status $status"
[ "$epochs" = "$expected " ] || fail "epochs in metrics.csv: $epochs (expected each of 1..$EPOCHS once)"
[ "$(ls "$WORK/runs")" = rq ] || fail "more than one run folder: $(ls "$WORK/runs")"
echo "PASS: job $JOB was signalled, requeued, restarted (SLURM_RESTART_COUNT=1) and finished run rq with epochs 1..$EPOCHS once each"
