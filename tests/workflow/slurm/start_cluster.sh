#!/usr/bin/env bash
# A one-node SLURM cluster on this machine for tests/workflow/test_slurm.py (run as root).
#
# Idempotent: installs slurm-wlm and munge with apt-get only when they are missing, writes a
# munge key and a one-node slurm.conf only when absent (or when the conf is ours), starts
# munged, slurmctld and slurmd unless they already run, and waits until `sinfo` shows the
# node idle. Every failure exits non-zero with one line saying why (the test fails with it).
# Stop it again with stop_cluster.sh (same directory), which ends only the daemons started here.
set -euo pipefail

STATE=${WEBBFLOW_SLURM_STATE:-/var/lib/webbflow-slurm}   # pid files, spool, state, logs
CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
MARK="# webbflow one-node test cluster (tests/workflow/slurm/start_cluster.sh)"
NODE=$(uname -n | cut -d. -f1)   # what slurmd calls this node (hostname -s)

die() { echo "start_cluster.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts daemons)"

# 1. packages
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >"$STATE.apt.log" 2>&1 || die "apt-get update failed: $(tail -n 1 "$STATE.apt.log")"
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >>"$STATE.apt.log" 2>&1 \
        || die "apt-get install slurm-wlm munge failed: $(tail -n 1 "$STATE.apt.log")"
fi

mkdir -p "$STATE"/{ctld,d,log} /run/munge /var/lib/munge /var/log/munge /etc/munge "$CONF_DIR"
chown -R munge:munge /run/munge /var/lib/munge /var/log/munge /etc/munge

# 2. munge key
if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key

# 3. slurm.conf (an administrator's own configuration is left alone)
CPUS=$(nproc)
MEM_MB=$(awk '/^MemTotal:/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
if [ ! -f "$CONF" ] || head -n 1 "$CONF" | grep -qF "$MARK"; then
    cat >"$CONF.tmp" <<CONF
$MARK
ClusterName=webbflow
SlurmctldHost=$NODE
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=300
NodeName=$NODE CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=main Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF
    mv "$CONF.tmp" "$CONF"
fi

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# 4. daemons
if ! alive /run/munge/munged.pid; then
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid \
        || die "munged did not start (see /var/log/munge/munged.log)"
fi
for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.2; done
munge -n | unmunge >/dev/null 2>&1 || die "munge does not work (see /var/log/munge/munged.log)"

if ! alive "$STATE/slurmctld.pid"; then
    slurmctld -f "$CONF" || die "slurmctld did not start (see $STATE/log/slurmctld.log)"
fi
for _ in $(seq 100); do scontrol ping >/dev/null 2>&1 && break; sleep 0.2; done
if ! alive "$STATE/slurmd.pid"; then
    slurmd -f "$CONF" || die "slurmd did not start (see $STATE/log/slurmd.log)"
fi

# 5. wait for the node
for _ in $(seq 120); do
    state=$(sinfo -h -N -n "$NODE" -o %t 2>/dev/null | head -n 1 || true)
    case $state in
        idle|mix|alloc) echo "start_cluster.sh: node $NODE $state ($CPUS CPUs, $MEM_MB MB)"; exit 0 ;;
        drain*|down*) scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5
done
die "node $NODE not idle after 60 s (sinfo: ${state:-nothing}; see $STATE/log/slurmd.log, $STATE/log/slurmctld.log)"
