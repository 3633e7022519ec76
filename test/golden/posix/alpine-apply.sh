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
trusted_roots_shipped() {
  if [ "$2" = deselect ]; then
    awk -v dir='/usr/share/ca-certificates' -v der="$1" '/^$/ || /^#/ || /^!/ { next }
{ file = dir "/" $0; inside = 0; found = 0
  while (!found && (getline line < file) > 0) {
    if (line ~ /^-----BEGIN CERTIFICATE-----/) { inside = 1; body = ""; continue }
    if (line ~ /^-----END CERTIFICATE-----/) { found = inside && body == der; inside = 0; continue }
    if (inside) { gsub(/[ \t\r]/, "", line); body = body line }
  }
  close(file)
  if (found) { print; exit }
}' '/etc/ca-certificates.conf' 2>/dev/null
    return
  fi
  cd '/usr/share/ca-certificates' 2>/dev/null || return 0
  sed -n 's/^!//p' '/etc/ca-certificates.conf' | while IFS= read -r f; do
    if [ -f "$f" ] && [ "$(openssl x509 -in "$f" -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//; s/://g')" = "$1" ]; then
      printf '%s\n' "$f"; break
    fi
  done
}
trusted_roots_select() {
  match=$(trusted_roots_shipped "$1" "$2")
  [ -n "$match" ] || return 0
  awk -v rel="$match" -v mode="$2" '($0 == rel || $0 == "!" rel) { if (!done) print (mode == "deselect" ? "!" rel : rel); done = 1; next } { print }' \
    '/etc/ca-certificates.conf' > '/etc/ca-certificates.conf'.trusted-roots-new &&
    trusted_roots_expect L2V0Yy9jYS1jZXJ0aWZpY2F0ZXMuY29uZg== "$(sha256sum < '/etc/ca-certificates.conf'.trusted-roots-new | cut -d' ' -f1)" &&
    mv -f '/etc/ca-certificates.conf'.trusted-roots-new '/etc/ca-certificates.conf'
}
trusted_roots_deselect() { trusted_roots_select "$1" deselect; }
trusted_roots_reselect() { trusted_roots_select "$1" reselect; }
trusted_roots_step() { :; }
trusted_roots_emit_failure() {
  printf '@@failed %s %s\n' "$1" "$(printf '%s' "$2" | base64 | tr -d '\n')"
}
trusted_roots_fail() {
  printf '@@failed %s %s\n' "$1" "$(tail -c 4000 "$TXN/log" 2>/dev/null | base64 | tr -d '\n')"
  trusted_roots_rollback
  trusted_roots_observe
  exit 3
}
trusted_roots_refresh() {
  if [ "$1" = yes ]; then update-ca-certificates; else update-ca-certificates; fi
}
trusted_roots_rollback() {
  # Checked, not assumed: a restore that failed keeps the backups and the log for the operator.
  if sh "$TXN/rollback" "$TXN" >>"$TXN/log" 2>&1 && trusted_roots_refresh yes >>"$TXN/log" 2>&1; then
    echo '@@rolled-back yes'; rm -rf "$TXN"
  else
    printf '@@rolled-back no %s\n' "$(printf '%s' "$TXN" | base64 | tr -d '\n')"
  fi
}
trusted_roots_recover() {
  recovered=no
  for t in '/var/lib/trusted-roots'/txn.*; do
    [ -d "$t" ] || continue
    if [ -e "$t/committed" ] || [ ! -e "$t/rollback" ]; then rm -rf "$t"; continue; fi
    sh "$t/rollback" "$t" >>"$t/log" 2>&1 || { trusted_roots_emit_failure recover "an interrupted apply's backups in $t could not be restored; inspect that directory (its log says why) and restore by hand"; exit 3; }
    rm -rf "$t"; recovered=yes
  done
  if [ "$recovered" = yes ]; then
    trusted_roots_refresh yes >/dev/null 2>&1 || { trusted_roots_emit_failure recover 'an interrupted apply was rolled back, but the trust store refresh failed; run it by hand'; exit 3; }
    trusted_roots_emit_failure conflict 'an interrupted apply was found and rolled back (the store is as it was before it); observe again and re-plan'
    echo '@@rolled-back yes'
    trusted_roots_observe
    exit 3
  fi
}
# What this apply is about to make of a file (its path's base64 and the new SHA-256, or absent): the recovery
# rule tells this apply's writes from someone else's by it (ROLLBACK_PROGRAM).
trusted_roots_expect() { printf '%s %s
' "$1" "$2" >> "$TXN/expected"; }
# A base64 field as the path p; the x keeps a trailing newline, which $(...) would drop.
trusted_roots_path() { p=$(printf '%s' "$1" | base64 -d && echo x) && p=${p%x}; }
trusted_roots_next_step() { trusted_roots_step $step; step=$((step + 1)); }
trusted_roots_plan() { printf '%s\n' "$TRUSTED_ROOTS_PLAN" | sed -n "s/^$1 //p"; }
trusted_roots_changes() {
  step=0; n=0
  while read -r kind a b c <&7; do
    case $kind in
      basis|'') ;;
      save)
        # Whole or absent: a backup cut short would otherwise be "restored" over a good file.
        trusted_roots_path "$a" || trusted_roots_fail backup
        if [ -e "$p" ]; then cp -p "$p" "$TXN/saved.$n.new" && mv -f "$TXN/saved.$n.new" "$TXN/saved.$n" || trusted_roots_fail backup
        else : > "$TXN/absent.$n" || trusted_roots_fail backup; fi
        n=$((n + 1)) ;;
      saved) trusted_roots_next_step ;;
      mkdir)
        trusted_roots_path "$b" || trusted_roots_fail "$a"
        mkdir -p "$p" >>"$TXN/log" 2>&1 || trusted_roots_fail "$a" ;;
      rm)
        trusted_roots_path "$b" || trusted_roots_fail "$a"
        trusted_roots_expect "$b" absent || trusted_roots_fail "$a"
        rm -f "$p" >>"$TXN/log" 2>&1 || trusted_roots_fail "$a"
        trusted_roots_next_step ;;
      put)
        trusted_roots_path "$b" || trusted_roots_fail "$a"
        # The manifest it replaces (one this version could read: plan refuses any other) stays as the backup.
        if [ "$a" = manifest ] && [ -f '/var/lib/trusted-roots/manifest.json' ]; then
          { trusted_roots_expect L3Zhci9saWIvdHJ1c3RlZC1yb290cy9tYW5pZmVzdC5qc29uLnByZXZpb3Vz "$(sha256sum < '/var/lib/trusted-roots/manifest.json' | cut -d' ' -f1)" && cp -p '/var/lib/trusted-roots/manifest.json' '/var/lib/trusted-roots/manifest.json.previous'; } >>"$TXN/log" 2>&1 || trusted_roots_fail manifest
        fi
        { printf '%s' "$c" | base64 -d > "$p.trusted-roots-new"; } >>"$TXN/log" 2>&1 && chmod 644 "$p.trusted-roots-new" &&
          trusted_roots_expect "$b" "$(sha256sum < "$p.trusted-roots-new" | cut -d' ' -f1)" && mv -f "$p.trusted-roots-new" "$p" || { rm -f "$p.trusted-roots-new"; trusted_roots_fail "$a"; }
        trusted_roots_next_step ;;
      deselect) trusted_roots_deselect "$a" || trusted_roots_fail distrust; trusted_roots_next_step ;;
      reselect) trusted_roots_reselect "$a" || trusted_roots_fail undistrust; trusted_roots_next_step ;;
      refresh) trusted_roots_refresh "$a" >>"$TXN/log" 2>&1 || trusted_roots_fail refresh; trusted_roots_next_step ;;
      *) echo "internal: the apply's data has a line this program does not know ($kind)" >>"$TXN/log"; trusted_roots_fail data ;;
    esac
  done 7<<TRUSTED_ROOTS_PLAN_END
