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
  if false; then echo '@@pending-reboot yes'; else echo '@@pending-reboot no'; fi
  if base64 -w 0 /dev/null >/dev/null 2>&1; then trl_b64() { base64 -w 0 "$1"; }; else trl_b64() { base64 "$1" | tr -d '\n'; }; fi
  if [ -f '/var/lib/trusted-roots/manifest.json' ]; then printf '@@manifest '; trl_b64 '/var/lib/trusted-roots/manifest.json'; echo; fi
  if [ -d '/usr/local/share/ca-certificates' ]; then find '/usr/local/share/ca-certificates' -type f -exec sh -c 'for f do printf "@@%s %s %s\n" "$0" "$(printf %s "$f" | base64 | tr -d "\n")" "$(base64 < "$f" | tr -d "\n")"; done' anchor {} +; fi
  if [ -f '/etc/ca-certificates.conf' ]; then while IFS= read -r trl_line || [ -n "$trl_line" ]; do
    case $trl_line in '!'*) trl_rel=${trl_line#!}
      if [ -f '/usr/share/ca-certificates'/"$trl_rel" ]; then sh -c 'for f do printf "@@%s %s %s\n" "$0" "$(printf %s "$f" | base64 | tr -d "\n")" "$(base64 < "$f" | tr -d "\n")"; done' distrusted '/usr/share/ca-certificates'/"$trl_rel"; fi ;;
    esac
  done <'/etc/ca-certificates.conf'; fi
  if [ -f '/etc/ssl/certs/ca-certificates.crt' ]; then printf '@@bundle '; trl_b64 '/etc/ssl/certs/ca-certificates.crt'; echo; else echo '@@bundle'; fi
  echo '@@end'
}
  echo '@@begin observe'
  trusted_roots_observe
}
trusted_roots_main </dev/null
