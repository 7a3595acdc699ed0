#!/bin/sh
# Functions shared by burrow's CUDA install scripts. burrow sends the guest this file followed by
# the family's script (apt.sh, dnf.sh), after a line setting BURROW_CUDA_VERSION; the guest runs
# it once, as root, in a chroot of the new layer with the network up (provisioning mode).

cuda_fail() {
	echo "burrow-cuda: $*" >&2
	exit 1
}

# A field of /etc/os-release, unquoted.
cuda_os_field() {
	sed -n "s/^$1=//p" /etc/os-release | tr -d "\"'"
}

# NVIDIA's package for BURROW_CUDA_VERSION: 12.4 is cuda-toolkit-12-4, 12 is cuda-toolkit-12.
cuda_toolkit_package() {
	case ${BURROW_CUDA_VERSION:-} in
	'' | .* | *. | *..* | *[!0-9.]* | *.*.*) cuda_fail "BURROW_CUDA_VERSION must be MAJOR.MINOR or MAJOR, not '${BURROW_CUDA_VERSION:-}'" ;;
	esac
	echo "cuda-toolkit-$(echo "$BURROW_CUDA_VERSION" | tr . -)"
}

# NVIDIA's repository folder for this distribution release and machine, e.g. debian12/x86_64.
cuda_repository() {
	id=$(cuda_os_field ID)
	version=$(cuda_os_field VERSION_ID)
	case $(uname -m) in
	x86_64) machine=x86_64 ;;
	aarch64) machine=sbsa ;;
	*) cuda_fail "NVIDIA publishes no CUDA packages for $(uname -m)" ;;
	esac
	[ -n "$version" ] || cuda_fail "/etc/os-release has no VERSION_ID; NVIDIA's repositories are per release"
	case $id in
	debian) name=debian${version%%.*} ;;
	ubuntu) name=ubuntu$(echo "$version" | tr -d .) ;;
	fedora) name=fedora$version ;;
	amzn) name=amzn$version ;;
	rhel | rocky | almalinux | centos | ol) name=rhel${version%%.*} ;;
	*) cuda_fail "NVIDIA has no CUDA repository for $id $version" ;;
	esac
	echo "$name/$machine"
}

# burrow lays its kernel core's module tree read-only over /lib/modules/<release> at every
# boot. The kernel headers package and DKMS write there, so the layer is lifted for this run;
# cuda_finish moves what DKMS built to where later boots find it.
cuda_lift_modules_mount() {
	modules=/lib/modules/$(uname -r)
	if [ -d "$modules" ] && [ "$(stat -c %d "$modules")" != "$(stat -c %d /lib/modules)" ]; then
		umount "$modules" || cuda_fail "cannot lift the read-only module tree from $modules"
	fi
	mkdir -p "$modules"
}

cuda_no_headers() {
	cuda_fail "no kernel headers for $(uname -r), which DKMS needs to build the NVIDIA modules." \
		"burrow's kernel core comes from the host's distribution; its headers package (linux-headers-$(uname -r))" \
		"is installable only in a guest of that same distribution and release whose mirror still carries it." \
		"Use such an image, refresh the kernel core (burrow kernel fetch), or put the headers at /lib/modules/$(uname -r)/build."
}

cuda_gpu_present() {
	for device in /sys/bus/pci/devices/*; do
		[ -r "$device/vendor" ] || continue
		[ "$(cat "$device/vendor")" = 0x10de ] || continue
		case $(cat "$device/class") in 0x03*) return 0 ;; esac
	done
	return 1
}

# Moves the NVIDIA modules DKMS built out of the folder the read-only module tree covers, and
# tells modprobe how to load them (the tree's index cannot list them); sets PATH for CUDA's
# tools; runs nvidia-smi when a GPU is there to answer.
cuda_finish() {
	release=$(uname -r)
	store=/usr/lib/burrow/nvidia/$release
	mkdir -p "$store"
	find "/lib/modules/$release/" -type f -name 'nvidia*.ko*' -exec mv {} "$store/" \;
	set -- "$store"/nvidia*.ko*
	[ -e "$1" ] || cuda_fail "DKMS built no NVIDIA module for kernel $release (its output is above)"
	{
		echo "# Written by burrow: the NVIDIA modules built for kernel $release live in $store,"
		echo "# outside the read-only module tree burrow mounts at boot, and load through these lines."
		echo "blacklist nouveau"
		for module in "$@"; do
			name=${module##*/}
			name=$(echo "${name%%.ko*}" | tr - _)
			load=
			for dependency in $(modinfo -F depends "$module" | tr , ' '); do
				load="$load/sbin/modprobe $dependency && "
			done
			echo "install $name $load/sbin/insmod $module \$CMDLINE_OPTS"
		done
	} >/etc/modprobe.d/burrow-nvidia.conf
	# At boot DKMS would try to rebuild into the read-only tree and fail; not every dkms has the unit.
	systemctl disable dkms.service >/dev/null 2>&1 || :
	cat >/etc/profile.d/burrow-cuda.sh <<-'PROFILE'
		# Written by burrow: nvcc and CUDA's other tools.
		case ":$PATH:" in *:/usr/local/cuda/bin:*) ;; *) PATH=/usr/local/cuda/bin:$PATH ;; esac
	PROFILE
	if cuda_gpu_present; then
		modprobe nvidia
		nvidia-smi
	else
		echo "burrow-cuda: no NVIDIA GPU in this guest, so nvidia-smi was not run; it answers in environments started with --gpu"
	fi
}
