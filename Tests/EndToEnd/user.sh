#!/usr/bin/env bash
# End to end: burrow run by an ordinary user (qemu:///session, 9p shares, qemu as that user):
# kernel fetch, import, create with a workspace, ownership across the workspace in both
# directions; then a provisioning step that fails. One environment boot, one provisioning boot.
# Needs root to create the user (useradd) and to act as them (runuser); skipped otherwise.
#   user.sh READY_ROOTFS_TARBALL
source "$(dirname "$0")/lib.sh"

ready="${1:?usage: user.sh READY_TARBALL}"
if [ "$(id -u)" != 0 ]; then
    rm -rf "$BURROW_HOME"
    echo "user.sh: skipped: it creates an ordinary user (useradd) and runs burrow as them (runuser), which needs root"
    summary
    exit 0
fi

# A name with a dot and a capital, as hosts whose users come from a directory service have.
# A regular (not --system) user: its uid is >= 1000 and so free in the guest, like a person's.
user=Burrow.e2e-user
id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$user"
uid=$(id -u "$user")
# What a login would provide and runuser does not: the session libvirtd's socket folder.
runtime="/run/user/$uid"
mkdir -p "$runtime" && chown "$user:" "$runtime" && chmod 700 "$runtime"

work=$(mktemp -d /tmp/burrow-e2e-user.XXXXXX)
chmod 755 "$work"
# The checkout may sit where the user cannot read it (/root): burrow is installed for them in
# its installed layout, <prefix>/bin/burrow beside <prefix>/share/burrow/{Templates,Distros}.
mkdir -p "$work/prefix/bin" "$work/prefix/share/burrow"
cp "$BURROW" "$work/prefix/bin/burrow"
cp -r "$E2E_ROOT/Templates" "$E2E_ROOT/Distros" "$work/prefix/share/burrow/"
# The image already has a user of this name, with other ids and a file in its home, as a cloud
# image's "ubuntu" would: the guest must give that user the host's uid and gid, home included.
# Before it comes another user that has the host user's uid, as a container image's "ubuntu" at
# 1000 would: lookups by uid (id -un, sudo) must still find the host user.
stage="$work/stage"
mkdir -p "$stage/home/$user"
zstd -q -dc "$ready" >"$work/rootfs.tar"
tar -xf "$work/rootfs.tar" -C "$stage" ./etc/passwd ./etc/group
echo "imageuser:x:$uid:$uid::/home/imageuser:/bin/sh" >>"$stage/etc/passwd"
echo "$user:x:4242:4242::/home/$user:/bin/sh" >>"$stage/etc/passwd"
echo "$user:x:4242:" >>"$stage/etc/group"
echo notes >"$stage/home/$user/notes"
chown -R 4242:4242 "$stage/home/$user"
tar -rf "$work/rootfs.tar" -C "$stage" --numeric-owner ./etc/passwd ./etc/group "./home/$user"
zstd -q --rm "$work/rootfs.tar" -o "$work/rootfs.tar.zst"
chmod -R a+rX "$work/prefix" "$work/rootfs.tar.zst"
# Under /tmp on purpose: the guest's systemd-tmpfiles empties its own /tmp while shares mount.
workspace="$work/workspace"
mkdir -p "$workspace"
chown "$user:" "$BURROW_HOME" "$workspace"
export BURROW_BOOT_TIMEOUT="${BURROW_BOOT_TIMEOUT:-600}"

