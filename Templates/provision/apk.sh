#!/bin/sh
# Installs what burrow needs in an Alpine guest: OpenRC as init, sshd, kmod, sudo.
set -eu
apk add --no-cache openrc openssh kmod iproute2 sudo busybox-openrc
rc-update add sshd default
rc-update add devfs sysinit
rc-update add procfs boot
rc-update add sysfs boot
