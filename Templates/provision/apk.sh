#!/bin/sh
# Installs what burrow needs in an Alpine guest: OpenRC as init, sshd, kmod, sudo, and resize2fs
# (e2fsprogs-extra), which grows the root filesystem onto a disk made bigger than the image.
set -eu
apk add --no-cache openrc openssh kmod iproute2 sudo busybox-openrc e2fsprogs-extra
rc-update add sshd default
# burrow's initramfs configures the network before OpenRC runs: sshd's need of net is met.
echo 'rc_provide="loopback net"' >>/etc/rc.conf
rc-update add devfs sysinit
rc-update add procfs boot
rc-update add sysfs boot
# Shared folders are /etc/fstab lines; a minirootfs has no service in any runlevel to mount them.
rc-update add localmount boot
# burrow's initramfs installs the environment's own host key at every boot and removes the rest;
# without this, sshd's start would generate RSA and ECDSA keys again at every boot.
echo 'sshd_disable_keygen="yes"' >>/etc/conf.d/sshd
