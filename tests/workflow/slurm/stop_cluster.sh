#!/usr/bin/env bash
# Stop the daemons of start_cluster.sh, each by the id in its pid file (nothing else is killed).
set -uo pipefail
STATE=${WEBBFLOW_SLURM_STATE:-/var/lib/webbflow-slurm}
MARK="# webbflow one-node test cluster"
# jobs left by a failed test, only on our own test cluster
if head -n 1 /etc/slurm/slurm.conf 2>/dev/null | grep -qF "$MARK"; then
    scancel --quiet --user="$(id -un)" 2>/dev/null || true
fi
for pidfile in "$STATE/slurmd.pid" "$STATE/slurmctld.pid" /run/munge/munged.pid; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
done
echo "stop_cluster.sh: stopped"
