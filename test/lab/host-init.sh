#!/usr/bin/env bash
# PID 1 of one lab host: runs inside the host's own network, mount and PID namespaces (see labctl.sh).
# Mounts the host's root (an overlay over the machine's /), starts sshd and nginx chrooted into it, and
# simulates reboots: SIGUSR1 = soft reboot, SIGUSR2 = hard reboot (link down first, so peers see no FIN/RST),
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

mount -t overlay overlay -o "lowerdir=/,upperdir=$HOST_DIR/upper,workdir=$HOST_DIR/work" "$ROOT"

first_boot() {
  # Start every host's store from a known state: none of the machine's local CAs, no Java hook
  # (it runs dpkg triggers and a JVM on every update-ca-certificates), Debian's bundle as shipped.
  rm -rf "$ROOT"/usr/local/share/ca-certificates/* "$ROOT"/etc/ca-certificates/update.d/*
  rm -rf "$ROOT"/etc/ssl/certs
  cp -a "$LAB_DIR/template/certs" "$ROOT/etc/ssl/certs"
  cp -a "$HOST_DIR/files/." "$ROOT/"
  chmod 600 "$ROOT"/etc/ssh/trl_host_ed25519_key "$ROOT"/etc/trl-lab/server.key
  chmod 440 "$ROOT"/etc/sudoers.d/trl-lab
  chroot "$ROOT" useradd -m -s /bin/sh deploy
  chroot "$ROOT" useradd -m -s /bin/sh nosudo
  # "*" (not the default "!"): without PAM a locked password also blocks key logins.
  chroot "$ROOT" usermod -p '*' nosudo
  echo "deploy:$(cat "$LAB_DIR/deploy.password")" | chroot "$ROOT" chpasswd
  for user in deploy nosudo; do
    install -d -m 700 -o "$(chroot "$ROOT" id -u $user)" -g "$(chroot "$ROOT" id -g $user)" "$ROOT/home/$user/.ssh"
    install -m 600 -o "$(chroot "$ROOT" id -u $user)" -g "$(chroot "$ROOT" id -g $user)" "$LAB_DIR/client_key.pub" "$ROOT/home/$user/.ssh/authorized_keys"
  done
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
while :; do
  sleep 0.5 &
  wait $! 2>/dev/null
  case $request in
    "") continue ;;
    stop) log "power off"; halt; exit 0 ;;
    hard) log "hard reboot"; ip link set eth0 down; halt; sleep "$DELAY"; ip link set eth0 up ;;
    soft) log "reboot"; halt; sleep "$DELAY" ;;
  esac
  [ "$request" = stop ] && { halt; exit 0; }
  request=""
  boot
done
