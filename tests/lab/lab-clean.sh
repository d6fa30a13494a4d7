#!/usr/bin/env bash
# Removes device-lab state left by an earlier run (also used by lab.ts before starting a lab):
#   1. kills the processes recorded in <stateDir>/pids/*.pid ("<pid> <starttime>"; a recycled pid
#      whose start time differs is left alone),
#   2. lazily unmounts anything mounted under <stateDir>,
#   3. deletes network namespaces named outpost-lab-<id>-* (all but outpost-lab-<id>-tech with --keep-tech),
#      <id> being $OUTPOST_LAB_ID (default main): other labs' namespaces are never touched,
#   4. removes <stateDir>.
# Usage: lab-clean.sh [--keep-tech] <stateDir>
set -euo pipefail
keep_tech=0
if [ "${1:-}" = "--keep-tech" ]; then keep_tech=1; shift; fi
state="${1:?usage: lab-clean.sh [--keep-tech] <stateDir>}"
case "$state" in
  /*/outpost-lab*) ;;
  *) echo "lab-clean.sh: refusing state dir '$state' (must be absolute and named outpost-lab*)" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "lab-clean.sh: the device lab needs root" >&2; exit 1; }
id="${OUTPOST_LAB_ID:-main}"
[[ "$id" =~ ^[a-z0-9]{1,12}$ ]] || { echo "lab-clean.sh: invalid OUTPOST_LAB_ID '$id'" >&2; exit 2; }
prefix="outpost-lab-$id-"

starttime() { # field 22 of /proc/<pid>/stat, robust to spaces in comm
  local s
  s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  s="${s##*) }"
  set -- $s
  echo "${20}"
}

killed=()
if [ -d "$state/pids" ]; then
  # init pids first: killing a device's pid 1 makes the kernel kill everything inside it
  for f in "$state"/pids/*.init.pid "$state"/pids/*.pid; do
    [ -f "$f" ] || continue
    read -r pid start < "$f" || continue
    [[ "$pid" =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ] || continue
    if [ "$(starttime "$pid" || true)" = "$start" ]; then
      kill -KILL "$pid" 2>/dev/null || true
      killed+=("$pid")
    fi
    rm -f "$f"
  done
fi
for pid in "${killed[@]}"; do
  for _ in $(seq 1 200); do
    [ -d "/proc/$pid" ] || break
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
    sleep 0.05
  done
done

# Mounts under the state dir (deepest first); normally none on the host side.
awk -v p="$state/" 'index($5, p) == 1 || $5 == substr(p, 1, length(p) - 1) { print $5 }' /proc/self/mountinfo \
  | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done

ip netns list 2>/dev/null | awk '{print $1}' | { grep "^$prefix" || true; } | while read -r ns; do
  if [ "$keep_tech" = 1 ] && [ "$ns" = "${prefix}tech" ]; then continue; fi
  ip netns del "$ns" 2>/dev/null || true
done

rm -rf --one-file-system "$state"
