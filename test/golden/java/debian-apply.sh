set -u
umask 022
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LC_ALL=C
export PATH LC_ALL
trusted_roots_main() {
trusted_roots_plan() { printf '%s\n' "$TRUSTED_ROOTS_PLAN" | sed -n "s/^$1 //p"; }
trusted_roots_locate() {
  kind=$(trusted_roots_plan kind)
  target=$(trusted_roots_plan target | base64 -d && echo x); target=${target%x}
  home=; keytool=
  case $kind in
    file) ks=$target ;;
    jdk) home=$target ;;
    jvm)
      # The session's JAVA_HOME where one reaches it (sudo's env_reset drops it), else the java on PATH.
      if [ -n "${JAVA_HOME:-}" ] && [ -x "${JAVA_HOME}/bin/java" ]; then home=${JAVA_HOME%/}
      else j=$(command -v java 2>/dev/null) && j=$(readlink -f "$j") && home=${j%/bin/java}; fi ;;
  esac
  if [ "$kind" != file ]; then
    if [ -z "$home" ]; then located='no JAVA_HOME and no java on PATH: install a JRE, or declare the JDK (kind jdk, javaHome)'; return 1; fi
    if [ -f "$home/lib/security/cacerts" ]; then ks=$home/lib/security/cacerts
    elif [ -f "$home/jre/lib/security/cacerts" ]; then ks=$home/jre/lib/security/cacerts
    else located="no cacerts under $home (lib/security or jre/lib/security): is it a JDK's home?"; return 1; fi
    if [ -x "$home/bin/keytool" ]; then keytool=$home/bin/keytool; fi
  fi
  if [ -z "$keytool" ]; then keytool=$(command -v keytool 2>/dev/null) || keytool=; fi
  real=$(readlink -f "$ks" 2>/dev/null) || real=$ks
  [ -n "$real" ] || real=$ks
}
trusted_roots_observe() {
  trl_boot_id=unknown
  read -r trl_boot_id 2>/dev/null </proc/sys/kernel/random/boot_id || :
  printf '@@boot-id %s\n' "$trl_boot_id"
  if [ -e /var/run/reboot-required ]; then echo '@@pending-reboot yes'; else echo '@@pending-reboot no'; fi
  if [ -f '/var/lib/trusted-roots/java/8b345bc120a5c4359fb068efdb91c7f3.json' ]; then printf '@@manifest %s\n' "$(base64 < '/var/lib/trusted-roots/java/8b345bc120a5c4359fb068efdb91c7f3.json' | tr -d '\n')"; fi
  if trusted_roots_locate; then
    if [ -f "$real" ]; then printf '@@keystore %s %s %s\n' "$(printf '%s' "$ks" | base64 | tr -d '\n')" "$(printf '%s' "$real" | base64 | tr -d '\n')" "$(base64 < "$real" | tr -d '\n')"
    else printf '@@keystore-absent %s %s\n' "$(printf '%s' "$ks" | base64 | tr -d '\n')" "$(printf '%s' "$real" | base64 | tr -d '\n')"; fi
    if [ -n "$keytool" ]; then printf '@@keytool %s\n' "$(printf '%s' "$keytool" | base64 | tr -d '\n')"; fi
    if { [ "$real" = '/etc/ssl/certs/java/cacerts' ] && [ -e '/etc/ca-certificates/update.d/jks-keystore' ]; } || { [ "$real" = '/etc/pki/ca-trust/extracted/java/cacerts' ] && [ -e '/usr/bin/update-ca-trust' ]; }; then echo '@@os-derived yes'; fi
  else
    printf '@@locate-failed %s\n' "$(printf '%s' "$located" | base64 | tr -d '\n')"
  fi
  echo '@@end'
}
trusted_roots_step() { :; }
trusted_roots_emit_failure() {
  printf '@@failed %s %s\n' "$1" "$(printf '%s' "$2" | base64 | tr -d '\n')"
}
trusted_roots_refuse() {
  trusted_roots_emit_failure "$1" "$2"; echo '@@rolled-back yes'; trusted_roots_observe; exit 3
}
trusted_roots_fail() {
  printf '@@failed %s %s\n' "$1" "$(tail -c 4000 "$TXN/log" 2>/dev/null | base64 | tr -d '\n')"
  rm -f "$TXN/storepass"
  if sh "$TXN/rollback" "$TXN" >>"$TXN/log" 2>&1; then echo '@@rolled-back yes'; rm -rf "$TXN"
  else printf '@@rolled-back no %s\n' "$(printf '%s' "$TXN" | base64 | tr -d '\n')"; fi
  trusted_roots_observe
  exit 3
}
# An interrupted apply is undone only while the keystore is still what it left (its new bytes, or the original):
# a keystore someone changed since (an administrator's keytool, an upgrade) is theirs, and a rollback to the
# backup would throw their change away. Then, if this apply's write had happened, its entries are in that file and
# the manifest it planned goes with them; if not, nothing of it is anywhere and both files stay as they are.
trusted_roots_recover() {
  for t in '/var/lib/trusted-roots/java'/txn.*; do
    [ -d "$t" ] || continue
    if [ -e "$t/committed" ] || [ ! -e "$t/rollback" ]; then rm -rf "$t"; continue; fi
    rm -f "$t/storepass"
    ks=$(sed -n 1p "$t/paths" | base64 -d && echo x); ks=${ks%x}
    now=absent
    if [ -f "$ks" ]; then now=$(sha256sum < "$ks" | cut -d' ' -f1); fi
    if [ "$now" = "$(cat "$t/new" 2>/dev/null)" ] || [ "$now" = "$(cat "$t/original" 2>/dev/null)" ]; then
      sh "$t/rollback" "$t" >>"$t/log" 2>&1 || { trusted_roots_emit_failure recover "an interrupted apply's backups in $t could not be restored; inspect that directory (its log says why) and restore by hand"; exit 3; }
    elif [ -e "$t/moved" ]; then
      { cp "$t/manifest.planned" '/var/lib/trusted-roots/java/8b345bc120a5c4359fb068efdb91c7f3.json.trusted-roots-new' && chmod 644 '/var/lib/trusted-roots/java/8b345bc120a5c4359fb068efdb91c7f3.json.trusted-roots-new' && mv -f '/var/lib/trusted-roots/java/8b345bc120a5c4359fb068efdb91c7f3.json.trusted-roots-new' '/var/lib/trusted-roots/java/8b345bc120a5c4359fb068efdb91c7f3.json'; } >>"$t/log" 2>&1 || { trusted_roots_emit_failure recover "an interrupted apply's manifest in $t could not be put in place; inspect that directory (its log says why)"; exit 3; }
    fi
    rm -f "$ks.trusted-roots-new"
    rm -rf "$t"
    trusted_roots_refuse conflict 'an interrupted apply was found and settled (undone, or kept where the keystore changed since); observe again and re-plan'
  done
}
trap '' HUP PIPE
echo '@@begin apply'
mkdir -p '/var/lib/trusted-roots/java' || { echo "@@failed lock"; exit 3; }
exec 9>>'/var/lib/trusted-roots/lock'
if command -v flock >/dev/null 2>&1; then
  flock -w 120 9 || { trusted_roots_emit_failure lock 'another trusted-roots apply held the host lock for 120 s'; exit 3; }
