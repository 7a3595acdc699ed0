#!/usr/bin/env bash
# End to end: a guest whose init is not systemd, SysV init (as in Devuan or Slackware): it is
# taken as ready (no provisioning, the image's init kept), boots, is reachable over SSH, and
# mounts a workspace under /tmp (a path with a space), which SysV init empties before it mounts.
# Two boots.
#   init.sh SYSVINIT_ROOTFS_TARBALL
source "$(dirname "$0")/lib.sh"

tarball="${1:?usage: init.sh SYSVINIT_TARBALL}"
export BURROW_BOOT_TIMEOUT="${BURROW_BOOT_TIMEOUT:-600}"
workspace=$(mktemp -d "/tmp/burrow-e2e sysv workspace.XXXXXX")
cleanup() {
    "$BURROW" rm --force classic >/dev/null 2>&1
    rm -rf "$BURROW_HOME" "$workspace"
}
trap cleanup EXIT
echo "from the host" >"$workspace/host-file"

check "burrow kernel fetch" "$BURROW" kernel fetch
check "import the SysV init rootfs" "$BURROW" image import sysv "$tarball"
check "it is ready as it is: its init counts, nothing is provisioned" sh -c "'$BURROW' image ls --json | python3 -c 'import json,sys; i=json.load(sys.stdin)[0]; assert i[\"guestReady\"] is True, i'"
check "create an environment with a workspace under /tmp" "$BURROW" create classic --image sysv --workspace "$workspace"
disk=$("$BURROW" ls --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["disk"])')
check "its disk sits on the image itself, no provisioned layer between" sh -c "qemu-img info '$disk' | grep -q 'backing file: $BURROW_HOME/images/$(sha256sum "$tarball" | cut -d' ' -f1)/base.qcow2'"
check "exec runs in it, with SysV init as PID 1" sh -c "test \"\$('$BURROW' exec classic -- cat /proc/1/comm)\" = init"
check "systemd is nowhere in the guest" "$BURROW" exec classic -- sh -c '! test -e /lib/systemd/systemd && ! test -e /usr/lib/systemd/systemd'
check "ssh -F config burrow-classic works with strict host key checking" ssh -F "$("$BURROW" ssh-config --path)" -o BatchMode=yes burrow-classic true
check "the guest user matches the host user, with passwordless sudo" sh -c "test \"\$('$BURROW' exec classic -- sh -c 'id -un; sudo -n id -un')\" = \"\$(id -un)
root\""
check "the workspace is mounted though the boot emptied /tmp first" sh -c "test \"\$('$BURROW' exec classic -- cat '$workspace/host-file')\" = 'from the host'"
check "a file the guest writes there appears on the host, owned by the host user" sh -c "
    '$BURROW' exec classic -- sh -c 'echo from the guest >\"$workspace/guest-file\"' &&
    test \"\$(cat '$workspace/guest-file')\" = 'from the guest' && test \"\$(stat -c %u '$workspace/guest-file')\" = \"\$(id -u)\""
check "stop shuts it down cleanly" "$BURROW" stop classic
check "the next exec boots it again, the workspace mounted again" sh -c "test \"\$('$BURROW' exec classic -- cat '$workspace/guest-file')\" = 'from the guest'"
check "rm removes it" "$BURROW" rm --force classic
check "no domain is left" sh -c "! virsh -c qemu:///system list --all --name | grep -q -- '-classic\$'"

summary
