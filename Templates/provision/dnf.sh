#!/bin/sh
# Installs what burrow needs in a dnf-based guest (Fedora, RHEL family).
set -eu
installer=dnf
command -v dnf >/dev/null 2>&1 || installer=microdnf
"$installer" install -y systemd openssh-server kmod iproute sudo
"$installer" clean all
systemctl enable sshd.service
