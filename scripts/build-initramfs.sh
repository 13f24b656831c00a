#!/usr/bin/env bash
# Builds the guest initramfs for jvhost's QEMU tests (cpio newc, gzip):
#   /bin/busybox (static), setfattr/getfattr with their libraries, INIT_SCRIPT as /init, the scenario scripts as /scenarios/*.sh,
#   and the kernel modules the guest needs, as /lib/modules/<name>.ko.
#
#   build-initramfs.sh [--scenarios DIR] OUT INIT_SCRIPT [EXTRA_MODULE...]
#
# --scenarios DIR  copied to /scenarios (default: the "scenarios" directory next to INIT_SCRIPT,
#                  if there is one).
# EXTRA_MODULE     CONFIG_OPTION:path/under/lib/modules/REL/kernel.ko, e.g.
#                  CONFIG_VIRTIO_BLK:drivers/block/virtio_blk.ko. Extra modules are loaded after
#                  the standard ones, in the order given (listed in /lib/modules/extra.order).
#
# Every module is checked against the guest kernel's config: =y means built in (nothing copied),
# =m copies the .ko (or unpacks .ko.xz), anything else fails. The kernel ships no modules.dep, so
# the load order of the standard modules is fixed in the guest's /init
# (testkit/src/main/resources/guest/init.sh); keep the two lists in sync.
#
# Locations come from scripts/common.sh (JVHOST_DEPS, GUEST_KERNEL_ROOT; BUSYBOX overrides the
# busybox binary). Rebuilt every time (well under a second); the Java harness caches the result.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/common.sh"

die() { echo "build-initramfs: $*" >&2; exit 1; }
usage() { die "usage: build-initramfs.sh [--scenarios DIR] OUT INIT_SCRIPT [CONFIG_X:path/to/mod.ko...]"; }

