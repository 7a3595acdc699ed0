#!/bin/sh
# Installs NVIDIA's driver (open kernel modules, built by DKMS for the running kernel: burrow's
# kernel core) and the CUDA toolkit $BURROW_CUDA_VERSION in a dnf-based guest (Fedora, the RHEL
# family, Amazon Linux) from NVIDIA's repository. Runs once per (parent layer, kernel, CUDA
# version), as root, after common.sh.
set -eu
toolkit=$(cuda_toolkit_package)
repository=$(cuda_repository)
cuda_lift_modules_mount
installer=dnf
command -v dnf >/dev/null 2>&1 || installer=microdnf

# DKMS comes from EPEL on the RHEL family.
case $repository in
rhel*)
	major=${repository#rhel}
	"$installer" install -y epel-release ||
		"$installer" install -y "https://dl.fedoraproject.org/pub/epel/epel-release-latest-${major%%/*}.noarch.rpm"
	;;
esac
"$installer" install -y ca-certificates curl
release=$(uname -r)
if [ ! -e "/lib/modules/$release/build" ]; then
	"$installer" install -y "kernel-devel-$release" || cuda_no_headers
fi

curl -fsSL --retry 3 -o "/etc/yum.repos.d/cuda-${repository%%/*}.repo" \
	"https://developer.download.nvidia.com/compute/cuda/repos/$repository/cuda-${repository%%/*}.repo" ||
	cuda_fail "cannot download NVIDIA's repository definition for $repository"
# RHEL 8 and 9 ship the driver as module streams; elsewhere there are none to enable.
"$installer" -y module enable nvidia-driver:open-dkms >/dev/null 2>&1 || :
"$installer" install -y nvidia-open "$toolkit"
"$installer" clean all
cuda_finish
