#!/usr/bin/env bash
# End to end: environments on real qemu through libvirt (TCG on hosts without usable KVM).
# One booted environment is shared by most checks to keep the number of boots small.
#   env.sh READY_ROOTFS_TARBALL MINBASE_ROOTFS_TARBALL
source "$(dirname "$0")/lib.sh"

ready="${1:?usage: env.sh READY_TARBALL MINBASE_TARBALL}"
minbase="${2:?usage: env.sh READY_TARBALL MINBASE_TARBALL}"
export BURROW_BOOT_TIMEOUT="${BURROW_BOOT_TIMEOUT:-600}"
cleanup() {
    for env in $("$BURROW" ls --json 2>/dev/null | python3 -c 'import json,sys; [print(e["name"]) for e in json.load(sys.stdin)]' 2>/dev/null); do
        "$BURROW" rm --force "$env" >/dev/null 2>&1
    done
    rm -rf "$BURROW_HOME"
}
trap cleanup EXIT

echo "kernel core"
check "burrow kernel fetch installs the distribution's kernel" "$BURROW" kernel fetch
check "burrow kernel ls shows it" sh -c "'$BURROW' kernel ls | grep -q amd64"

echo "create"
check "import the Debian rootfs" "$BURROW" image import debian "$ready"
# A disk bigger than the image's 8 GiB: the guest's root filesystem must fill it.
check "create an environment" "$BURROW" create dev --image debian --cpus 2 --memory 1G --disk 10G
check_fails "a second create with the same name is refused" 4 "$BURROW" create dev --image debian
check_fails "an unknown image is not found" 3 "$BURROW" create other --image nope
check_fails "an invalid name is refused" 2 "$BURROW" create Bad/Name --image debian
check "burrow ls shows it stopped" sh -c "'$BURROW' ls --json | python3 -c 'import json,sys; e=json.load(sys.stdin)[0]; assert e[\"name\"]==\"dev\" and e[\"state\"]==\"stopped\", e'"
disk_of() { "$BURROW" ls --json | python3 -c "import json,sys; print([e for e in json.load(sys.stdin) if e['name']=='$1'][0]['disk'])"; }
disk=$(disk_of dev)
digest=$(sha256sum "$ready" | cut -d' ' -f1)
check "the disk is an overlay on the shared base image" sh -c "qemu-img info '$disk' | grep -q 'backing file: $BURROW_HOME/images/$digest/base.qcow2'"
check "create copied nothing (overlay under 2 MiB)" test "$(du -k "$disk" | cut -f1)" -lt 2048