SCENARIOS=
if [ "${1:-}" = --scenarios ]; then
    [ $# -ge 2 ] || usage
    SCENARIOS=$2; shift 2
fi
[ $# -ge 2 ] || usage
OUT=$1 INIT=$2; shift 2
[ -f "$INIT" ] || die "no init script $INIT"
if [ -z "$SCENARIOS" ] && [ -d "$(dirname "$INIT")/scenarios" ]; then SCENARIOS=$(dirname "$INIT")/scenarios; fi
[ -z "$SCENARIOS" ] || [ -d "$SCENARIOS" ] || die "no scenarios directory $SCENARIOS"

HINT="run scripts/install-test-deps.sh (or point JVHOST_DEPS at a .deps directory that has it)"
REL=$(guest_kernel_release) || die "no guest kernel under $GUEST_KERNEL_ROOT; $HINT"
MODDIR=$GUEST_KERNEL_ROOT/lib/modules/$REL/kernel
CONFIG=$GUEST_KERNEL_ROOT/boot/config-$REL
[ -f "$CONFIG" ] || die "no kernel config $CONFIG; $HINT"
BUSYBOX=${BUSYBOX:-$(command -v busybox || true)}
[ -n "$BUSYBOX" ] || die "busybox (busybox-static) missing; $HINT"
# A static binary has no PT_INTERP; `file` may be absent on minimal hosts, so ask the loader.
if command -v file >/dev/null; then
    file -L "$BUSYBOX" | grep -q 'statically linked' || die "$BUSYBOX is not statically linked; install busybox-static"
fi
command -v cpio >/dev/null || die "cpio missing; $HINT"

# Standard modules, in load (dependency) order: NAME CONFIG_OPTION PATH-UNDER-KERNEL-DIR.
STANDARD="
virtio_ring           CONFIG_VIRTIO                drivers/virtio/virtio_ring.ko
virtio                CONFIG_VIRTIO                drivers/virtio/virtio.ko
virtio_pci_modern_dev CONFIG_VIRTIO_PCI_LIB        drivers/virtio/virtio_pci_modern_dev.ko
virtio_pci_legacy_dev CONFIG_VIRTIO_PCI_LIB_LEGACY drivers/virtio/virtio_pci_legacy_dev.ko
virtio_pci            CONFIG_VIRTIO_PCI            drivers/virtio/virtio_pci.ko
fuse                  CONFIG_FUSE_FS               fs/fuse/fuse.ko
virtiofs              CONFIG_VIRTIO_FS             fs/fuse/virtiofs.ko
rng-core              CONFIG_HW_RANDOM             drivers/char/hw_random/rng-core.ko
virtio-rng            CONFIG_HW_RANDOM_VIRTIO      drivers/char/hw_random/virtio-rng.ko
"

STAGE=$(mktemp -d)
TMP_OUT=
trap 'rm -rf "$STAGE" ${TMP_OUT:+"$TMP_OUT"}' EXIT
mkdir -p "$STAGE"/{bin,sbin,dev,proc,sys,mnt,tmp,etc,scenarios,lib/modules}
cp "$BUSYBOX" "$STAGE/bin/busybox"
chmod 755 "$STAGE/bin/busybox"
install -m 755 "$INIT" "$STAGE/init"

# Guest tools busybox lacks (xattrs for the file workload): the host's own binaries, each with
# the shared libraries and loader that ldd names, at the same paths (host and guest are both
# Debian x86_64, so the host's libc runs in the guest).
GUEST_TOOLS="setfattr getfattr"
copy_with_libs() {  # copy_with_libs /path/to/binary
    local bin=$1 lib
    install -D -m 755 "$bin" "$STAGE/usr/bin/$(basename "$bin")"
    for lib in $(ldd "$bin" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'); do
        [ -e "$STAGE$lib" ] || install -D -m 755 "$(readlink -f "$lib")" "$STAGE$lib"
    done
}
for tool in $GUEST_TOOLS; do
    path=$(command -v "$tool") || die "$tool missing (Debian package attr); $HINT"
    copy_with_libs "$path"
done
if [ -n "$SCENARIOS" ]; then
    for s in "$SCENARIOS"/*.sh; do [ -e "$s" ] && install -m 644 "$s" "$STAGE/scenarios/"; done
fi

SUMMARY=()
add_module() {  # add_module NAME CONFIG_OPTION RELPATH
    local name=$1 opt=$2 rel=$3 val src
    val=$(sed -n "s/^$opt=//p" "$CONFIG")
    case "$val" in
        y) SUMMARY+=("$name=builtin") ;;
        m)
            src=$MODDIR/$rel
            if [ -f "$src" ]; then cp "$src" "$STAGE/lib/modules/$name.ko"
            elif [ -f "$src.xz" ]; then xz -dc "$src.xz" >"$STAGE/lib/modules/$name.ko"
            else die "module $name ($opt=m) missing: no $src; $HINT"; fi
            SUMMARY+=("$name=module") ;;
        *) die "guest kernel $REL lacks $opt (${val:-not set}), needed for $name" ;;
    esac
}
while read -r name opt rel; do
    [ -n "$name" ] && add_module "$name" "$opt" "$rel"
done <<<"$STANDARD"
: >"$STAGE/lib/modules/extra.order"
for spec in "$@"; do
    case "$spec" in CONFIG_*:*.ko) ;; *) die "bad module spec '$spec' (want CONFIG_X:path/to/mod.ko)" ;; esac
    opt=${spec%%:*} rel=${spec#*:}
    name=$(basename "$rel" .ko)
    add_module "$name" "$opt" "$rel"
    [ -f "$STAGE/lib/modules/$name.ko" ] && echo "$name" >>"$STAGE/lib/modules/extra.order"
done
echo "$REL" >"$STAGE/etc/guest-kernel-release"

mkdir -p "$(dirname "$OUT")"
TMP_OUT=$(mktemp "$OUT.XXXXXX")
(cd "$STAGE" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet --owner=0:0) | gzip -6 >"$TMP_OUT"
mv -f "$TMP_OUT" "$OUT"
TMP_OUT=
echo "[initramfs] $OUT ($(stat -c %s "$OUT") bytes, kernel $REL; ${SUMMARY[*]}; scenarios: $(cd "$STAGE/scenarios" && ls | tr '\n' ' '))" >&2
