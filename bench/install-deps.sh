#!/usr/bin/env bash
# What `npm run bench` needs beyond the tests': Ansible (the peer) and GNU time (peak memory), from Debian's packages.
set -euo pipefail
bash "$(dirname "$0")/../scripts/install-system-deps.sh"
if ! command -v ansible-playbook >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "bench: need root to install ansible-core" >&2; exit 1; }
  echo "bench: installing ansible-core (Debian)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ansible-core >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ansible-core >/dev/null
  }
fi
if [ ! -x /usr/bin/time ]; then
  [ "$(id -u)" = 0 ] || { echo "bench: need root to install time" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends time >/dev/null
fi
# sed reads to the end: head would close the pipe early, and ansible fails on the broken pipe.
ansible-playbook --version | sed -n 1p
