#!/usr/bin/env bash
# The lab: N real hosts on this machine, each in its own network namespace with its own sshd (pinned
# ed25519 host key), its own Debian trust store (overlay over /) and nginx requiring client certificates
# verified against that store. Needs root.
#
#   labctl.sh up N          create hosts h1..hN (tears down an old lab first); writes $LAB_DIR/hosts.json
#   labctl.sh down          stop everything, delete namespaces, bridge, guard route and files; verify
#   labctl.sh reboot H [--hard]   simulated reboot of host H (h1, h2, ...)
#   labctl.sh link H up|down      take a host's network away (a cut connection) and back
#   labctl.sh exec H CMD...       run a command inside host H as root
#   labctl.sh status
set -euo pipefail

LAB_DIR=${TRL_LAB_DIR:-/var/tmp/trusted-roots-lab}
PREFIX=${TRL_LAB_PREFIX:-trl}
SUBNET=${TRL_LAB_SUBNET:-10.213.0}
GUARD=${SUBNET%.*}.0.0/16
BRIDGE=$PREFIX-br0
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "labctl: $*" >&2; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "the lab needs root (network namespaces, overlay mounts); run as root"; }
host_ip() { echo "$SUBNET.$((10 + ${1#h}))"; }
host_mac() { printf '02:54:52:%02x:%02x:%02x' "${SUBNET##*.}" 0 "${1#h}"; }
ns_of() { echo "$PREFIX-$1"; }

