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

# Our slurm.conf goes aside once the daemons are down (start_cluster.sh writes it again):
# with a conf naming a controller that no longer runs, every SLURM client call waits for it,
# and Snakemake's SLURM executor plugin runs `scontrol show config` when it is imported, at
# every snakemake start-up, local runs included: 9 s each on this machine (its 10 s timeout).
if head -n 1 /etc/slurm/slurm.conf 2>/dev/null | grep -qF "$MARK"; then
    mv -f /etc/slurm/slurm.conf "$STATE/slurm.conf.stopped"
fi
echo "stop_cluster.sh: stopped"
