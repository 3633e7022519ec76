set -u
umask 022
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LC_ALL=C
export PATH LC_ALL
trusted_roots_main() {
trusted_roots_observe() {
  printf '@@boot-id %s\n' "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)"
  if false; then echo '@@pending-reboot yes'; else echo '@@pending-reboot no'; fi
  if [ -f '/var/lib/trusted-roots/manifest.json' ]; then printf '@@manifest %s\n' "$(base64 < '/var/lib/trusted-roots/manifest.json' | tr -d '\n')"; fi
  if [ -d '/usr/local/share/ca-certificates' ]; then find '/usr/local/share/ca-certificates' -type f -exec sh -c 'for f do printf "@@%s %s %s\n" "$0" "$(printf %s "$f" | base64 | tr -d "\n")" "$(base64 < "$f" | tr -d "\n")"; done' anchor {} +; fi
  sed -n 's/^!//p' '/etc/ca-certificates.conf' 2>/dev/null | while IFS= read -r rel; do
    if [ -f '/usr/share/ca-certificates'/"$rel" ]; then sh -c 'for f do printf "@@%s %s %s\n" "$0" "$(printf %s "$f" | base64 | tr -d "\n")" "$(base64 < "$f" | tr -d "\n")"; done' distrusted '/usr/share/ca-certificates'/"$rel"; fi
  done
  if [ -f '/etc/ssl/certs/ca-certificates.crt' ]; then printf '@@bundle %s\n' "$(base64 < '/etc/ssl/certs/ca-certificates.crt' | tr -d '\n')"; else echo '@@bundle'; fi
  echo '@@end'
}
  echo '@@begin observe'
  trusted_roots_observe
}
trusted_roots_main </dev/null
