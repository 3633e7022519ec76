set -u
umask 022
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LC_ALL=C
export PATH LC_ALL
trusted_roots_main() {
trusted_roots_observe() {
  trl_boot_id=unknown
  read -r trl_boot_id 2>/dev/null </proc/sys/kernel/random/boot_id || :
  printf '@@boot-id %s\n' "$trl_boot_id"
  if command -v needs-restarting >/dev/null 2>&1 && ! needs-restarting -r >/dev/null 2>&1; then echo '@@pending-reboot yes'; else echo '@@pending-reboot no'; fi
  if base64 -w 0 /dev/null >/dev/null 2>&1; then trl_b64() { base64 -w 0 "$1"; }; else trl_b64() { base64 "$1" | tr -d '\n'; }; fi
  if [ -f '/var/lib/trusted-roots/manifest.json' ]; then printf '@@manifest '; trl_b64 '/var/lib/trusted-roots/manifest.json'; echo; fi
  if [ -d '/etc/pki/ca-trust/source/anchors' ]; then find '/etc/pki/ca-trust/source/anchors' -type f -exec sh -c 'for f do printf "@@%s %s %s\n" "$0" "$(printf %s "$f" | base64 | tr -d "\n")" "$(base64 < "$f" | tr -d "\n")"; done' anchor {} +; fi
  if [ -d '/etc/pki/ca-trust/source' ]; then find '/etc/pki/ca-trust/source' -maxdepth 1 -type f -exec sh -c 'for f do printf "@@%s %s %s\n" "$0" "$(printf %s "$f" | base64 | tr -d "\n")" "$(base64 < "$f" | tr -d "\n")"; done' intermediate {} +; fi
  if [ -d '/etc/pki/ca-trust/source/blocklist' ]; then find '/etc/pki/ca-trust/source/blocklist' -type f -exec sh -c 'for f do printf "@@%s %s %s\n" "$0" "$(printf %s "$f" | base64 | tr -d "\n")" "$(base64 < "$f" | tr -d "\n")"; done' distrusted {} +; fi
  if [ -f '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem' ]; then printf '@@bundle '; trl_b64 '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem'; echo; else echo '@@bundle'; fi
  echo '@@end'
}
  echo '@@begin observe'
  trusted_roots_observe
}
trusted_roots_main </dev/null
