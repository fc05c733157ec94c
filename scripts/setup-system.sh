#!/usr/bin/env bash
# Install the Debian packages the test suite drives for real: a one-node Slurm
# (slurm-wlm + munge), b3sum (hash anchor), graphviz (`naga lineage --output x.svg`) and
# chromium (the `naga report` page is tested in headless Chromium).
# As root it installs what is missing; otherwise it says what the tests will skip.
set -euo pipefail
need=()
command -v slurmctld >/dev/null || need+=(slurm-wlm)
command -v munged >/dev/null || [ -x /usr/sbin/munged ] || need+=(munge)
command -v b3sum >/dev/null || need+=(b3sum)
command -v dot >/dev/null || need+=(graphviz)
command -v git >/dev/null || need+=(git)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-system: not root, so not installing ${need[*]}; tests needing them will be skipped." >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
