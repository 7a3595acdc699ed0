#!/bin/sh
# Installs what burrow needs in an apt-based guest (Debian, Ubuntu): init, sshd, kernel-module
# tools, sudo, ip. Runs once per base image, inside the guest, as root.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends systemd-sysv openssh-server kmod iproute2 sudo udev dbus ca-certificates
apt-get clean
rm -rf /var/lib/apt/lists/*
