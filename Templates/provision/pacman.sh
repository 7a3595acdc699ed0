#!/bin/sh
# Installs what burrow needs in an Arch guest.
set -eu
# Arch's bootstrap tarball ships its mirror list with every server commented out.
grep -q '^[[:space:]]*Server[[:space:]]*=' /etc/pacman.d/mirrorlist || sed -i 's/^#[[:space:]]*Server[[:space:]]*=/Server =/' /etc/pacman.d/mirrorlist
pacman-key --init
pacman-key --populate
pacman -Sy --noconfirm --needed systemd openssh kmod iproute2 sudo
pacman -Scc --noconfirm
systemctl enable sshd.service
