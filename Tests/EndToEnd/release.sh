#!/usr/bin/env bash
# End to end: a newer distribution release than the test host's, Debian 13 (systemd 257,
# OpenSSH 10, which splits sshd into sshd-session and generates host keys in a unit sshd is
# ordered after), with libpam-systemd: logins register with logind. Two boots.
#   release.sh TRIXIE_LOGIND_ROOTFS_TARBALL
source "$(dirname "$0")/lib.sh"

tarball="${1:?usage: release.sh TRIXIE_LOGIND_TARBALL}"
export BURROW_BOOT_TIMEOUT="${BURROW_BOOT_TIMEOUT:-600}"
cleanup() {
    "$BURROW" rm --force next >/dev/null 2>&1
    rm -rf "$BURROW_HOME"
}
trap cleanup EXIT

check "burrow kernel fetch" "$BURROW" kernel fetch
check "import the Debian 13 rootfs" "$BURROW" image import trixie "$tarball"
check "create an environment from it" "$BURROW" create next --image trixie
# sshd starts before the system bus; a login that early would get no logind session (pam_systemd
# gives up at once), and every session on the shared connection would inherit that.
check "the first login of a cold boot has its logind session and the user's systemd" "$BURROW" exec next -- sh -c '
    test -n "$XDG_SESSION_ID" && test "$XDG_RUNTIME_DIR" = "/run/user/$(id -u)" && systemctl --user show -P Version >/dev/null'
check "the user's service manager is wanted for the boot, not left for that login to start" "$BURROW" exec next -- sh -c '
    test -L "/run/systemd/system/multi-user.target.wants/user@$(id -u).service" && systemctl is-active --quiet "user@$(id -u).service"'
check "exec prints Debian 13's os-release" sh -c "'$BURROW' exec next -- cat /etc/os-release | grep -qx 'VERSION_CODENAME=trixie'"
check "ssh -F config burrow-next works with strict host key checking" ssh -F "$("$BURROW" ssh-config --path)" -o BatchMode=yes burrow-next true
check "sshd waits for logind, which the logins register with" "$BURROW" exec next -- sh -c '
    systemctl is-system-running --wait >/dev/null
    systemctl show -P After ssh.service | tr " " "\n" | grep -qx systemd-logind.service &&
    test "$(systemctl show -P ActiveEnterTimestampMonotonic ssh.service)" -gt "$(systemctl show -P ActiveEnterTimestampMonotonic systemd-logind.service)"'
check "host key generation is masked for the boot" sh -c "test \"\$('$BURROW' exec next -- systemctl show -P LoadState sshd-keygen.service)\" = masked"
check "OpenSSH 10's sshd runs without the -r it would only warn about" "$BURROW" exec next -- sh -c '
    tr "\0" " " </proc/$(systemctl show -P MainPID ssh.service)/cmdline | grep -q "sshd -D" &&
    ! tr "\0" " " </proc/$(systemctl show -P MainPID ssh.service)/cmdline | grep -q " -r"'
check "systemd 257's TPM2 generator is masked: the machine has no TPM" "$BURROW" exec next -- sh -c 'test "$(readlink /run/systemd/system-generators/systemd-tpm2-generator)" = /dev/null'
# Fedora's and openSUSE's images ship sshd disabled; burrow wants it for each boot in /run.
check "disable ssh.service in the guest" "$BURROW" exec next -- sudo -n systemctl disable --quiet ssh.service
# A cloud image's fstab names its EFI partition, a disk no burrow machine has: systemd would wait
# for it, then end the boot in emergency mode.
check "add a cloud image's /boot/efi line to the guest's fstab" "$BURROW" exec next -- sudo -n sh -c 'printf "LABEL=UEFI\t/boot/efi\tvfat\tumask=0077\t0 1\n" >>/etc/fstab'
check "take pam_systemd out of the guest's PAM stack" "$BURROW" exec next -- sudo -n env DEBIAN_FRONTEND=noninteractive pam-auth-update --disable systemd
check "stop, then exec boots it again, sshd started though disabled" sh -c "'$BURROW' stop next && '$BURROW' exec next -- true"
check "the image's choice stays: ssh.service is enabled for this boot only" sh -c "test \"\$('$BURROW' exec next -- systemctl is-enabled ssh.service)\" = enabled-runtime"
check "the boot finishes with local filesystems up, the missing disk's line commented out" "$BURROW" exec next -- sh -c '
    systemctl is-system-running --wait >/dev/null
    test "$(systemctl show -P ActiveState local-fs.target)" = active &&
    grep -q "^# burrow: this machine has no such disk: LABEL=UEFI" /etc/fstab'
# Without the mask, sshd-keygen.service (ordered before sshd, after the early boot) holds sshd
# back until basic.target.
check "with logins no longer registering, sshd is up before basic.target, key generation masked" "$BURROW" exec next -- sh -c '
    systemctl is-system-running --wait >/dev/null
    ! systemctl show -P After ssh.service | tr " " "\n" | grep -qx systemd-logind.service &&
    test "$(systemctl show -P LoadState sshd-keygen.service)" = masked &&
    test "$(systemctl show -P ActiveEnterTimestampMonotonic ssh.service)" -lt "$(systemctl show -P ActiveEnterTimestampMonotonic basic.target)"'
check "rm removes it" "$BURROW" rm --force next
check "no domain is left" sh -c "! virsh -c qemu:///system list --all --name | grep -q -- '-next\$'"

summary
