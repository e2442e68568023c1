#!/usr/bin/env bash
# A real one-node Slurm on this machine, run as root: munge, slurmctld and slurmd with their state under
# WORK_DIR, one partition `debug`, no cgroups or accounting. Installs slurm-wlm and munge when missing.
#
# Usage: tests/cluster/slurm_cluster.sh start|stop WORK_DIR   (start prints `export SLURM_CONF=...`)
# Or source it and call slurm_start WORK_DIR / slurm_stop WORK_DIR.
# Ports: $SLURMCTLD_PORT and $SLURMD_PORT (default 6917 and 6918).

slurm_start() {
  local WORK=$1 HOST
  HOST=$(hostname -s)
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "[slurm-test] installing slurm-wlm and munge"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge) >/dev/null
  fi
  # munge: the authentication Slurm uses between its daemons and commands
  mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
  [ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  chmod 700 /etc/munge && chmod 400 /etc/munge/munge.key
  pgrep -x munged >/dev/null || munged --force
  mkdir -p "$WORK/state" "$WORK/spool"
  cat > "$WORK/slurm.conf" <<CONF
ClusterName=labtest
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
SlurmctldPort=${SLURMCTLD_PORT:-6917}
SlurmdPort=${SLURMD_PORT:-6918}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobRequeue=1
NodeName=$HOST CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$WORK/slurm.conf"
  slurmctld -i
  slurmd
  for _ in $(seq 60); do
    sinfo -h -o %T 2>/dev/null | grep -q idle && break
    sleep 1
  done
  if ! sinfo -h -o "%P %T %N" | grep -q idle; then
    tail -20 "$WORK/slurmctld.log" "$WORK/slurmd.log"
    echo "FAIL: node never became idle"
    return 1
  fi
  echo "[slurm-test] cluster up: $(sinfo -h -o '%P %T %N')"
}

slurm_stop() {
  local WORK=$1
  [ -f "$WORK/slurmctld.pid" ] && kill "$(cat "$WORK/slurmctld.pid")" 2>/dev/null || true
  [ -f "$WORK/slurmd.pid" ] && kill "$(cat "$WORK/slurmd.pid")" 2>/dev/null || true
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    start) mkdir -p "$2"; slurm_start "$(cd "$2" && pwd)" >&2; echo "export SLURM_CONF=$(cd "$2" && pwd)/slurm.conf" ;;
    stop) slurm_stop "$2" ;;
    *) echo "usage: $0 start|stop WORK_DIR" >&2; exit 2 ;;
  esac
fi
