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
  echo '@@begin observe'
  trusted_roots_observe
}
TRUSTED_ROOTS_PLAN='<data>'
trusted_roots_main </dev/null
