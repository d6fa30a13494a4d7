#!/usr/bin/env bash
# Installs the Debian packages the device lab needs (idempotent; needs root). No daemon of these
# packages is left running on the host network: a policy-rc.d forbids starting services during the
# install, and anything that still got started by it is stopped again by its pidfile.
set -euo pipefail
PKGS=(docker.io openssh-server openssh-client socat avahi-daemon avahi-utils mosquitto mosquitto-clients
      nmap busybox-static iproute2 sqlite3 util-linux procps chromium iputils-ping rsync expect openssl faketime
      podman)
if [ "$(id -u)" != 0 ]; then
  echo "lab-deps.sh: must run as root (apt-get install of: ${PKGS[*]})" >&2
  exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then missing+=("$p"); fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "lab-deps.sh: all lab packages present"
  exit 0
fi
echo "lab-deps.sh: installing ${missing[*]}"

# Daemons these packages may start, by pidfile; remember which were already running.
PIDFILES=(/run/avahi-daemon/pid /run/mosquitto/mosquitto.pid /run/sshd.pid /run/docker.pid /run/docker-ssd.pid /run/containerd/containerd.pid)
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
declare -A before=()
for f in "${PIDFILES[@]}"; do if alive "$f"; then before[$f]=1; fi; done

created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\n# lab-deps.sh: no service starts during package installs\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y "${missing[@]}"

for f in "${PIDFILES[@]}"; do
  if [ -z "${before[$f]:-}" ] && alive "$f"; then
    pid="$(cat "$f")"
    echo "lab-deps.sh: stopping $(cat "/proc/$pid/comm" 2>/dev/null || echo pid) ($pid) started by the install"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
done
echo "lab-deps.sh: done"
