#!/usr/bin/env bash
# Start a one-node Slurm cluster on this host (munged + slurmctld + slurmd, all as root),
# with every file under NAGA_SLURM_DIR (default /tmp/naga-slurm). Idempotent: when the
# cluster there already answers and runs this script's slurm.conf, it only prints the
# environment line again. A cluster started from an older slurm.conf (an earlier version of
# slurm.conf.in, other ports or MaxArraySize) is restarted with the new one when it has no
# jobs; with jobs it is left running as it is (with a warning), so that nobody's jobs die.
#
# Partitions: debug (the default; never preempted), low and high (a job on high preempts
# jobs on low, which Slurm requeues); see slurm.conf.in.
#
#   sudo scripts/slurm/start.sh          # then: export SLURM_CONF=/tmp/naga-slurm/slurm.conf
#   sudo scripts/slurm/stop.sh
#
# Another cluster beside it: NAGA_SLURM_DIR, NAGA_SLURM_CTLD_PORT, NAGA_SLURM_SLURMD_PORT;
# NAGA_SLURM_MAX_ARRAY_SIZE sets its MaxArraySize (default 1001, as Slurm's).
#
# The last line printed on success is `SLURM_CONF=<path>`; tests parse it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${NAGA_SLURM_DIR:-/tmp/naga-slurm}"
ctld_port="${NAGA_SLURM_CTLD_PORT:-6817}"
slurmd_port="${NAGA_SLURM_SLURMD_PORT:-6818}"
# Slurm's own default; a test cluster may set a small one to see big arrays split.
max_array_size="${NAGA_SLURM_MAX_ARRAY_SIZE:-1001}"
timeout_s="${NAGA_SLURM_START_TIMEOUT:-60}"
conf="$dir/slurm.conf"
export SLURM_CONF="$conf"

die() { echo "naga-slurm: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (slurmd and munged need it); try: sudo $0"
for bin in munged slurmctld slurmd sinfo; do
  command -v "$bin" >/dev/null || [ -x "/usr/sbin/$bin" ] || \
    die "'$bin' not found; install it with: sudo bash scripts/setup-system.sh"
done
PATH="$PATH:/usr/sbin"

node_idle() { sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; }

host="$(hostname -s)"
cpus="$(nproc)"
mem_total="$(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo)"
# Leave headroom: slurmd refuses a node whose real memory is below RealMemory.
mem_mb=$(( mem_total * 9 / 10 ))

mkdir -p "$dir"/{state,spool,run,log,munge}
chmod 0700 "$dir/munge"
rendered="$dir/slurm.conf.new"
sed -e "s|@HOST@|$host|g" -e "s|@DIR@|$dir|g" -e "s|@CPUS@|$cpus|g" \
    -e "s|@MEM_MB@|$mem_mb|g" -e "s|@CTLD_PORT@|$ctld_port|g" \
    -e "s|@SLURMD_PORT@|$slurmd_port|g" -e "s|@MAX_ARRAY_SIZE@|$max_array_size|g" \
    "$here/slurm.conf.in" > "$rendered"

if [ -f "$conf" ] && node_idle; then
  if cmp -s "$rendered" "$conf"; then
    rm -f "$rendered"
    echo "naga-slurm: already running in $dir"
    echo "SLURM_CONF=$conf"
    exit 0
  fi
  # The running daemons read $conf when they started; this script now writes another.
  if [ -n "$(squeue -h -o '%i' 2>/dev/null)" ]; then
    rm -f "$rendered"
    echo "naga-slurm: the cluster in $dir runs an older slurm.conf but has jobs; left" \
      "running as it is (run this again once its jobs are done, or stop it:" \
      "NAGA_SLURM_DIR=$dir $here/stop.sh)" >&2
    echo "SLURM_CONF=$conf"
    exit 0
  fi
  echo "naga-slurm: the cluster in $dir runs an older slurm.conf; restarting it"
  NAGA_SLURM_DIR="$dir" bash "$here/stop.sh" >/dev/null
fi
mv -f "$rendered" "$conf"
# Stop daemons of an earlier, half-started cluster in this directory (by their pid files).
for pidfile in "$dir"/run/*.pid "$dir/munge/munged.pid"; do
  [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
done
sleep 0.2

if [ ! -f "$dir/munge/munge.key" ]; then
  if command -v mungekey >/dev/null || [ -x /usr/sbin/mungekey ]; then
    mungekey --create --keyfile="$dir/munge/munge.key" --force
  else
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  fi
  chmod 0400 "$dir/munge/munge.key"
fi
munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
  --seed-file="$dir/munge/munged.seed"

slurmctld -f "$conf" || die "slurmctld failed to start; see $dir/log/slurmctld.log"
slurmd -f "$conf" || die "slurmd failed to start; see $dir/log/slurmd.log"

deadline=$(( $(date +%s) + timeout_s ))
until node_idle; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    tail -n 5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
    die "node did not become idle within ${timeout_s}s; logs are in $dir/log"
  fi
  # A node marked down by an earlier run comes back only when asked.
  scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
  sleep 0.3
done
echo "naga-slurm: cluster up in $dir ($host, $cpus CPUs, ${mem_mb} MB)"
echo "SLURM_CONF=$conf"
