#!/usr/bin/env bash
# Stop the one-node cluster started by start.sh in NAGA_SLURM_DIR (default /tmp/naga-slurm).
# Only the daemons named in that directory's pid files are signalled.
set -uo pipefail
dir="${NAGA_SLURM_DIR:-/tmp/naga-slurm}"
[ -d "$dir" ] || exit 0
export SLURM_CONF="$dir/slurm.conf"
PATH="$PATH:/usr/sbin"
# Cancel leftover jobs so slurmd has no step daemons to wait for.
for partition in $(sinfo -h -o '%R' 2>/dev/null || echo debug); do
  scancel --quiet --full --partition="$partition" >/dev/null 2>&1 || true
done
for pidfile in "$dir"/run/slurmd-*.pid "$dir/run/slurmctld.pid" "$dir/munge/munged.pid"; do
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || continue
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$pidfile"
done
echo "naga-slurm: stopped cluster in $dir"