echo "exec and ssh (boots the guest)"
start=$(date +%s)
check "exec prints Debian's os-release" sh -c "'$BURROW' exec dev -- cat /etc/os-release | grep -q 'ID=debian'"
echo "       (first exec, boot included: $(( $(date +%s) - start )) s)"
check_fails "exec passes the exit status through" 7 "$BURROW" exec dev -- sh -c 'exit 7'
check "stdin streams into the command" sh -c "echo streamed | '$BURROW' exec dev -- cat | grep -qx streamed"
check "arguments keep their quoting" sh -c "test \"\$('$BURROW' exec dev -- printf '%s|' 'a b' \"c'd\")\" = \"a b|c'd|\""
check "the guest user matches the host user" sh -c "test \"\$('$BURROW' exec dev -- id -un)\" = \"\$(id -un)\""
check "the hostname is the environment's name" sh -c "test \"\$('$BURROW' exec dev -- hostname)\" = dev"
check "the root filesystem was grown to fill the 10 GiB disk" sh -c "test \"\$('$BURROW' exec dev -- df -B1M --output=size / | tail -n1)\" -gt 9500"
check "password login is off" sh -c "'$BURROW' exec dev -- sh -c 'sshd -T 2>/dev/null | grep -qx \"passwordauthentication no\" || cat /etc/ssh/sshd_config.d/burrow.conf | grep -q \"PasswordAuthentication no\"'"
check "the boot skips ACPI interrupt routing and the early loads of on-demand modules" "$BURROW" exec dev -- sh -c 'grep -q "acpi=noirq" /proc/cmdline && grep -q "cryptomgr.notests" /proc/cmdline && test "$(systemctl show -P LoadState modprobe@loop.service)" = masked'
check "sshd has the first call on the CPU while the system starts" "$BURROW" exec dev -- sh -c 'test "$(systemctl show -P StartupCPUWeight ssh.service)" = 1000'
check "generators with nothing to do are masked for this boot" "$BURROW" exec dev -- sh -c 'for g in gpt-auto hibernate-resume run cryptsetup integritysetup veritysetup rc-local system-update sysv; do test "$(readlink /run/systemd/system-generators/systemd-$g-generator)" = /dev/null || exit 1; done; test ! -e /etc/systemd/system-generators'
check "sshd skips its per-connection re-exec only under emulation" "$BURROW" exec dev -- sh -c 'if grep -qw burrow.emulated=1 /proc/cmdline; then systemctl show -P ExecStart ssh.service | grep -q "argv\[\]=/usr/sbin/sshd -r -D "; else ! systemctl show -P ExecStart ssh.service | grep -q " -r "; fi'
check "commands skip the update-motd scripts, which run once per boot" "$BURROW" exec dev -- sh -c 'grep -q "pam_motd.so  *motd=/run/motd.dynamic noupdate # burrow: made at boot" /etc/pam.d/sshd && for i in $(seq 60); do test -s /run/motd.dynamic && exit 0; sleep 1; done; exit 1'
check "an interactive login shows the login message" sh -c "echo exit | ssh -F '$("$BURROW" ssh-config --path)' -tt -o BatchMode=yes -o ControlPath=none burrow-dev 2>&1 | grep -q \"\$(uname -s) dev \""
check "kernel modules load from the modules disk (9p)" "$BURROW" exec dev -- sh -c 'modprobe 9p && grep -q 9p /proc/filesystems'
config=$("$BURROW" ssh-config --path)
check "ssh -F config burrow-dev works with strict host key checking" ssh -F "$config" -o BatchMode=yes burrow-dev true
check "ssh-config pins the host key" sh -c "grep -q 'StrictHostKeyChecking yes' '$config'"
check "the guest reaches the outside network through NAT" "$BURROW" exec dev -- sh -c 'cat < /dev/null > /dev/tcp/10.0.2.2/22 2>/dev/null || getent hosts deb.debian.org >/dev/null'
# The console's first words come from the serial getty, which starts after sshd.
check "burrow logs shows the console" sh -c "for i in \$(seq 120); do '$BURROW' logs dev | grep -qi 'linux' && exit 0; sleep 1; done; exit 1"
check "burrow ls shows it running with its port" sh -c "'$BURROW' ls | grep -E '^dev +running'"
check_fails "rm of a running env is refused" 4 "$BURROW" rm dev

echo "clone, snapshot, suspend (on the running env)"
check "write a marker in dev" "$BURROW" exec dev -- sh -c 'echo before-clone > ~/marker && sync'
check "clone dev while it runs" "$BURROW" clone dev twin
check "the clone's disk is an overlay on a shared frozen layer" sh -c "qemu-img info -U --backing-chain '$(disk_of twin 2>/dev/null || echo missing)' | grep -q 'backing file: $BURROW_HOME/disks/'"
check "the clone sees the marker" sh -c "test \"\$('$BURROW' exec twin -- cat ~/marker)\" = before-clone"
check "dev still sees it" sh -c "test \"\$('$BURROW' exec dev -- cat ~/marker)\" = before-clone"
check "a change in dev" "$BURROW" exec dev -- sh -c 'echo only-dev > ~/diverged'
check_fails "… is absent in the clone" 1 "$BURROW" exec twin -- test -e ~/diverged
check "the clone has its own hostname" sh -c "test \"\$('$BURROW' exec twin -- hostname)\" = twin"
check "… its own machine-id" sh -c "a=\$('$BURROW' exec twin -- cat /etc/machine-id) && b=\$('$BURROW' exec dev -- cat /etc/machine-id) && test -n \"\$a\" -a \"\$a\" != \"\$b\""
check "… its own pinned host key" sh -c "test -s '$BURROW_HOME/envs/twin/ssh_host_ed25519_key.pub' && ! cmp -s '$BURROW_HOME/envs/twin/ssh_host_ed25519_key.pub' '$BURROW_HOME/envs/dev/ssh_host_ed25519_key.pub'"
check "ssh burrow-twin works with strict checking" ssh -F "$("$BURROW" ssh-config --path)" -o BatchMode=yes burrow-twin true
check "rm the clone" "$BURROW" rm --force twin
check "dev keeps working on the shared layer" "$BURROW" exec dev -- cat ~/marker
check "snapshot dev while it runs" "$BURROW" snapshot dev snap1
check "snapshot ls lists it" sh -c "'$BURROW' snapshot ls dev | grep -q snap1"
check "change after the snapshot" "$BURROW" exec dev -- sh -c 'rm ~/marker; echo later > ~/after-snapshot; sync'
check "restore dev to snap1" "$BURROW" restore dev snap1
check "… the marker is back" sh -c "test \"\$('$BURROW' exec dev -- cat ~/marker)\" = before-clone"
check_fails "… the later change is gone" 1 "$BURROW" exec dev -- test -e ~/after-snapshot
check "snapshot rm" "$BURROW" snapshot rm dev snap1
pid=$("$BURROW" exec dev -- sh -c 'setsid sleep 100000 </dev/null >/dev/null 2>&1 & echo $!')
check "suspend dev" "$BURROW" suspend dev
check "ls shows it suspended" sh -c "'$BURROW' ls | grep -E '^dev +suspended'"
check "exec resumes it and a process started before is still running" "$BURROW" exec dev -- kill -0 "$pid"
check "the guest clock was corrected after resume" sh -c "test \$(( \$(date +%s) - \$('$BURROW' exec dev -- date +%s) )) -lt 30"

