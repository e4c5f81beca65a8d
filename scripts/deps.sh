#!/usr/bin/env bash
# deps.sh: install what building and testing Fjord needs, and nothing that is
# already there. Safe to run again and again: when everything is present it
# only asks dpkg and returns in well under a second.
#
# Debian 12 packages (build, codecs, clients used by the integration tests,
# iproute2 for ss),
# then kafkajs from npm into tests/js/node_modules.
# Works unattended (CI=true, no stdin); uses sudo only when not root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Libraries and tools checked by package name.
PACKAGES=(
	build-essential gcc make clang libclang-rt-14-dev
	python3 python3-pytest python3-confluent-kafka python3-kafka
	kcat librdkafka-dev libjansson-dev zlib1g-dev libsnappy-dev liblz4-dev
	libzstd-dev libssl-dev libmicrohttpd-dev prometheus iproute2
)

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${PACKAGES[@]}"; do
	installed "$p" || missing+=("$p")
done
# Node may come from another packaging (e.g. a nodejs build that bundles npm,
# which conflicts with Debian's npm package), so check the commands instead.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ "${#missing[@]}" -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	SUDO=""
	if [ "$(id -u)" -ne 0 ]; then
		SUDO="sudo -n"
	fi
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q </dev/null
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" </dev/null
fi

# kafkajs for the tests in tests/js (pinned in package.json / package-lock.json).
JS="$ROOT/tests/js"
if [ -f "$JS/package.json" ] && [ ! -f "$JS/node_modules/kafkajs/package.json" ]; then
	echo "deps: installing npm packages in tests/js"
	if [ -f "$JS/package-lock.json" ]; then
		(cd "$JS" && npm ci --no-audit --no-fund --loglevel=error </dev/null)
	else
		(cd "$JS" && npm install --no-audit --no-fund --loglevel=error </dev/null)
	fi
fi
exit 0
