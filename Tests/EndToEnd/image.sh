#!/usr/bin/env bash
# End to end: import the Debian rootfs built by Scripts/build-rootfs and check what survived
# inside the base image; cache hits; refusals that leave nothing behind; import as an ordinary user.
source "$(dirname "$0")/lib.sh"

tarball="${1:?usage: image.sh ROOTFS_TARBALL}"
work=$(mktemp -d /tmp/burrow-e2e-image.XXXXXX)
trap 'rm -rf "$work" "$BURROW_HOME"' EXIT

echo "image import ($tarball)"
check "import the Debian rootfs" "$BURROW" image import deb12 "$tarball"
digest=$("$BURROW" image ls --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["digest"])')
base="$BURROW_HOME/images/$digest/base.qcow2"
check "base image is content-addressed by the tarball's sha256" test "$digest" = "$(sha256sum "$tarball" | cut -d' ' -f1)"
check "base image is qcow2" sh -c "qemu-img info '$base' | grep -q 'file format: qcow2'"

raw="$work/base.raw"
qemu-img convert -O raw "$base" "$raw"
stat_field() { debugfs -R "stat $1" "$raw" 2>/dev/null; }
check "filesystem is clean (e2fsck)" e2fsck -fn "$raw"
check "/etc/shadow keeps group shadow (42) and mode 0640" sh -c "debugfs -R 'stat /etc/shadow' '$raw' 2>/dev/null | grep -q 'Mode:  0640' && debugfs -R 'stat /etc/shadow' '$raw' 2>/dev/null | grep -qE 'Group: +42'"
check "/usr/bin/su stays setuid root" sh -c "debugfs -R 'stat /usr/bin/su' '$raw' 2>/dev/null | grep -q 'Mode:  04755'"
check "/usr/bin/ping keeps its file capability" sh -c "debugfs -R 'ea_list /usr/bin/ping' '$raw' 2>/dev/null | grep -q 'security.capability'"
perl_inode=$(stat_field /usr/bin/perl | sed -nE 's/^Inode: ([0-9]+).*/\1/p')
versioned=$(debugfs -R 'ls /usr/bin' "$raw" 2>/dev/null | tr -s ' ' '\n' | grep -E '^perl5\.[0-9.]+$' | head -n1)
check "perl's hardlink shares one inode" test -n "$versioned" -a "$perl_inode" = "$(stat_field "/usr/bin/$versioned" | sed -nE 's/^Inode: ([0-9]+).*/\1/p')"
check "symlinks survive (/bin -> usr/bin)" sh -c "debugfs -R 'stat /bin' '$raw' 2>/dev/null | grep -q 'Fast link dest: \"usr/bin\"'"
rm -f "$raw"

echo "cache"
check "importing the same bytes again reuses the image" sh -c "'$BURROW' image import deb12-again '$tarball' | grep -q 'cached image'"
check "one base image for both names" test "$(ls "$BURROW_HOME/images" | wc -l)" = 1

echo "refusals leave nothing behind"
images_before=$(ls "$BURROW_HOME/images" | wc -l)
check_fails "a wrong --sha256 is refused" 2 "$BURROW" image import wrong "$tarball" --sha256 "$(printf '0%.0s' {1..64})"
head -c 20000000 "$tarball" >"$work/truncated.tar.zst"
check_fails "a truncated tarball is refused" 2 "$BURROW" image import truncated "$work/truncated.tar.zst"
check_fails "a missing file is reported as not found" 3 "$BURROW" image import missing "$work/nope.tar"
check "no new rows" test "$("$BURROW" image ls --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2
check "no new image folders" test "$(ls "$BURROW_HOME/images" | wc -l)" = "$images_before"
check "no scratch left" test -z "$(ls -A "$BURROW_HOME/tmp")"

