#!/bin/sh
# Installs NVIDIA's driver (open kernel modules, built by DKMS for the running kernel: burrow's
# kernel core) and the CUDA toolkit $BURROW_CUDA_VERSION in an apt-based guest (Debian, Ubuntu)
# from NVIDIA's repository. Runs once per (parent layer, kernel, CUDA version), as root, after
# common.sh.
set -eu
export DEBIAN_FRONTEND=noninteractive

# burrow's kernel core is usually a Debian point release's or security update's kernel, whose
# headers are in the -updates and -security suites; a debootstrapped image lists only the
# release itself. Adds both, from the image's own mirror.
debian_update_suites() {
	[ "$(cuda_os_field ID)" = debian ] || return 1
	codename=$(cuda_os_field VERSION_CODENAME)
	mirror=$({
		sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list /etc/apt/sources.list.d/*.list
		sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources
	} 2>/dev/null | grep -v security | head -n 1)
	mirror=${mirror:-http://deb.debian.org/debian}
	security=http://security.debian.org/debian-security
	case $mirror in *://deb.debian.org/*) security=${mirror%/debian}/debian-security ;; esac
	{
		echo "deb $mirror $codename-updates main"
		echo "deb $security $codename-security main"
	} >/etc/apt/sources.list.d/burrow-debian-updates.list
	apt-get update -q
}

toolkit=$(cuda_toolkit_package)
repository=$(cuda_repository)
cuda_lift_modules_mount

# NVIDIA's Debian packages depend on some from Debian's contrib area.
if [ "$(cuda_os_field ID)" = debian ]; then
	for list in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$list" ] || continue
		sed -i -e '/^deb /{/ contrib/!s/ main/ main contrib/}' -e '/^Components:/{/contrib/!s/ main/ main contrib/}' "$list"
	done
fi
apt-get update -q
apt-get install -y -q --no-install-recommends ca-certificates curl
release=$(uname -r)
if [ ! -e "/lib/modules/$release/build" ]; then
	apt-get install -y -q "linux-headers-$release" ||
		{ debian_update_suites && apt-get install -y -q "linux-headers-$release"; } || cuda_no_headers
fi

curl -fsSL --retry 3 -o /tmp/cuda-keyring.deb "https://developer.download.nvidia.com/compute/cuda/repos/$repository/cuda-keyring_1.1-1_all.deb" ||
	cuda_fail "cannot download NVIDIA's repository key for $repository"
dpkg -i /tmp/cuda-keyring.deb
rm -f /tmp/cuda-keyring.deb
apt-get update -q
apt-get install -y -q nvidia-open "$toolkit"
apt-get clean
rm -rf /var/lib/apt/lists/*
cuda_finish
