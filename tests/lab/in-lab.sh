#!/usr/bin/env bash
# Runs a command as "the technician's laptop": inside a fresh network namespace outpost-lab-<id>-tech
# that has only `lo` up (the lab adds its veth). Environment and cwd are kept.
#   bash tests/lab/in-lab.sh npx vitest run --project lab
# Stale lab state from a run that died (processes, mounts, outpost-lab-<id>-* namespaces, the state
# dir $OUTPOST_LAB_STATE_DIR or /tmp/outpost-lab-<id>) is removed first. <id> is $OUTPOST_LAB_ID (default main):
# labs with different ids run side by side; one run per id at a time.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "$(id -u)" != 0 ]; then
  echo "in-lab.sh: the device lab needs root (network namespaces, mounts, dockerd)" >&2
  exit 1
fi
if [ $# -eq 0 ]; then
  echo "usage: in-lab.sh <command> [args...]" >&2
  exit 2
fi
id="${OUTPOST_LAB_ID:-main}"
if ! [[ "$id" =~ ^[a-z0-9]{1,12}$ ]]; then
  echo "in-lab.sh: invalid OUTPOST_LAB_ID '$id' (1-12 of a-z, 0-9)" >&2
  exit 2
fi
export OUTPOST_LAB_ID="$id"
state="${OUTPOST_LAB_STATE_DIR:-/tmp/outpost-lab-$id}"
export OUTPOST_LAB_STATE_DIR="$state"
tech="outpost-lab-$id-tech"
lock="/run/lock/outpost-lab-$id.lock"
mkdir -p /run/lock
exec 9>"$lock"
# Two runs with the same OUTPOST_LAB_ID share names: wait our turn rather than trample a live lab.
if ! flock -n 9; then
  wait_s="${OUTPOST_LAB_LOCK_WAIT:-1800}"
  echo "in-lab.sh: another device-lab run is active; waiting up to ${wait_s}s for $lock" >&2
  if ! flock -w "$wait_s" 9; then
    echo "in-lab.sh: the device lab stayed busy for ${wait_s}s (lock $lock)" >&2
    exit 1
  fi
fi

bash "$here/lab-clean.sh" "$state"
ip netns add "$tech"
ip -n "$tech" link set lo up

set +e
nsenter --net="/run/netns/$tech" "$@" 9>&-
rc=$?
set -e
bash "$here/lab-clean.sh" "$state" || echo "in-lab.sh: cleanup after the run failed" >&2
exit "$rc"