fi
trusted_roots_recover
trusted_roots_locate || trusted_roots_refuse prerequisite "$located"
[ -n "$keytool" ] || trusted_roots_refuse prerequisite 'keytool was not found (install a JRE, e.g. openjdk-17-jre-headless, or declare the JDK with kind jdk and javaHome); nothing was changed'
current=absent
if [ -f '/var/lib/trusted-roots/java/8b345bc120a5c4359fb068efdb91c7f3.json' ]; then current=$(sha256sum < '/var/lib/trusted-roots/java/8b345bc120a5c4359fb068efdb91c7f3.json' | cut -d' ' -f1); fi
held=absent
if [ -f "$real" ]; then held=$(sha256sum < "$real" | cut -d' ' -f1); fi
if [ "$current" != "$(trusted_roots_plan basis)" ] || [ "$held" != "$(trusted_roots_plan keystore-basis)" ]; then
  trusted_roots_refuse conflict 'the keystore or its manifest changed after it was observed (another run, a JDK update?); observe again and re-plan'
fi
TXN=$(mktemp -d '/var/lib/trusted-roots/java/txn.XXXXXX') || { echo "@@failed lock"; exit 3; }
: > "$TXN/log"
{ printf '%s\n%s\n' "$(printf '%s' "$real" | base64 | tr -d '\n')" "L3Zhci9saWIvdHJ1c3RlZC1yb290cy9qYXZhLzhiMzQ1YmMxMjBhNWM0MzU5ZmIwNjhlZmRiOTFjN2YzLmpzb24=" > "$TXN/paths" &&
  if [ -e "$real" ]; then cp -p "$real" "$TXN/saved.0"; else : > "$TXN/absent.0"; fi &&
  if [ -e '/var/lib/trusted-roots/java/8b345bc120a5c4359fb068efdb91c7f3.json' ]; then cp -p '/var/lib/trusted-roots/java/8b345bc120a5c4359fb068efdb91c7f3.json' "$TXN/saved.1"; else : > "$TXN/absent.1"; fi &&
  trusted_roots_plan keystore-basis > "$TXN/original" && trusted_roots_plan keystore-digest > "$TXN/new" &&
  trusted_roots_plan manifest | base64 -d > "$TXN/manifest.planned" &&
  cat > "$TXN/rollback.new" <<'TRUSTED_ROOTS_ROLLBACK'
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
trusted_roots_step 0
( umask 077 && trusted_roots_plan password | base64 -d > "$TXN/storepass" ) || trusted_roots_fail keystore
new="$real.trusted-roots-new"
{ if [ -e "$real" ]; then cp -p "$real" "$new"; else mkdir -p "$(dirname "$real")" && : > "$new" && chmod 644 "$new"; fi &&
  trusted_roots_plan keystore | base64 -d > "$new" && mv -f "$new" "$real" && : > "$TXN/moved"; } >>"$TXN/log" 2>&1 || { rm -f "$new"; trusted_roots_fail keystore; }
trusted_roots_step 1
if [ -f '/var/lib/trusted-roots/java/8b345bc120a5c4359fb068efdb91c7f3.json' ]; then cp -p '/var/lib/trusted-roots/java/8b345bc120a5c4359fb068efdb91c7f3.json' '/var/lib/trusted-roots/java/8b345bc120a5c4359fb068efdb91c7f3.json.previous' >>"$TXN/log" 2>&1 || trusted_roots_fail manifest; fi
{ trusted_roots_plan manifest | base64 -d > '/var/lib/trusted-roots/java/8b345bc120a5c4359fb068efdb91c7f3.json.trusted-roots-new' && chmod 644 '/var/lib/trusted-roots/java/8b345bc120a5c4359fb068efdb91c7f3.json.trusted-roots-new' && mv -f '/var/lib/trusted-roots/java/8b345bc120a5c4359fb068efdb91c7f3.json.trusted-roots-new' '/var/lib/trusted-roots/java/8b345bc120a5c4359fb068efdb91c7f3.json'; } >>"$TXN/log" 2>&1 || trusted_roots_fail manifest
trusted_roots_step 2
# The JVM's own reading: the file is a keystore of its type that the password opens.
"$keytool" -list -keystore "$real" -storetype "$(trusted_roots_plan type)" -storepass:file "$TXN/storepass" >>"$TXN/log" 2>&1 || trusted_roots_fail verify
rm -f "$TXN/storepass"
: > "$TXN/committed"
echo '@@applied'
rm -rf "$TXN"
trusted_roots_observe
}
TRUSTED_ROOTS_PLAN='<data>'
trusted_roots_main </dev/null
