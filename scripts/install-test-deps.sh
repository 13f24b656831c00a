#!/usr/bin/env bash
# Installs what jvhost's tests need on Debian 12 (bookworm); idempotent (FORCE=1 re-downloads):
#   * QEMU 10 (qemu-system-x86) from bookworm-backports, --no-install-recommends;
#   * virtiofsd 1.13 from trixie, fetched with `apt-get download` through a private apt state
#     (trixie never enters the system's sources) and unpacked with trixie's libc into .deps/;
#   * the bookworm guest kernel behind linux-image-amd64, unpacked (not installed) into .deps/;
#   * libvirt 11.3 (libvirt-daemon-driver-qemu, libvirt-clients, libvirt-daemon) from
#     bookworm-backports, with qemu.conf set for a machine without systemd or AppArmor (QEMU runs as
#     root, security_driver "none"); the tests start virtlogd and libvirtd themselves;
#   * busybox-static, cpio and attr (setfattr/getfattr) for the guest initramfs, maven for the build.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/common.sh"
export DEBIAN_FRONTEND=noninteractive
FORCE=${FORCE:-0}
log() { echo "[install] $*" >&2; }

APT_UPDATED=0
apt_update_once() { [ $APT_UPDATED = 1 ] || { as_root apt-get update -qq; APT_UPDATED=1; }; }
have_suite() { apt-cache policy | grep -q "n=$1,"; }

# Prints the system's bookworm deb822 stanza with its suites replaced by $1 (no host spelled here).
derive_stanza() {
    local src=/etc/apt/sources.list.d/debian.sources
    [ -r "$src" ] || { log "cannot find $src to derive suite $1 from"; exit 1; }
    awk -v suites="$1" '
        BEGIN { RS = ""; FS = "\n" }
        {
            for (i = 1; i <= NF; i++)
                if ($i ~ /^Suites:/ && $i ~ /(^|[ \t])bookworm([ \t]|$)/) { found = 1 }
            if (found) {
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^#/) continue
                    if ($i ~ /^Suites:/) print "Suites: " suites; else print $i
                }
                exit
            }
        }' "$src"
}

ensure_backports() {
    have_suite bookworm-backports && return 0
    apt_update_once
    have_suite bookworm-backports && return 0
    log "adding bookworm-backports derived from the system's bookworm source"
    derive_stanza bookworm-backports | as_root tee /etc/apt/sources.list.d/jvhost-backports.sources >/dev/null
    as_root apt-get update -qq
}

LIBVIRT_QEMU_CONF=/etc/libvirt/qemu.conf
LIBVIRT_CONF_MARK="# jvhost tests:"

install_libvirt() {
    local lv
    lv=$(libvirtd --version 2>/dev/null | sed -n 's/^libvirtd (libvirt) \([0-9]*\)\..*/\1/p' || true)
    if [ "${lv:-0}" -lt 11 ] || [ "$FORCE" = 1 ]; then
        ensure_backports
        log "installing libvirt from bookworm-backports"
        as_root apt-get install -y -q --no-install-recommends -t bookworm-backports \
            libvirt-daemon-driver-qemu libvirt-clients libvirt-daemon
    fi
    if ! grep -q "^$LIBVIRT_CONF_MARK" "$LIBVIRT_QEMU_CONF"; then
        log "configuring $LIBVIRT_QEMU_CONF: QEMU as root, no security driver"
        printf '%s QEMU as root, no security driver (no systemd, no AppArmor here)\nuser = "root"\ngroup = "root"\nsecurity_driver = "none"\n' \
            "$LIBVIRT_CONF_MARK" | as_root tee -a "$LIBVIRT_QEMU_CONF" >/dev/null
    fi
}

install_host_packages() {
    local qv need=()
    qv=$("$QEMU_BIN" --version 2>/dev/null | sed -n 's/^QEMU emulator version \([0-9]*\)\..*/\1/p' || true)
    if [ "${qv:-0}" -lt 10 ] || [ "$FORCE" = 1 ]; then
        ensure_backports
        log "installing qemu-system-x86 from bookworm-backports"
        as_root apt-get install -y -q --no-install-recommends -t bookworm-backports qemu-system-x86
    fi
    # uidmap: newuidmap/newgidmap, for an unprivileged --sandbox namespace mapping more than the user's own id.
    for p in busybox-static cpio xz-utils attr maven uidmap; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
    done
    if [ ${#need[@]} -gt 0 ]; then
        apt_update_once
        log "installing ${need[*]}"
        as_root apt-get install -y -q --no-install-recommends "${need[@]}"
    fi
}

install_virtiofsd() {
    if [ "$FORCE" != 1 ] && run_virtiofsd --version >/dev/null 2>&1; then return 0; fi
    local dl
    dl=$(mktemp -d)
    mkdir -p "$dl/parts" "$dl/lists/partial"
    chmod -R 755 "$dl"
    [ "$(id -u)" = 0 ] && chown -R _apt "$dl" 2>/dev/null || true  # lets apt download sandboxed
    derive_stanza trixie >"$dl/parts/trixie.sources"
    local apt_priv=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$dl/parts"
        -o Dir::State::Lists="$dl/lists" -o Dir::Etc::Preferences=/dev/null
        -o Dir::Etc::PreferencesParts=/dev/null -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
    log "downloading virtiofsd and its trixie libraries"
    as_root apt-get "${apt_priv[@]}" update -qq
    (cd "$dl" && apt-get "${apt_priv[@]}" download -q virtiofsd libc6 libcap-ng0 libseccomp2 libgcc-s1)
    rm -rf "$VIRTIOFSD_ROOT"
    mkdir -p "$VIRTIOFSD_ROOT"
    for deb in "$dl"/*.deb; do dpkg -x "$deb" "$VIRTIOFSD_ROOT"; done
    rm -rf "$dl"
}

install_guest_kernel() {
    if [ "$FORCE" != 1 ] && guest_kernel_release >/dev/null; then return 0; fi
    apt_update_once
    local pkg dl
    pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    [ -n "$pkg" ] || { log "cannot resolve the kernel package behind linux-image-amd64"; exit 1; }
    dl=$(mktemp -d)
    chmod 755 "$dl"
    [ "$(id -u)" = 0 ] && chown _apt "$dl" 2>/dev/null || true
    log "downloading $pkg"
    (cd "$dl" && apt-get download -q "$pkg")
    rm -rf "$GUEST_KERNEL_ROOT"
    mkdir -p "$GUEST_KERNEL_ROOT"
    # Only the kernel image, its config and the virtio/fuse/hw_random modules are needed.
    dpkg-deb --fsys-tarfile "$dl"/*.deb | tar -x -C "$GUEST_KERNEL_ROOT" --wildcards \
        './boot/vmlinuz-*' './boot/config-*' \
        './lib/modules/*/kernel/drivers/virtio/*' './lib/modules/*/kernel/fs/fuse/*' \
        './lib/modules/*/kernel/drivers/char/hw_random/*'
    rm -rf "$dl"
}

install_libvirt
install_host_packages
install_virtiofsd
install_guest_kernel
log "$("$QEMU_BIN" --version | head -n 1)"
log "$(run_virtiofsd --version)"
log "guest kernel $(guest_kernel_release)"
log "$(libvirtd --version)"