echo "interruptions leave nothing behind"
"$BURROW" image import interrupted "$tarball" --sha256 "$(printf '1%.0s' {1..64})" >/dev/null 2>&1 &
pid=$!; sleep 0.7; kill -INT "$pid"; wait "$pid"; code=$?
check "Ctrl-C stops an import with exit 130" test "$code" = 130
check "no scratch left after Ctrl-C" test -z "$(ls -A "$BURROW_HOME/tmp")"
"$BURROW" image import killed "$tarball" --sha256 "$(printf '2%.0s' {1..64})" >/dev/null 2>&1 &
pid=$!; sleep 0.7; kill -KILL "$pid"; wait "$pid" 2>/dev/null
check "SIGKILL leaves a scratch folder that the next command sweeps" sh -c "'$BURROW' image ls >/dev/null && test -z \"\$(ls -A '$BURROW_HOME/tmp')\""
check "no journal row survives the sweep" test "$(sqlite3 "$BURROW_HOME/burrow.sqlite" 'select count(*) from operation' 2>/dev/null || echo 0)" = 0
check "still exactly the images imported before" test "$(ls "$BURROW_HOME/images" | wc -l)" = "$images_before"

echo "image pull from a catalog over HTTP (127.0.0.1)"
mkdir -p "$work/www" "$work/distros"
cp "$tarball" "$work/www/rootfs.tar.zst"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$work/www" "$port" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
cat >"$work/distros/local-debian.yaml" <<YAML
name: local-debian
description: the test rootfs, served locally
family: apt
release: "12"
arch:
  $(uname -m):
    url: http://127.0.0.1:$port/rootfs.tar.zst
    sha256: $(sha256sum "$tarball" | cut -d' ' -f1)
guest:
  init: systemd
  packages: [openssh-server]
YAML
sed "s/^name: local-debian/name: local-corrupt/; s/sha256: .*/sha256: $(printf 'f%.0s' {1..64})/" "$work/distros/local-debian.yaml" >"$work/distros/local-corrupt.yaml"
check "image pull --list shows the catalog" sh -c "BURROW_DISTROS='$work/distros' '$BURROW' image pull --list | grep -q local-debian"
check "a cached digest is not downloaded again" sh -c "BURROW_DISTROS='$work/distros' '$BURROW' image pull local-debian --as pulled | grep -q 'cached image'"
for name in pulled deb12 deb12-again; do "$BURROW" image rm "$name" >/dev/null; done
check "the last name's removal deletes the base image" test ! -e "$BURROW_HOME/images/$digest"
check "image pull downloads, verifies and imports" sh -c "BURROW_DISTROS='$work/distros' '$BURROW' image pull local-debian | grep -q '^Imported local-debian'"
check "the pulled image records its distro" sh -c "'$BURROW' image ls --json | grep -q '\"distro\" : \"local-debian\"'"
check_fails "a download whose sha256 differs is refused" 2 env BURROW_DISTROS="$work/distros" "$BURROW" image pull local-corrupt
check_fails "an unknown distro is not found" 3 env BURROW_DISTROS="$work/distros" "$BURROW" image pull no-such-distro
check "import from an http URL works too" "$BURROW" image import from-url "http://127.0.0.1:$port/rootfs.tar.zst"
check "no scratch left after downloads" test -z "$(ls -A "$BURROW_HOME/tmp")"
kill "$server"
base="$BURROW_HOME/images/$digest/base.qcow2"

echo "a docker save archive is imported as its stacked layers"
# The rootfs as the lower layer (zstd, as OCI allows) and an upper layer with a replaced file,
# a whiteout and an opaque directory, saved the way docker save lays them out.
python3 - "$tarball" "$work/saved.tar" <<'PY'
import hashlib, io, json, sys, tarfile
lower_bytes = open(sys.argv[1], "rb").read()
upper = io.BytesIO()
with tarfile.open(fileobj=upper, mode="w") as layer:
    def add(name, data=b""):
        info = tarfile.TarInfo(name); info.size = len(data); layer.addfile(info, io.BytesIO(data))
    add("etc/motd", b"from the upper layer\n")
    add("etc/.wh.issue.net")
    add("usr/share/doc/.wh..wh..opq")
    add("usr/share/doc/burrow-layer", b"only me\n")
