#!/bin/sh
# Installs what burrow needs in an Arch guest.
set -eu
pacman-key --init
pacman-key --populate
pacman -Sy --noconfirm --needed systemd openssh kmod iproute2 sudo
pacman -Scc --noconfirm
systemctl enable sshd.service