echo "stop and start"
check "an executable /etc/rc.local" "$BURROW" exec dev -- sh -c 'printf "#!/bin/sh\ntouch /run/rc-local-ran\n" >/etc/rc.local && chmod 755 /etc/rc.local'
check "stop shuts it down" "$BURROW" stop dev
check "ls shows it stopped" sh -c "'$BURROW' ls --json | grep -q '\"state\" : \"stopped\"'"
check "compact a stopped env" sh -c "'$BURROW' compact dev | grep -q '^Compacted dev'"
check "start boots it again" "$BURROW" start dev
check "exec after restart" sh -c "'$BURROW' exec dev -- true"
check "the rc.local generator runs once there is an rc.local, and the script with it" "$BURROW" exec dev -- sh -c 'test ! -e /run/systemd/system-generators/systemd-rc-local-generator && for i in $(seq 120); do test -e /run/rc-local-ran && exit 0; sleep 1; done; exit 1'

echo "cp"
copies=$(mktemp -d /tmp/burrow-e2e-cp.XXXXXX)
mkdir -p "$copies/tree/sub" && echo to-guest >"$copies/tree/sub/file" && echo one >"$copies/one.txt"
check "cp copies a host file into the guest" sh -c "'$BURROW' cp '$copies/one.txt' dev:/tmp/one.txt && '$BURROW' exec dev -- cat /tmp/one.txt | grep -qx one"
check "cp -r copies a folder into the guest" sh -c "'$BURROW' cp -r '$copies/tree' dev:/tmp/ && '$BURROW' exec dev -- cat /tmp/tree/sub/file | grep -qx to-guest"
check "cp copies a guest file to the host" sh -c "'$BURROW' cp dev:/etc/os-release '$copies/os-release' && grep -q '^ID=debian' '$copies/os-release'"
check_fails "cp without an ENV:PATH says how to name one" 64 "$BURROW" cp "$copies/one.txt" "$copies/two.txt"
check_fails "cp to an unknown environment is not found" 3 "$BURROW" cp "$copies/one.txt" nosuchenv:/tmp/
rm -rf "$copies"

echo "export"
exported=$(mktemp -d /tmp/burrow-e2e-export.XXXXXX)
check "write a marker" "$BURROW" exec dev -- sh -c 'echo exported-marker >/root/export-marker'
check "export of a running env writes the tarball" sh -c "'$BURROW' export dev '$exported/live.tar.zst' | grep -q '^Exported dev'"
check "… the env keeps running" sh -c "'$BURROW' ls | grep -qE '^dev +running'"
check "… and the tarball holds what the guest wrote" sh -c "zstd -dc '$exported/live.tar.zst' | tar -xOf - ./root/export-marker | grep -qx exported-marker"
check "write another marker and sync" "$BURROW" exec dev -- sh -c 'echo before-power-loss >/root/export-marker && sync'
domain=$("$BURROW" ls --json | python3 -c 'import json,sys; print([e for e in json.load(sys.stdin) if e["name"]=="dev"][0]["domain"])')
check "power it off without a shutdown (journal left to replay)" virsh -c "${BURROW_CONNECT:-qemu:///system}" destroy "$domain"
check "export of the powered-off env writes the tarball" sh -c "'$BURROW' export dev '$exported/dev.tar.zst' | grep -q '^Exported dev'"
check "… holding what the guest synced before the power loss" sh -c "zstd -dc '$exported/dev.tar.zst' | tar -xOf - ./root/export-marker | grep -qx before-power-loss"
check "… with setuid and owners kept" sh -c "zstd -dc '$exported/dev.tar.zst' | tar --numeric-owner -tvf - ./usr/bin/su | grep -q '^-rwsr-xr-x 0/0'"
check "… which GNU tar reads without a warning (UTF-8 names as they are)" sh -c "zstd -dc '$exported/dev.tar.zst' | tar -tf - 2>&1 >/dev/null | (! grep .)"
check "no partial file or scratch left" sh -c "test \"\$(ls -A '$exported' | tr '\n' ' ')\" = 'dev.tar.zst live.tar.zst ' && test -z \"\$(ls -A '$BURROW_HOME/tmp')\""
check "the tarball imports as an image" "$BURROW" image import exported "$exported/dev.tar.zst"
"$BURROW" image rm exported >/dev/null
rm -rf "$exported"
check "a powered-off env boots again" "$BURROW" start dev

