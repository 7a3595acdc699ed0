#!/bin/sh
# Installs what burrow needs in an apt-based guest (Debian, Ubuntu): init, sshd, kernel-module
# tools, sudo, ip. Runs once per base image, inside the guest, as root. `init` keeps the init
# system a root already has (SysV init: Devuan, Debian's sysvinit-core) and brings systemd
# where there is none.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends init openssh-server kmod iproute2 sudo udev dbus ca-certificates
apt-get clean
rm -rf /var/lib/apt/lists/*
