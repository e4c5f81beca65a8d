#!/usr/bin/env bash
# bench/deps.sh: install the peers and tools bench/compare.sh measures against
# (Redis, NATS, iperf3, fio, gnuplot), and nothing that is already there.
# Safe to run again: when everything is present it only asks dpkg.
#
# The packaged redis-server and nats-server must not leave daemons behind:
# while installing, a policy-rc.d that answers 101 ("action forbidden") keeps
# invoke-rc.d from starting them, and afterwards the services are stopped and
# disabled if an init system started them anyway. compare.sh always starts its
# own instances on free 127.0.0.1 ports with temporary directories.
# Works unattended (CI=true, no stdin); uses sudo only when not root.
set -euo pipefail

PACKAGES=(redis-server redis-tools nats-server iperf3 fio gnuplot-nox linux-perf)

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${PACKAGES[@]}"; do
	installed "$p" || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo -n"
fi
echo "bench/deps: installing ${missing[*]}" >&2

# Forbid service starts during the install unless a policy is already in place.
POLICY=/usr/sbin/policy-rc.d
OWN_POLICY=0
if [ ! -e "$POLICY" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
	$SUDO chmod 755 "$POLICY"
	OWN_POLICY=1
fi
restore_policy() {
	if [ "$OWN_POLICY" = 1 ]; then
		$SUDO rm -f "$POLICY"
	fi
}
trap restore_policy EXIT

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q </dev/null
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	"${missing[@]}" </dev/null

# Belt and braces: stop and disable the packaged services if anything started them.
for svc in redis-server nats-server; do
	if [ -d /run/systemd/system ]; then
		$SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
	elif [ -x "/etc/init.d/$svc" ]; then
		$SUDO "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
		$SUDO update-rc.d "$svc" disable >/dev/null 2>&1 || true
	fi
done
exit 0