echo "a second environment shares the base"
check "create another from the same image" "$BURROW" create second --image debian
check "its overlay backs onto the same base" sh -c "qemu-img info \"\$(cd / && '$BURROW' ls --json | python3 -c 'import json,sys; print([e for e in json.load(sys.stdin) if e[\"name\"]==\"second\"][0][\"disk\"])')\" | grep -q 'backing file: $BURROW_HOME/images/$digest/base.qcow2'"
check "one base image for both" test "$(ls "$BURROW_HOME/images" | wc -l)" = 1
check_fails "image rm is refused while environments use it" 4 "$BURROW" image rm debian

echo "rm"
domain=$("$BURROW" ls --json | python3 -c 'import json,sys; print([e for e in json.load(sys.stdin) if e["name"]=="dev"][0]["domain"])')
disk=$(disk_of dev)
check "rm --force removes a running env" "$BURROW" rm --force dev
check "no domain left" sh -c "! virsh -c '${BURROW_CONNECT:-qemu:///system}' dominfo '$domain' >/dev/null 2>&1"
check "no disk left" test ! -e "$BURROW_HOME/envs/dev" -a ! -e "$disk"
check "no frozen layer left behind by the clone and snapshot" test "$(ls "$BURROW_HOME/disks" | wc -l)" = 1
check "no row left" sh -c "! '$BURROW' ls --json | grep -q '\"name\" : \"dev\"'"
check_fails "commands on a removed env say not found" 3 "$BURROW" exec dev -- true
"$BURROW" rm second >/dev/null

echo "per-project environments (burrow up)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
http_get() { python3 -c "import urllib.request,sys; print(urllib.request.urlopen('http://127.0.0.1:$1/', timeout=10).read().decode().strip())"; }
# A space in the path: the workspace is mounted at the same path in the guest, through fstab.
projects=$(mktemp -d "/tmp/burrow-e2e projects.XXXXXX")
web_port=$(free_port); live_port=$(free_port)
for project in alpha beta; do
    mkdir -p "$projects/$project"
    cat >"$projects/$project/server.pl" <<'PERL'
#!/usr/bin/perl
use IO::Socket::INET;
my $server = IO::Socket::INET->new(LocalPort => 8000, Listen => 5, ReuseAddr => 1) or die "listen: $!";
while (my $client = $server->accept) { <$client>; print $client "HTTP/1.0 200 OK\r\n\r\nburrow-ok\n"; close $client; }
PERL
    chmod 755 "$projects/$project/server.pl"
    ports=""
    [ "$project" = alpha ] && ports="ports: [\"$web_port:8000\"]"
    cat >"$projects/$project/burrow.yaml" <<YAML
name: $project
image: debian
memory: 1G
$ports
env:
  GREETING: hello-$project
provision:
  - run: echo provisioned > /etc/burrow-marker
  - copy: server.pl
    to: /usr/local/bin/burrow-http
