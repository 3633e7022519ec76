#!/usr/bin/env bash
# PID 1 of one lab host: runs inside the host's own network, mount and PID namespaces (see labctl.sh).
# Mounts the host's root (an overlay: the lab's shared layer over the machine's /), starts sshd and nginx
# chrooted into it, and simulates reboots: SIGUSR1 = soft reboot, SIGUSR2 = hard reboot (link down first, so peers see no FIN/RST),
# SIGTERM = power off. Every boot writes a fresh boot id, bind-mounted over /proc/sys/kernel/random/boot_id.
set -u
HOST_DIR=$1
LAB_DIR=$2
HOST_NAME=$3
ROOT=$HOST_DIR/merged
DELAY=${TRL_LAB_REBOOT_DELAY:-3}
request=""
trap 'request=${request:-soft}' USR1
trap 'request=hard' USR2
trap 'request=stop' TERM INT

log() { echo "$(date +%T.%N | cut -c1-12) $HOST_NAME: $*"; }

# The lab's shared layer (store, users, sudo, power commands: labctl.sh make_layer) over the machine's /.
mount -t overlay overlay -o "lowerdir=$LAB_DIR/layer-fs/upper:/,upperdir=$HOST_DIR/upper,workdir=$HOST_DIR/work" "$ROOT" \
  || { log "cannot mount the host's root"; exit 1; }

first_boot() {
  # This host's own files: its sshd and nginx configuration, host key and server certificate.
  cp -a "$HOST_DIR/files/." "$ROOT/"
  chmod 600 "$ROOT"/etc/ssh/trl_host_ed25519_key "$ROOT"/etc/trl-lab/server.key
  touch "$HOST_DIR/initialized"
}

boot() {
  mount -t proc proc "$ROOT/proc"
  mount -t tmpfs -o mode=755,size=16m tmpfs "$ROOT/run"
  mount -t tmpfs -o mode=1777,size=64m tmpfs "$ROOT/tmp"
  mount -t tmpfs -o mode=700,size=1m tmpfs "$ROOT/root"
  mount -t tmpfs -o mode=755,size=1m tmpfs "$ROOT/dev"
  mknod -m 666 "$ROOT/dev/null" c 1 3
  mknod -m 666 "$ROOT/dev/zero" c 1 5
  mknod -m 666 "$ROOT/dev/full" c 1 7
  mknod -m 666 "$ROOT/dev/random" c 1 8
  mknod -m 666 "$ROOT/dev/urandom" c 1 9
  mknod -m 666 "$ROOT/dev/tty" c 5 0
  ln -s /proc/self/fd "$ROOT/dev/fd"
  mkdir -p "$ROOT/run/sshd" "$ROOT/root/.ssh" "$ROOT/run/trl-lab"
  chmod 755 "$ROOT/run/sshd"
  install -m 600 "$LAB_DIR/client_key.pub" "$ROOT/root/.ssh/authorized_keys"
  # Truncate in place: the bind mount follows the inode.
  cat /proc/sys/kernel/random/uuid > "$HOST_DIR/boot_id"
  mount --bind "$HOST_DIR/boot_id" "$ROOT/proc/sys/kernel/random/boot_id"
  chroot "$ROOT" /usr/sbin/sshd -D -f /etc/ssh/trl_sshd_config -E /var/log/trl-sshd.log &
  chroot "$ROOT" /usr/sbin/nginx -g 'daemon off;' &
  log "booted, boot id $(cat "$HOST_DIR/boot_id")"
}

halt() {
  kill -TERM -1 2>/dev/null
  sleep 0.2
  kill -KILL -1 2>/dev/null
  while wait -n 2>/dev/null; do :; done
  for mountpoint in proc/sys/kernel/random/boot_id proc run tmp root dev; do umount -l "$ROOT/$mountpoint" 2>/dev/null; done
}

[ -e "$HOST_DIR/initialized" ] || first_boot
boot
# Waits for a signal, not on a clock: one idle `sleep infinity` per host, whose `wait` a trapped signal
# interrupts at once (50 hosts polling every half second loaded 2 cores). halt() kills it with the rest.
sleeper=""
while :; do
  if [ -z "$sleeper" ] || ! kill -0 "$sleeper" 2>/dev/null; then
    sleep infinity &
    sleeper=$!
  fi
  wait "$sleeper" 2>/dev/null
  case $request in
    "") continue ;;
    stop) log "power off"; halt; exit 0 ;;
    hard) log "hard reboot"; ip link set eth0 down; halt; sleep "$DELAY"; ip link set eth0 up ;;
    soft) log "reboot"; halt; sleep "$DELAY" ;;
  esac
  [ "$request" = stop ] && { halt; exit 0; }
  request=""
  sleeper=""
  boot
done
