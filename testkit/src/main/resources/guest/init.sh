#!/bin/busybox sh
# /init of jvhost's test guests (busybox sh, PID 1). Common prologue, then one scenario:
#   1. mounts proc, sysfs, devtmpfs; installs busybox applets;
#   2. loads the kernel modules in dependency order (only those the initramfs carries, i.e. the
#      ones the guest kernel builds as =m; scripts/build-initramfs.sh copies them);
#   3. prints "GUEST READY up=<uptime> scenario=<name> kernel=<release>";
#   4. sources /scenarios/<scenario>.sh (kernel command line "scenario=<name>");
#   5. powers off (QEMU exits) when the scenario returns, or right away if it is missing.
# Scenarios may use the helpers below: arg, uptime_s, mount_virtiofs, guest_poweroff.
/bin/busybox mkdir -p /bin /sbin /proc /sys /dev /mnt /tmp
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

# arg NAME [DEFAULT]: value of NAME=... on the kernel command line (no spaces in values).
arg() {
    for _w in $(cat /proc/cmdline); do
        case "$_w" in "$1="*) echo "${_w#*=}"; return 0 ;; esac
    done
    echo "${2:-}"
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }
# guest_poweroff: flush, give the UART a moment to drain the last lines, power off (QEMU exits).
guest_poweroff() {
    sync
    sleep 0.2
    poweroff -f
    sleep 5
}
# mount_virtiofs TAG DIR [TRIES]: mounts a virtio-fs tag, retrying every 0.1 s (the device may
# still be probing). Returns non-zero after TRIES (default 50) failures.
mount_virtiofs() {
    _n=0
    until mount -t virtiofs "$1" "$2" 2>/tmp/mount.err; do
        _n=$((_n + 1))
        [ "$_n" -ge "${3:-50}" ] && return 1
        sleep 0.1
    done
}

# Fixed load order: keep in sync with STANDARD in scripts/build-initramfs.sh. rng-core is built
# in (CONFIG_HW_RANDOM=y) on the Debian kernel, so its .ko is usually absent.
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci fuse virtiofs \
         rng-core virtio-rng $(cat /lib/modules/extra.order 2>/dev/null); do
    [ -f "/lib/modules/$m.ko" ] || continue
    insmod "/lib/modules/$m.ko" || echo "GUEST INSMOD-FAILED $m"
done

SCENARIO=$(arg scenario)
echo "GUEST READY up=$(uptime_s) scenario=${SCENARIO:-none} kernel=$(uname -r)"
if [ -z "$SCENARIO" ]; then
    echo "GUEST NO-SCENARIO (pass scenario=<name> on the kernel command line)"
elif [ -f "/scenarios/$SCENARIO.sh" ]; then
    . "/scenarios/$SCENARIO.sh"
else
    echo "GUEST UNKNOWN-SCENARIO $SCENARIO (have: $(cd /scenarios && ls | tr '\n' ' '))"
fi
echo "GUEST POWEROFF up=$(uptime_s)"
guest_poweroff