YAML
done
echo "from the host" >"$projects/alpha/host.txt"
check "burrow up creates the environment and runs both provisioning steps" sh -c "'$BURROW' up '$projects/alpha' 2>&1 | tee /tmp/burrow-e2e-up.log | grep -q '2 provisioning step(s) run, 0 cached'"
check "the workspace is mounted at the project's own path" sh -c "test \"\$('$BURROW' exec alpha -- cat '$projects/alpha/host.txt')\" = 'from the host'"
check "a file the guest writes appears on the host, owned by the host user" sh -c "'$BURROW' exec alpha -- sh -c 'echo from-guest > \"$projects/alpha/guest.txt\"' && test \"\$(stat -c %U '$projects/alpha/guest.txt')\" = \"\$(id -un)\""
check "host files appear owned by the guest user" sh -c "test \"\$('$BURROW' exec alpha -- stat -c %U '$projects/alpha/host.txt')\" = \"\$(id -un)\""
check "burrow ls shows the share driver" sh -c "'$BURROW' ls | grep -E '^alpha ' | grep -qE 'virtiofs|9p'"
check "the provisioning ran in the image" sh -c "test \"\$('$BURROW' exec alpha -- cat /etc/burrow-marker)\" = provisioned"
check "env: reaches guest sessions" sh -c "test \"\$('$BURROW' exec alpha -- sh -c 'echo \$GREETING')\" = hello-alpha"
"$BURROW" exec alpha -- sh -c 'setsid /usr/local/bin/burrow-http >/dev/null 2>&1 </dev/null &' >/dev/null
sleep 2
check "a guest HTTP server on a declared port answers on 127.0.0.1" sh -c "$(declare -f http_get); test \"\$(http_get $web_port)\" = burrow-ok"
check "port add forwards another port at once" "$BURROW" port alpha add "$live_port:8000"
check "… and it answers" sh -c "$(declare -f http_get); test \"\$(http_get $live_port)\" = burrow-ok"
check_fails "a host port already taken is a clear error" 4 "$BURROW" port alpha add "$web_port:9000"
check "port rm stops it" "$BURROW" port alpha rm "$live_port"
check "a second up on a running env returns at once" sh -c "'$BURROW' up '$projects/alpha' | grep -q 'already running'"
check "a second project with the same recipe reuses both layers" sh -c "'$BURROW' up '$projects/beta' 2>&1 | grep -q '0 provisioning step(s) run, 2 cached'"
check "… and has them" sh -c "test \"\$('$BURROW' exec beta -- cat /etc/burrow-marker)\" = provisioned"
check "burrow down stops it" sh -c "cd '$projects/beta' && '$BURROW' down && '$BURROW' ls | grep -qE '^beta +stopped'"
check "suspend with a mounted workspace, then resume" sh -c "'$BURROW' suspend alpha && test \"\$('$BURROW' exec alpha -- cat '$projects/alpha/host.txt')\" = 'from the host'"
check "image ls --layers shows the recipe's layer chain with its users" sh -c "'$BURROW' image ls --layers | grep -A2 '^debian ' | grep -q 'provisioned.*← alpha, beta'"
check "… and --json gives the chain, each layer naming its parent" sh -c "'$BURROW' image ls --layers --json | python3 -c 'import json,sys; l=[i for i in json.load(sys.stdin) if i[\"name\"]==\"debian\"][0][\"layers\"]; keys={x[\"key\"] for x in l}; top=[x for x in l if x[\"environments\"]]; assert len(l)==2 and top and sorted(top[0][\"environments\"])==[\"alpha\",\"beta\"] and top[0][\"parentKey\"] in keys, l'"
"$BURROW" rm --force alpha >/dev/null; "$BURROW" rm --force beta >/dev/null; rm -rf "$projects"
check "image prune removes the layers no environment uses" sh -c "'$BURROW' image prune | grep -q 'Removed 2 unused layer'"

echo "a docker-style minbase rootfs (no init, no sshd) becomes reachable"
check "import minbase" "$BURROW" image import minbase "$minbase"
check "it is recognised as not ready" sh -c "'$BURROW' image ls --json | python3 -c 'import json,sys; assert [i for i in json.load(sys.stdin) if i[\"name\"]==\"minbase\"][0][\"guestReady\"] is False'"
check "create provisions it once" "$BURROW" create mini --image minbase
check "exec works in it" sh -c "'$BURROW' exec mini -- cat /etc/os-release | grep -q 'ID=debian'"
check "its disk is built on a cached provisioned layer" sh -c "qemu-img info -U \"\$(cd / && '$BURROW' ls --json | python3 -c 'import json,sys; print([e for e in json.load(sys.stdin) if e[\"name\"]==\"mini\"][0][\"disk\"])')\" | grep -q '/layers/'"
check "a second env of that image reuses the layer, provisioning nothing" sh -c "out=\$('$BURROW' create mini2 --image minbase 2>&1) && ! echo \"\$out\" | grep -q installing"
check "both share one layer" test "$(ls "$BURROW_HOME/images/$(sha256sum "$minbase" | cut -d' ' -f1)/layers/" | wc -l)" = 1

summary
