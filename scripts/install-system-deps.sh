#!/usr/bin/env bash
# Debian packages the lab and the tests need: sshd and nginx for the lab hosts, tinyproxy and slapd for root
# sets fetched through a proxy and from a directory (started inside lab hosts by the tests, never as services
# here), sudo for the non-root tests, openssl for test certificates, iproute2/util-linux for namespaces,
# postgresql for the shared state backend, a JRE (keytool), Debian's derived cacerts and Tomcat 10 for Java
# stores (Tomcat too runs inside a lab host only). Skips apt when all are present.
set -euo pipefail
packages=(openssh-server openssh-client nginx-light sudo openssl ca-certificates curl iproute2 util-linux procps tinyproxy slapd postgresql openjdk-17-jre-headless ca-certificates-java tomcat10)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present (${packages[*]})"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "install-system-deps: need root to install: ${missing[*]}" >&2; exit 1; }
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: done"
