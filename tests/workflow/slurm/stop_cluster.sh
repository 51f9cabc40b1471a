#!/usr/bin/env bash
# Stop the daemons of start_cluster.sh, each by the id in its pid file (nothing else is killed).
set -uo pipefail
STATE=${WEBBFLOW_SLURM_STATE:-/var/lib/webbflow-slurm}
scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
for pidfile in "$STATE/slurmd.pid" "$STATE/slurmctld.pid" /run/munge/munged.pid; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
done
echo "stop_cluster.sh: stopped"