# as_user COMMAND...: runs COMMAND as the user, with the environment a login would give them
# (root's BURROW_CONNECT or XDG_RUNTIME_DIR must not leak in).
as_user() {
    (cd / && runuser -u "$user" -- env -u BURROW_CONNECT HOME="$(getent passwd "$user" | cut -d: -f6)" \
        XDG_RUNTIME_DIR="$runtime" BURROW_HOME="$BURROW_HOME" BURROW_BOOT_TIMEOUT="$BURROW_BOOT_TIMEOUT" "$@")
}
burrow() { as_user "$work/prefix/bin/burrow" "$@"; }
# This home's domains in the user's session (names are burrow-<hash of BURROW_HOME>-<env>).
session_domains() { as_user virsh -c qemu:///session list --all --name | grep -F "${domain%dev}" || true; }
cleanup() {
    for env in $(burrow ls --json 2>/dev/null | python3 -c 'import json,sys; [print(e["name"]) for e in json.load(sys.stdin)]' 2>/dev/null); do
        burrow rm --force "$env" >/dev/null 2>&1
    done
    rm -rf "$work" "$BURROW_HOME"
}
trap cleanup EXIT

# Checks, as functions so they run in this shell, as the user where they call burrow.
in_session() { session_domains | grep -qx "$domain"; }
not_in_system() { ! virsh -c qemu:///system dominfo "$domain" >/dev/null 2>&1; }
shows_9p() { burrow ls | grep -E '^dev ' | grep -q '9p (1)'; }
# shellcheck disable=SC2016 # expanded by the guest's shell
guest_user_is_user() { test "$(burrow exec dev -- sh -c 'echo $(id -un):$(id -u)')" = "$user:$uid"; }
guest_file_is_users() { burrow exec dev -- touch "$workspace/from-guest" && test "$(stat -c %U "$workspace/from-guest")" = "$user"; }
host_file_is_guests() { test "$(burrow exec dev -- stat -c %U:%s "$workspace/from-host")" = "$user:10"; }
root_file_is_users() { burrow exec dev -- sudo mkdir "$workspace/by-root" && test "$(stat -c %U "$workspace/by-root")" = "$user"; }
no_layer_left() { ! ls "$BURROW_HOME"/images/*/layers/* >/dev/null 2>&1 && ! burrow image ls --layers | grep -q provisioned; }
nothing_else_left() {
    test "$(burrow ls --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 0 &&
        test -z "$(ls -A "$BURROW_HOME/disks")$(ls -A "$BURROW_HOME/tmp")$(session_domains)"
}

echo "as $user (uid $uid), not root"
check "burrow kernel fetch works unprivileged" burrow kernel fetch
check "import the Debian rootfs" burrow image import debian "$work/rootfs.tar.zst"
check "create with the workspace mounted" burrow create dev --image debian --memory 1G --workspace "$workspace"
domain=$(burrow ls --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["domain"])' 2>/dev/null)
check "the domain is in the user's qemu:///session" in_session
check "… not in qemu:///system" not_in_system
check "burrow ls shows a 9p share" shows_9p

echo "workspace ownership (boots the guest)"
start=$(date +%s)
check "the guest user has the user's name and uid" guest_user_is_user
check "… though the image had that user with other ids: its home's files are the user's" \
    test "$(burrow exec dev -- stat -c %u:%g "/home/$user/notes")" = "$uid:$(id -g "$user")"
echo "       (first exec, boot included: $(( $(date +%s) - start )) s)"
check "qemu runs as the user" pgrep -u "$user" -f "guest=$domain"
check "a file the guest user creates belongs to the host user" guest_file_is_users
as_user sh -c "echo from-host >'$workspace/from-host'"
check "a file the host user creates appears owned by the guest user" host_file_is_guests
check "guest root can write there too; the file is the host user's" root_file_is_users
# export: the session's qemu copies the running disk (a libvirt backup job) into the user's scratch.
exported_holds_home() { zstd -dc "$workspace/dev.tar.zst" | tar --numeric-owner -tvf - "./home/$user/notes" | grep -q " $uid/"; }
check "export of the running env works unprivileged" burrow export dev "$workspace/dev.tar.zst"
check "… the tarball is the user's" sh -c "test \"\$(stat -c %U '$workspace/dev.tar.zst')\" = '$user'"
check "… with the guest's owners" exported_holds_home
check "rm --force removes it" burrow rm --force dev

echo "a failing provisioning step (boots a provisioning guest)"
project="$work/failing"
mkdir -p "$project"
# The step prints a line its own text does not contain, so only its output can match.
cat >"$project/burrow.yaml" <<'YAML'
name: failing
image: debian
memory: 1G
provision:
  - run: printf 'visible-%s-output\n' failure; exit 3
YAML
chown -R "$user:" "$project"
check_fails "burrow up fails" 1 burrow up "$project"
check "… showing the step's output" grep -q 'visible-failure-output' "$LAST_FAILURE_OUTPUT"
check "no layer is left" no_layer_left
check "no environment, disk, scratch or domain is left" nothing_else_left

summary