check_tools() {
  local missing=()
  for tool in ip unshare chroot sshd nginx openssl ssh-keygen update-ca-certificates sudo curl; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing+=("$tool")
  done
  [ ${#missing[@]} = 0 ] || die "missing tools: ${missing[*]} (apt-get install openssh-server openssh-client nginx-light sudo curl iproute2)"
}

make_pki() {
  local pki=$LAB_DIR/pki
  mkdir -p "$pki"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/O=trusted-roots lab/CN=Lab Server CA" \
    -keyout "$pki/server-ca.key" -out "$pki/server-ca.crt" -addext basicConstraints=critical,CA:TRUE 2>/dev/null
}

make_template() {
  # Debian's shipped bundle built once from the machine's CA list, without its local CAs or hooks.
  local empty=$LAB_DIR/template/empty
  mkdir -p "$LAB_DIR/template/certs" "$empty"
  update-ca-certificates --fresh --localcertsdir "$empty" --etccertsdir "$LAB_DIR/template/certs" --hooksdir "$empty" >/dev/null 2>&1 \
    || die "update-ca-certificates could not build the lab's template store"
}

host_files() {
  local host=$1 ip dir files
  ip=$(host_ip "$host")
  dir=$LAB_DIR/hosts/$host
  files=$dir/files
  mkdir -p "$files/etc/ssh" "$files/etc/trl-lab" "$files/etc/nginx"
  ssh-keygen -q -t ed25519 -N '' -C "$host" -f "$files/etc/ssh/trl_host_ed25519_key"
  cat > "$files/etc/ssh/trl_sshd_config" <<CONF
ListenAddress $ip:22
HostKey /etc/ssh/trl_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
PidFile /run/sshd.pid
LogLevel VERBOSE
MaxStartups 200:30:400
MaxSessions 50
AuthorizedKeysFile .ssh/authorized_keys
CONF
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$host.lab" \
    -keyout "$files/etc/trl-lab/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:%s,DNS:%s.lab\nextendedKeyUsage=serverAuth\n' "$ip" "$host" > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$LAB_DIR/pki/server-ca.crt" -CAkey "$LAB_DIR/pki/server-ca.key" \
    -set_serial "$((1000 + ${host#h}))" -days 30 -extfile "$dir/server.ext" -out "$files/etc/trl-lab/server.crt" 2>/dev/null
  cat > "$files/etc/nginx/nginx.conf" <<CONF
user www-data;
worker_processes 1;
pid /run/nginx.pid;
error_log /var/log/nginx/trl-error.log;
events { worker_connections 256; }
http {
  access_log off;
  server {
    listen $ip:443 ssl;
    ssl_certificate /etc/trl-lab/server.crt;
    ssl_certificate_key /etc/trl-lab/server.key;
    ssl_client_certificate /etc/ssl/certs/ca-certificates.crt;
    ssl_verify_client on;
    ssl_verify_depth 4;
    location / { default_type text/plain; return 200 "ok \$ssl_client_s_dn\n"; }
  }
  server {
    listen $ip:80;
    location / { default_type text/plain; return 200 "$host\n"; }
  }
}
CONF
}

make_layer() {
  # What every host shares, built once per lab as an overlay layer between each host's files and the
  # machine's /: Debian's bundle as shipped, none of the machine's local CAs, no Java hook (it runs dpkg
  # triggers and a JVM on every update-ca-certificates), the lab's users, sudo rule and power commands.
  # Hosts then boot without per-host user or store set-up, so 50 come up quickly even on a loaded machine.
  # On a tmpfs of its own: overlayfs refuses a lower layer that lies inside another lower layer (the machine's /).
  local fs=$LAB_DIR/layer-fs layer=$LAB_DIR/layer-fs/upper work=$LAB_DIR/layer-fs/work merged=$LAB_DIR/layer.merged
  mkdir -p "$fs" "$merged"
  mount -t tmpfs -o mode=755,size=256m trl-lab-layer "$fs"
  mkdir -p "$layer" "$work"
  unshare --mount --propagation private bash -euo pipefail -c '
    layer=$1 work=$2 root=$3 lab=$4
    mount -t overlay overlay -o "lowerdir=/,upperdir=$layer,workdir=$work" "$root"
    rm -rf "$root"/usr/local/share/ca-certificates/* "$root"/etc/ca-certificates/update.d/*
    rm -rf "$root/etc/ssl/certs"
    cp -a "$lab/template/certs" "$root/etc/ssl/certs"
    chroot "$root" useradd -m -s /bin/sh deploy
    chroot "$root" useradd -m -s /bin/sh nosudo
    # "*" (not the default "!"): without PAM a locked password also blocks key logins.
    chroot "$root" usermod -p "*" nosudo
    echo "deploy:$(cat "$lab/deploy.password")" | chroot "$root" chpasswd
    for user in deploy nosudo; do
      install -d -m 700 -o "$(chroot "$root" id -u $user)" -g "$(chroot "$root" id -g $user)" "$root/home/$user/.ssh"
      install -m 600 -o "$(chroot "$root" id -u $user)" -g "$(chroot "$root" id -g $user)" "$lab/client_key.pub" "$root/home/$user/.ssh/authorized_keys"
    done
    mkdir -p "$root/etc/sudoers.d" "$root/usr/local/sbin"
    echo "deploy ALL=(root) NOPASSWD: ALL" > "$root/etc/sudoers.d/trl-lab"
    chmod 440 "$root/etc/sudoers.d/trl-lab"
    cat > "$root/usr/local/sbin/trl-lab-power" <<"SCRIPT"
#!/bin/sh
# systemctl/shutdown/reboot inside a lab host ask its supervisor (PID 1) for a simulated reboot.
case "$(basename "$0") $*" in
  "reboot"*|"shutdown -r"*|"systemctl reboot"*) kill -USR1 1; exit 0 ;;
  "systemctl reload nginx"|"systemctl restart nginx"|"systemctl restart -- nginx") exec nginx -s reload ;;
  "systemctl restart tomcat10") exec trl-lab-tomcat restart ;;
  *) echo "lab host: unsupported: $(basename "$0") $*" >&2; exit 1 ;;
esac
SCRIPT
    # Debian Tomcat 10, for the hosts a test gives a CATALINA_BASE in /var/lib/trl-tomcat: started and
    # stopped by its pid file, as systemd would; a restart waits for the old JVM to be gone.
    cat > "$root/usr/local/sbin/trl-lab-tomcat" <<"SCRIPT"
#!/bin/sh
export CATALINA_HOME=/usr/share/tomcat10 CATALINA_BASE=/var/lib/trl-tomcat CATALINA_PID=/run/trl-tomcat.pid
export JAVA_OPTS="-Xmx64m -XX:TieredStopAtLevel=1"
[ -d "$CATALINA_BASE/conf" ] || { echo "lab host: no Tomcat here ($CATALINA_BASE/conf is missing)" >&2; exit 1; }
stop() {
  pid=$(cat "$CATALINA_PID" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$CATALINA_PID"
}
case $1 in
  start) exec "$CATALINA_HOME/bin/catalina.sh" start ;;
  stop) stop ;;
  restart) stop; exec "$CATALINA_HOME/bin/catalina.sh" start ;;
  *) echo "usage: trl-lab-tomcat start|stop|restart" >&2; exit 2 ;;
esac
SCRIPT
    chmod 755 "$root/usr/local/sbin/trl-lab-power" "$root/usr/local/sbin/trl-lab-tomcat"
    for name in reboot shutdown systemctl; do ln -s trl-lab-power "$root/usr/local/sbin/$name"; done
    umount "$root"
  ' layer "$layer" "$work" "$merged" "$LAB_DIR" || die "could not build the lab's shared layer"
}

start_host() {
  local host=$1 ns ip dir
  ns=$(ns_of "$host"); ip=$(host_ip "$host"); dir=$LAB_DIR/hosts/$host
  mkdir -p "$dir/upper" "$dir/work" "$dir/merged"
  ip netns add "$ns"
  ip link add "$PREFIX-$host" type veth peer name eth0 netns "$ns"
  ip link set "$PREFIX-$host" master "$BRIDGE" up
  ip -n "$ns" link set eth0 address "$(host_mac "$host")"
  ip -n "$ns" addr add "$ip/24" dev eth0
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
  setsid ip netns exec "$ns" unshare --mount --pid --fork --kill-child --propagation private \
    bash "$HERE/host-init.sh" "$dir" "$LAB_DIR" "$host" >> "$dir/supervisor.log" 2>&1 < /dev/null &
  echo $! > "$dir/supervisor.pid"
}

wait_ready() {
  # Generous and scaled with the fleet: machines of this kind differ 5x in speed, and may be loaded.
  local host ip limit=$((120 + 4 * $#)) deadline
  deadline=$((SECONDS + limit))
  for host in "$@"; do
    ip=$(host_ip "$host")
    until timeout 1 bash -c "exec 3<>/dev/tcp/$ip/22 && head -c 4 <&3 | grep -q SSH" 2>/dev/null \
      && timeout 1 bash -c "exec 3<>/dev/tcp/$ip/443" 2>/dev/null; do
      kill -0 "$(cat "$LAB_DIR/hosts/$host/supervisor.pid")" 2>/dev/null \
        || die "host $host ($ip) stopped while starting: $(tail -3 "$LAB_DIR/hosts/$host/supervisor.log")"
      [ $SECONDS -lt $deadline ] || die "host $host ($ip) did not start within $limit s; see $LAB_DIR/hosts/$host/supervisor.log"
      sleep 0.2
    done
  done
}

write_inventory() {
  local count=$1 i host ip key first=1
  : > "$LAB_DIR/known_hosts"
  {
    echo "["
    for i in $(seq 1 "$count"); do
      host=h$i; ip=$(host_ip "$host")
      key=$(cut -d' ' -f1,2 "$LAB_DIR/hosts/$host/files/etc/ssh/trl_host_ed25519_key.pub")
      echo "$ip $key" >> "$LAB_DIR/known_hosts"
      [ $first = 1 ] || echo ","
      first=0
      printf '  {"name": "%s", "address": "%s", "port": 22, "hostKey": "%s", "supervisorPid": %s}' \
        "$host" "$ip" "$key" "$(cat "$LAB_DIR/hosts/$host/supervisor.pid")"
    done
    echo
    echo "]"
  } > "$LAB_DIR/hosts.json"
  cat > "$LAB_DIR/ssh_config" <<CONF
Host $SUBNET.*
  User root
  IdentityFile $LAB_DIR/client_key
  UserKnownHostsFile $LAB_DIR/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 5
CONF
}

cmd_up() {
  local count=${1:-3} i hosts=() started=$SECONDS
  need_root; check_tools
  [[ $count =~ ^[0-9]+$ ]] && [ "$count" -ge 1 ] && [ "$count" -le 200 ] || die "host count must be 1..200, got '$count'"
  cmd_down >/dev/null 2>&1 || true
  mkdir -p "$LAB_DIR/hosts"
  ssh-keygen -q -t ed25519 -N '' -C trusted-roots-lab-client -f "$LAB_DIR/client_key"
  openssl rand -hex 12 > "$LAB_DIR/deploy.password"
  make_pki
  make_template
  make_layer
  # Lab traffic stays on this machine: the guard route catches the whole range if the bridge is gone.
  ip route add unreachable "$GUARD" 2>/dev/null || true
  ip link add "$BRIDGE" type bridge
  ip link set "$BRIDGE" address "$(printf '02:54:52:%02x:00:00' "${SUBNET##*.}")"
  ip addr add "$SUBNET.1/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  for i in $(seq 1 "$count"); do hosts+=("h$i"); host_files "h$i" & done
  wait
  for host in "${hosts[@]}"; do start_host "$host"; done
  wait_ready "${hosts[@]}"
  write_inventory "$count"
  echo "lab: $count hosts up in $((SECONDS - started)) s; inventory $LAB_DIR/hosts.json"
}

lab_pids() {
  # Every process whose root directory lies inside the lab, plus the supervisors themselves.
  local pid root
  for pid in /proc/[0-9]*; do
    root=$(readlink "$pid/root" 2>/dev/null) || continue
    case $root in "$LAB_DIR"/*) echo "${pid#/proc/}" ;; esac
  done
  cat "$LAB_DIR"/hosts/*/supervisor.pid 2>/dev/null || true
}

cmd_down() {
  need_root
  local pids ns leftover
  pids=$(lab_pids | sort -u)
  [ -z "$pids" ] || kill -TERM $pids 2>/dev/null || true
  sleep 0.3
  pids=$(lab_pids | sort -u)
  for pid in $pids; do if [ -d "/proc/$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi; done
  for ns in $(ip netns list 2>/dev/null | awk -v p="$PREFIX-" 'index($1, p) == 1 { print $1 }'); do ip netns del "$ns"; done
  ip link del "$BRIDGE" 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    leftover=$(lab_pids | while read -r pid; do if [ -d "/proc/$pid" ]; then echo "$pid"; fi; done)
    [ -z "$leftover" ] && break
    sleep 0.3
  done
  [ -z "$leftover" ] || die "processes still running inside the lab: $leftover"
  umount -l "$LAB_DIR/layer-fs" 2>/dev/null || true
  rm -rf "$LAB_DIR"
  ip route del unreachable "$GUARD" 2>/dev/null || true
  [ -z "$(ip netns list | awk -v p="$PREFIX-" 'index($1, p) == 1')" ] || die "lab namespaces are left behind"
  echo "lab: down, nothing left"
}

supervisor_of() {
  local pidfile=$LAB_DIR/hosts/$1/supervisor.pid
  [ -f "$pidfile" ] || die "no lab host '$1'"
  # The supervisor is unshare's child: PID 1 inside the host.
  pgrep -P "$(cat "$pidfile")" | head -1
}

cmd_reboot() {
  local host=$1 mode=${2:-}
  need_root
  if [ "$mode" = --hard ]; then kill -USR2 "$(supervisor_of "$host")"; else kill -USR1 "$(supervisor_of "$host")"; fi
}

cmd_link() {
  need_root
  ip -n "$(ns_of "$1")" link set eth0 "$2"
}

cmd_exec() {
  local host=$1; shift
  need_root
  nsenter --target "$(supervisor_of "$host")" --mount --pid --net chroot "$LAB_DIR/hosts/$host/merged" \
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"
}

cmd_status() {
  [ -f "$LAB_DIR/hosts.json" ] && cat "$LAB_DIR/hosts.json" || echo "lab: not running"
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  reboot) shift; cmd_reboot "$@" ;;
  link) shift; cmd_link "$@" ;;
  exec) shift; cmd_exec "$@" ;;
  status) cmd_status ;;
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