$TRUSTED_ROOTS_PLAN
TRUSTED_ROOTS_PLAN_END
}
trap '' HUP PIPE
echo '@@begin apply'
mkdir -p '/var/lib/trusted-roots' || { echo "@@failed lock"; exit 3; }
exec 9>>'/var/lib/trusted-roots/lock'
if command -v flock >/dev/null 2>&1; then
  flock -w 120 9 || { trusted_roots_emit_failure lock 'another trusted-roots apply held the host lock for 120 s'; exit 3; }
fi
trusted_roots_recover
# Planned against one state of the store; if another run changed it meanwhile, change nothing.
current=absent
if [ -f '/var/lib/trusted-roots/manifest.json' ]; then current=$(sha256sum < '/var/lib/trusted-roots/manifest.json' | cut -d' ' -f1); fi
if [ "$current" != "$(trusted_roots_plan basis)" ]; then
  trusted_roots_emit_failure conflict 'the store changed after it was observed (another run?); observe again and re-plan'
  echo '@@rolled-back yes'
  trusted_roots_observe
  exit 3
fi
TXN=$(mktemp -d '/var/lib/trusted-roots/txn.XXXXXX') || { echo "@@failed lock"; exit 3; }
: > "$TXN/log"
{ : > "$TXN/expected" && trusted_roots_plan save > "$TXN/paths.new" && mv -f "$TXN/paths.new" "$TXN/paths" && cat > "$TXN/rollback.new" <<'TRUSTED_ROOTS_ROLLBACK'
T=$1; ok=yes
n=$(($(wc -l < "$T/paths")))
while [ "$n" -gt 0 ]; do
  key=$(sed -n "${n}p" "$T/paths")
  p=$(printf '%s' "$key" | base64 -d && echo x) || { ok=no; n=$((n - 1)); continue; }
  p=${p%x}; n=$((n - 1))
  rm -f "$p.trusted-roots-new"
  if [ -e "$T/expected" ]; then
    now=absent; if [ -e "$p" ]; then now=$(sha256sum < "$p" | cut -d' ' -f1); fi
    was=absent; if [ -e "$T/saved.$n" ]; then was=$(sha256sum < "$T/saved.$n" | cut -d' ' -f1); fi
    if [ "$now" != "$was" ] && ! grep -qxF "$key $now" "$T/expected"; then echo "kept $p: changed since this apply wrote it"; continue; fi
  fi
  if [ -e "$T/saved.$n" ]; then cp -p "$T/saved.$n" "$p" || ok=no; elif [ -e "$T/absent.$n" ]; then rm -f "$p" || ok=no; fi
done
[ "$ok" = yes ]
TRUSTED_ROOTS_ROLLBACK
} >>"$TXN/log" 2>&1 && mv -f "$TXN/rollback.new" "$TXN/rollback" || { rm -rf "$TXN"; trusted_roots_emit_failure lock 'could not write the transaction'; exit 3; }
trusted_roots_changes
: > "$TXN/committed"
echo '@@applied'
rm -rf "$TXN"
trusted_roots_observe
}
TRUSTED_ROOTS_PLAN='
basis absent
save L3Vzci9sb2NhbC9zaGFyZS9jYS1jZXJ0aWZpY2F0ZXMvdHJ1c3RlZC1yb290cy0wMGIwNzUxMzE1ZjY1YmQ1MzU2MmRlMDUwM2UyMzJkM2VlMDNhOGIxZTNmYjNmMzA2YmNkNWM1MzhmMzQ0ZDhkLmNydA==
save L3Vzci9sb2NhbC9zaGFyZS9jYS1jZXJ0aWZpY2F0ZXMvdHJ1c3RlZC1yb290cy05MWRmNTBjMGEwZmQ5MGIwOWFkNWQ4MDdhMzY3YjdmMTZmYzE0YjIzNzY0ZjQ3ZjFlM2NiNmY2ZTI3ZjRmMjBiLmNydA==
save L3Zhci9saWIvdHJ1c3RlZC1yb290cy9tYW5pZmVzdC5qc29u
save L3Zhci9saWIvdHJ1c3RlZC1yb290cy9tYW5pZmVzdC5qc29uLnByZXZpb3Vz
saved
mkdir import L3Vzci9sb2NhbC9zaGFyZS9jYS1jZXJ0aWZpY2F0ZXM=
put import L3Vzci9sb2NhbC9zaGFyZS9jYS1jZXJ0aWZpY2F0ZXMvdHJ1c3RlZC1yb290cy0wMGIwNzUxMzE1ZjY1YmQ1MzU2MmRlMDUwM2UyMzJkM2VlMDNhOGIxZTNmYjNmMzA2YmNkNWM1MzhmMzQ0ZDhkLmNydA== LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSURjVENDQWxtZ0F3SUJBZ0lVYU1YYWpBOFJsTENyMEd0U2dJck0yV2xRK29Fd0RRWUpLb1pJaHZjTkFRRUwKQlFBd1FERUxNQWtHQTFVRUJoTUNWVk14RkRBU0JnTlZCQW9NQzBOdmJuUnZjMjhnVEhSa01Sc3dHUVlEVlFRRApEQkpEYjI1MGIzTnZJRkp2YjNRZ1EwRWdSekl3SGhjTk1qWXhNVEkxTVRFeU56QTBXaGNOTXpZeE1USXlNVEV5Ck56QTBXakJBTVFzd0NRWURWUVFHRXdKVlV6RVVNQklHQTFVRUNnd0xRMjl1ZEc5emJ5Qk1kR1F4R3pBWkJnTlYKQkFNTUVrTnZiblJ2YzI4Z1VtOXZkQ0JEUVNCSE1qQ0NBU0l3RFFZSktvWklodmNOQVFFQkJRQURnZ0VQQURDQwpBUW9DZ2dFQkFLRUZhbmVnSzdPcktuSVRXdXlYS1lFWUJaM1ROMGcxc1BKVUE1RytaK0RUenUwd0RJd1NXWFFTCmNyUW85bmlUR0Y5eng1M0p4d1dmb2k3aS9oU0pxcC9mVnBGL21OMWRZcnZpREZzWE9FdTZxcGwrMVlFMWFpVncKTDBIYmJnNjVUT2RaZURGN0JON0cvNUxhK3p6d1lsUGswOHNwM0RqRzluTGd0MXlCSU9PUFBYL3c3YjN1YXdoMgpadjVZVUFHeWZKV3A5MHBtTy9wSVZ6VE13d05CMmo4SGFFQUhsNzBDdlNHZjEycEF2bkdCOXJSWkhybzc5YjVwCjV5aE9FbnVYV0pZNC85K1NZSXBZV0tIUTFJSnVNczVRN1BGYmtqVEtZbSs4djc3OU5GaHF0UE1lVS9jVCtlaCsKbGhPbkw2WHB4Q3ltcTB4aUpjbHYyWTRheTlRNWwyOENBd0VBQWFOak1HRXdIUVlEVlIwT0JCWUVGSW9MWFE1UgpTOWR0a2QwZWFoOHlKRWtpZ1hrL01COEdBMVVkSXdRWU1CYUFGSW9MWFE1UlM5ZHRrZDBlYWg4eUpFa2lnWGsvCk1BOEdBMVVkRXdFQi93UUZNQU1CQWY4d0RnWURWUjBQQVFIL0JBUURBZ0VHTUEwR0NTcUdTSWIzRFFFQkN3VUEKQTRJQkFRQ043OWFyWXBUTit1S0U2QS83amJGNDlqRm9XU1dBa0wzbXowcVpRVG00elNSaEgvZ201cXJrbGorRwovTnZXMkdZa1JhWDNDWW1kV2l3aWxTM3FvUVZZcFhRWVdKQmF2Y3p3Vm5WN3kvbTk4eVdBemJXZ2Ezbk92OU1CCkFPalpWYnNaN0xkaHUwWFJCaVlYUXV3NTl1WWg3QjA3eHI0L2lGSmd5L0pES1pIbkpwT1FhaDNNQzFrYlVydGEKdEd4RjZHanRVZFBDZ3JOMm1OcWxTcVFPaVdaSkRTNVdQV2lhT2NGS0ViS1pJeHQ5ZWk5bVIyTS9NcWhSVy9TSApEbnVrTzNWZStTMCtUYk9pOGY1eHgxZFdEWWFXTE9vZWZPZ2lDbFY1a095aUJoTk1EZDZGeWRLenFWcE13YzlJCm43aGtQeWl0eVJGenpWQ21iTEZOSVN0YVJSSTgKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
rm remove L3Vzci9sb2NhbC9zaGFyZS9jYS1jZXJ0aWZpY2F0ZXMvdHJ1c3RlZC1yb290cy05MWRmNTBjMGEwZmQ5MGIwOWFkNWQ4MDdhMzY3YjdmMTZmYzE0YjIzNzY0ZjQ3ZjFlM2NiNmY2ZTI3ZjRmMjBiLmNydA==
put manifest L3Zhci9saWIvdHJ1c3RlZC1yb290cy9tYW5pZmVzdC5qc29u ewogICJ2ZXJzaW9uIjogMywKICAicm9vdHMiOiBbCiAgICB7CiAgICAgICJzaGEyNTYiOiAiMDBCMDc1MTMxNUY2NUJENTM1NjJERTA1MDNFMjMyRDNFRTAzQThCMUUzRkIzRjMwNkJDRDVDNTM4RjM0NEQ4RCIsCiAgICAgICJzaGExIjogIjJFOEM3MDlCRDkwNDgzRTk5QTJENDAzMDBDRjFGRTA4QUMxNUEyOEMiLAogICAgICAic3ViamVjdCI6ICJDTj1Db250b3NvIFJvb3QgQ0EgRzIsIE89Q29udG9zbyBMdGQsIEM9VVMiLAogICAgICAic3RvcmUiOiAiUm9vdCIsCiAgICAgICJvd25lcnMiOiBbCiAgICAgICAgIndlYjAxIgogICAgICBdCiAgICB9CiAgXSwKICAiZGlzdHJ1c3RlZCI6IFtdCn0K
refresh yes
'
trusted_roots_main </dev/null
