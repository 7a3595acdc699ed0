#!/usr/bin/env bash
# Crash safety and concurrency, no guest boots needed:
#   - SIGKILL at every step of import, create and rm (BURROW_CRASH_AT), then `doctor --fix`:
#     no orphan domain, disk, row or temp file; the target exists whole or not at all; a
#     bystander environment is untouched;
#   - 8 concurrent creates into distinct names and 4 into one name;
#   - the errors people meet, triggered for real, with their messages and exit codes.
#   crash.sh READY_ROOTFS_TARBALL
source "$(dirname "$0")/lib.sh"
tarball="${1:?usage: crash.sh READY_TARBALL}"
uri="${BURROW_CONNECT:-qemu:///system}"
work=$(mktemp -d /tmp/burrow-e2e-crash.XXXXXX)
cleanup() {
    for env in $("$BURROW" ls --json 2>/dev/null | python3 -c 'import json,sys; [print(e["name"]) for e in json.load(sys.stdin)]' 2>/dev/null); do
        "$BURROW" rm --force "$env" >/dev/null 2>&1
    done
    mountpoint -q "$work/full" && umount "$work/full"
    rm -rf "$work" "$BURROW_HOME" "/tmp/burrow-e2e-perm-$$"
}
trap cleanup EXIT
env_count() { "$BURROW" ls --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

kernel=$(ls /boot/vmlinuz-* | sort -V | tail -n1); version=${kernel#/boot/vmlinuz-}
check "kernel core from the host's kernel package files" "$BURROW" kernel import "$kernel" --modules "/lib/modules/$version"
check "import the rootfs" "$BURROW" image import debian "$tarball"
check "a bystander environment" "$BURROW" create bystander --image debian
bystander_file=$("$BURROW" ls --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["disk"])')
bystander_disk=$(sha256sum "$bystander_file" | cut -d' ' -f1)

# state_is_clean NAME: no scratch, no open journal row, and NAME either whole or absent.
state_is_clean() {
    local name="$1"
    [ -z "$(ls -A "$BURROW_HOME/tmp")" ] || { echo "scratch left: $(ls "$BURROW_HOME/tmp")"; return 1; }
    [ "$(sqlite3 "$BURROW_HOME/burrow.sqlite" 'select count(*) from operation')" = 0 ] || { echo "journal rows left"; return 1; }
    local row=0 dir=0 dom=0
    "$BURROW" ls --json | grep -q "\"name\" : \"$name\"" && row=1
    [ -d "$BURROW_HOME/envs/$name" ] && dir=1
    local domains
    domains=$(virsh -c "$uri" list --all --name 2>&1)
    grep -q -- "-$name\$" <<<"$domains" && dom=1
    if [ "$row$dir$dom" != 000 ] && [ "$row$dir$dom" != 111 ]; then
        # What each side saw, so a rare interleaving can be read from CI's log.
        echo "half-made $name: row=$row dir=$dir domain=$dom"
        echo "virsh list --all said (the par environments left out): $(grep -v -- '-par[0-9]$' <<<"$domains" | tr '\n' ' ')"
        echo "envs/$name: $(ls "$BURROW_HOME/envs/$name" 2>&1 | tr '\n' ' ')"
        return 1
    fi
    [ "$(sha256sum "$bystander_file" | cut -d' ' -f1)" = "$bystander_disk" ] || { echo "bystander changed"; return 1; }
    "$BURROW" doctor >/dev/null || { echo "doctor still finds problems:"; "$BURROW" doctor | grep PROBLEM; return 1; }
}

echo "SIGKILL inside import"
# Other bytes than the imported tarball, so the import is not a cache hit.
zstd -dc "$tarball" | gzip -1 >"$work/other.tar.gz"
for point in import.filesystem-made import.entries import.converted import.published; do
    BURROW_CRASH_AT=$point "$BURROW" image import "crashed" "$work/other.tar.gz" >/dev/null 2>&1
    code=$?
    "$BURROW" doctor --fix >/dev/null 2>&1
    check "import killed at $point (exit $code), doctor --fix leaves no half image" sh -c "
        test '$code' = 137 &&
        test -z \"\$(ls -A '$BURROW_HOME/tmp')\" &&
        test \"\$(ls '$BURROW_HOME/images' | wc -l)\" = 1 &&
        ! '$BURROW' image ls | grep -q '^crashed '"
done

echo "SIGKILL inside create"
for point in create.claimed create.disk-made create.seed-written create.defined; do
    BURROW_CRASH_AT=$point "$BURROW" create victim --image debian >/dev/null 2>&1
    code=$?
    "$BURROW" doctor --fix >/dev/null 2>&1
    check "create killed at $point (exit $code)" test "$code" = 137
    check "… no trace of the victim, bystander intact" state_is_clean victim
    check "… and the name can be used again" "$BURROW" create victim --image debian
    "$BURROW" rm victim >/dev/null
done

echo "SIGKILL inside clone"
"$BURROW" create origin --image debian >/dev/null
for point in create.claimed create.seed-written create.defined; do
    BURROW_CRASH_AT=$point "$BURROW" clone origin victim >/dev/null 2>&1
    code=$?
    "$BURROW" doctor --fix >/dev/null 2>&1
    check "clone killed at $point (exit $code)" test "$code" = 137
    check "… no trace of the clone, bystander intact" state_is_clean victim
    check "… the source still has a whole disk chain" sh -c "qemu-img check \"\$('$BURROW' ls --json | python3 -c 'import json,sys; print([e for e in json.load(sys.stdin) if e[\"name\"]==\"origin\"][0][\"disk\"])')\" >/dev/null"
done
check "a clone after the crashes works" "$BURROW" clone origin victim
"$BURROW" rm victim >/dev/null; "$BURROW" rm origin >/dev/null

echo "SIGKILL inside rm"
for point in remove.undefined remove.files-deleted; do
    "$BURROW" create victim --image debian >/dev/null
    BURROW_CRASH_AT=$point "$BURROW" rm victim >/dev/null 2>&1
    code=$?
    "$BURROW" doctor --fix >/dev/null 2>&1
    check "rm killed at $point (exit $code), doctor finishes it" sh -c "test '$code' = 137"
    check "… the victim is gone whole, bystander intact" state_is_clean victim
done
check "doctor finds nothing left to fix" "$BURROW" doctor

echo "concurrency"
for index in 1 2 3 4 5 6 7 8; do "$BURROW" create "par$index" --image debian >"$work/par$index.log" 2>&1 & done
wait
check "8 concurrent creates into distinct names all succeed" test "$(env_count)" = 9
check "… with distinct SSH ports" test "$("$BURROW" ls --json | python3 -c 'import json,sys; e=json.load(sys.stdin); print(len({x["sshPort"] for x in e}) == len(e))')" = True
for index in 1 2 3 4; do ("$BURROW" create same --image debian >"$work/same$index.log" 2>&1; echo $? >"$work/same$index.code") & done
wait
# same_name_outcome WINNERS WRONG_STATE: checks the counts of exit codes 0 and 4, printing every
# create's code and output when they are off, so a rare interleaving can be read from CI's log.
same_name_outcome() {
    [ "$(cat "$work"/same*.code | grep -c '^0$')" = "$1" ] && [ "$(cat "$work"/same*.code | grep -c '^4$')" = "$2" ] && return 0
    for index in 1 2 3 4; do echo "create $index exited $(cat "$work/same$index.code"):"; cat "$work/same$index.log"; done
    return 1
}
check "exactly one of 4 same-name creates succeeds, the others fail cleanly as wrong-state" same_name_outcome 1 3
same_is_whole() {
    local report
    report=$(state_is_clean same) && return 0
    for index in 1 2 3 4; do echo "create $index exited $(cat "$work/same$index.code"): $(cat "$work/same$index.log")"; done
    echo "$report"
    return 1
}
check "… and leave a whole environment" same_is_whole
for env in same par1 par2 par3 par4 par5 par6 par7 par8; do "$BURROW" rm "$env" >/dev/null; done

echo "locking"
"$BURROW" create locked --image debian >/dev/null && "$BURROW" create free --image debian >/dev/null
flock "$BURROW_HOME/locks/env-locked.lock" sleep 6 &
holder=$!
sleep 0.5
check_fails "a command on an environment another command holds waits, then says busy" 4 env BURROW_LOCK_TIMEOUT=1 "$BURROW" rm locked
check "… naming it" grep -q "environment 'locked' is busy" "$LAST_FAILURE_OUTPUT"
check "commands on other environments do not wait" env BURROW_LOCK_TIMEOUT=1 "$BURROW" rm free
wait "$holder"
check "once the holder is done, the command goes through" "$BURROW" rm locked
flock -s "$BURROW_HOME/locks/store.lock" sleep 4 &
holder=$!
sleep 0.5
check_fails "doctor --fix waits for a running command, then says the store is busy" 4 env BURROW_LOCK_TIMEOUT=1 "$BURROW" doctor --fix
check "… having said it waits" grep -q "waiting for other burrow commands" "$LAST_FAILURE_OUTPUT"
check "doctor without --fix reports at once" env BURROW_LOCK_TIMEOUT=1 "$BURROW" doctor
wait "$holder"
flock -x "$BURROW_HOME/locks/store.lock" sleep 4 &
holder=$!
sleep 0.5
check_fails "commands wait while doctor --fix repairs" 4 env BURROW_LOCK_TIMEOUT=1 "$BURROW" ls
wait "$holder"
check "doctor --fix goes through once nothing else runs" "$BURROW" doctor --fix

echo "errors people can act on"
check_fails "an image in use" 4 "$BURROW" image rm debian
check_fails "an unknown environment" 3 "$BURROW" start nope
mkdir -p "$work/full" && mount -t tmpfs -o size=30m tmpfs "$work/full"
check_fails "a full disk under BURROW_HOME" 1 env BURROW_HOME="$work/full/home" "$BURROW" image import debian "$tarball"
check "… says so" grep -q "no space left" "$LAST_FAILURE_OUTPUT"
check "… and leaves nothing" test -z "$(ls -A "$work/full/home/tmp")"
umount "$work/full"
check_fails "no kernel core" 3 env BURROW_HOME="$work/nokernel" sh -c "'$BURROW' image import debian '$tarball' >/dev/null && '$BURROW' create x --image debian"
check "… names the fix" grep -q "burrow kernel fetch" "$LAST_FAILURE_OUTPUT"
if [ "$uri" = qemu:///system ] && [ "$(id -u)" = 0 ]; then
    user=burrow-e2e
    id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
    check_fails "no permission on the libvirt socket" 1 runuser -u "$user" -- env BURROW_HOME="/tmp/burrow-e2e-perm-$$" "$BURROW" ls --connect qemu:///system
    check "… says how to get it" grep -q "libvirt group" "$LAST_FAILURE_OUTPUT"
    pkill -x libvirtd; sleep 1
    check_fails "libvirtd not running" 1 "$BURROW" ls
    check "… says how to start it" grep -q "libvirtd" "$LAST_FAILURE_OUTPUT"
    libvirtd -d; sleep 2
    check "… and works again once it runs" "$BURROW" ls
fi
summary
