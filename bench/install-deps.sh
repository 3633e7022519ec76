#!/usr/bin/env bash
# What `npm run bench` needs beyond the tests': Ansible (the peer), from Debian's packages.
set -euo pipefail
bash "$(dirname "$0")/../scripts/install-system-deps.sh"
if ! command -v ansible-playbook >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "bench: need root to install ansible-core" >&2; exit 1; }
  echo "bench: installing ansible-core (Debian)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ansible-core >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ansible-core >/dev/null
  }
fi
ansible-playbook --version | head -1