upper_bytes = upper.getvalue()
upper_digest = hashlib.sha256(upper_bytes).hexdigest()
manifest = [{"Config": "config.json", "RepoTags": ["deb12:layered"], "Layers": ["lower/layer.tar", "blobs/sha256/" + upper_digest]}]
with tarfile.open(sys.argv[2], mode="w") as saved:
    for name, data in [("lower/layer.tar", lower_bytes), ("blobs/sha256/" + upper_digest, upper_bytes), ("config.json", b"{}"),
                       ("repositories", b"{}"), ("manifest.json", json.dumps(manifest).encode())]:
        info = tarfile.TarInfo(name); info.size = len(data); saved.addfile(info, io.BytesIO(data))
PY
check "the lower layer has what the upper one removes" sh -c "zstd -dc '$tarball' | tar -t | grep -q '^./etc/issue.net$' && zstd -dc '$tarball' | tar -t | grep -q '^./usr/share/doc/bash/'"
check "import the docker save archive" "$BURROW" image import layered "$work/saved.tar"
layered=$("$BURROW" image ls --json | python3 -c 'import json,sys; print([i for i in json.load(sys.stdin) if i["name"] == "layered"][0]["digest"])')
qemu-img convert -O raw "$BURROW_HOME/images/$layered/base.qcow2" "$raw"
check "the stacked filesystem is clean (e2fsck)" e2fsck -fn "$raw"
check "the upper layer's file replaced the lower one's" sh -c "debugfs -R 'cat /etc/motd' '$raw' 2>/dev/null | grep -q 'from the upper layer'"
check "a whiteout removed the lower layer's file" sh -c "! debugfs -R 'stat /etc/issue.net' '$raw' 2>/dev/null | grep -q '^Inode:'"
check "an opaque directory hides what the lower layer put there" test "$(debugfs -R 'ls -p /usr/share/doc' "$raw" 2>/dev/null | cut -d/ -f6 | grep -v '^\.*$' | tr -d '\n')" = burrow-layer
check "the lower layer's setuid binaries survive" sh -c "debugfs -R 'stat /usr/bin/su' '$raw' 2>/dev/null | grep -q 'Mode:  04755'"
check "whiteouts are not written" sh -c "! debugfs -R 'ls /etc' '$raw' 2>/dev/null | grep -q '\.wh\.'"
rm -f "$raw"
check "no scratch left after stacking" test -z "$(ls -A "$BURROW_HOME/tmp")"
"$BURROW" image rm layered >/dev/null

echo "removal"
check "image rm removes a name" "$BURROW" image rm from-url
check_fails "image rm of an unknown name is not found" 3 "$BURROW" image rm from-url
check "the shared base image stays for the other name" test -f "$base"

echo "import as an ordinary user"
user=burrow-e2e
id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
user_home="$work/user-home"
mkdir -p "$user_home" && chown "$user" "$user_home"
cp "$tarball" "$work/rootfs.tar.zst" && chmod 644 "$work/rootfs.tar.zst" && chmod 755 "$work"
check "import works without root" runuser -u "$user" -- env BURROW_HOME="$user_home/burrow" "$BURROW" image import deb12 "$work/rootfs.tar.zst"
user_base=$(ls "$user_home"/burrow/images/*/base.qcow2 2>/dev/null | head -n1)
check "the image belongs to the user" test -n "$user_base" -a "$(stat -c %U "${user_base:-/}")" = "$user"
qemu-img convert -O raw "$user_base" "$raw"
check "owners inside the user's image are still root and shadow" sh -c "debugfs -R 'stat /etc/shadow' '$raw' 2>/dev/null | grep -qE 'User: +0 +Group: +42'"
check "setuid survives an unprivileged import" sh -c "debugfs -R 'stat /usr/bin/su' '$raw' 2>/dev/null | grep -q 'Mode:  04755'"
rm -f "$raw"

summary
