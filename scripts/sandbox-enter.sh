#!/usr/bin/env bash
# The inside of the daemon's sandbox (./jvhost --sandbox namespace|chroot, see scripts/sandbox.sh):
# run by unshare(1) in a new mount namespace (and, for namespace, as pid 1 of new pid and net
# namespaces), still root with every capability. It assembles the daemon's whole view of the file
# system on a small tmpfs, enters it and execs the rest of its command line (setpriv, java) there.
#
# The view: the shared directory read-write (with its submounts, as virtiofsd's recursive bind),
# and read-only what the JVM needs to run: /usr (the JDK lives there, and the C library and the
# dynamic linker every program needs; read-only code, no secrets), the JDK and the jvhost jars and
# AOT cache if they are elsewhere, /etc/ld.so.cache, passwd, group and nsswitch.conf (the JVM's
# user name, --socket-group), /dev/null, zero, full, random, urandom, /dev/log with --syslog, a
# read-only /proc (the daemon's descriptors as /proc/self/fd, as virtiofsd uses them), and the
# directory of the --socket-path socket, a private one the launcher links the socket out of.
# Everything sits at its host path, so that no argument needs rewriting. Nothing else of the host
# exists there: no /tmp, /home, /root, /var, /run, /sys, /etc beyond those files.
#
# namespace: pivot_root into the view and detach the old root, as virtiofsd: the host's mounts are
# gone from the namespace. chroot: chroot(8) into the view (virtiofsd's chroot mode has no
# namespaces; jvhost needs the mount namespace to put the JVM beside the shared directory without
# touching the host's mounts), no pid or net namespace; /proc then hides the processes the daemon
# could not ptrace (hidepid=invisible: every other root process, since it keeps fewer
# capabilities). Either way the launcher's setpriv then drops CAP_SYS_ADMIN and CAP_SYS_CHROOT.
#
# usage: sandbox-enter.sh MODE VIEW SHARED SOCKET_DIR PRIVATE_SOCKET_DIR SYSLOG -- COMMAND...
#   VIEW: an empty directory to mount the view on; SOCKET_DIR: where the daemon's socket is
#   (empty: none to provide); PRIVATE_SOCKET_DIR: the host directory shown there.
set -euo pipefail
# An unprivileged user's sandbox (JVHOST_SANDBOX_USERNS=1): unshare(1) made a user namespace with
# the others and kept its capabilities; the launcher writes the id maps from outside. Wait for
# them, then, as virtiofsd, become the namespace's root if uid 0 is mapped (else stay the user,
# who keeps the capabilities for the mounts below).
if [ "${JVHOST_SANDBOX_USERNS:-0}" = 1 ]; then
    for ((i = 0; i < 1000; i++)); do
        read -r gmap </proc/self/gid_map || true
        [ -n "${gmap:-}" ] && break
        sleep 0.01
    done
    [ -n "${gmap:-}" ] || { echo "error: --sandbox namespace: no id maps written" >&2; exit 1; }
    export JVHOST_SANDBOX_USERNS=mapped
    root=()
    while read -r inside _ _; do [ "$inside" = 0 ] && root+=(--reuid=0); done </proc/self/uid_map
    while read -r inside _ _; do [ "$inside" = 0 ] && root+=(--regid=0); done </proc/self/gid_map
    groups=--keep-groups
    read -r policy </proc/self/setgroups
    [ "$policy" = allow ] && groups=--clear-groups
    [ ${#root[@]} -gt 0 ] && exec setpriv "${root[@]}" "$groups" -- "$0" "$@"
fi
MODE=$1 VIEW=$2 SHARED=$3 SOCKET_DIR=$4 PRIVATE_SOCKET_DIR=$5 SYSLOG=$6
shift 6
[ "$1" = -- ] && shift

fail() {
    echo "error: --sandbox $MODE: $*" >&2
    exit 1
}

mount -t tmpfs -o mode=0755,nosuid,nodev,size=1m jvhost-sandbox "$VIEW" || fail "cannot mount a tmpfs on $VIEW"

# One mount of the view: KIND (ro, rw: a directory or a file; dev: a device node or socket),
# the host SOURCE, at the same path in the view.
MOUNTS=()
want() { MOUNTS+=("$2"$'\t'"$1"); }
readonly_tree() {
    local p
    p=$(readlink -f "$1") || return 0
    [ -e "$p" ] || return 0
    case "$p" in /usr/* | /usr) [ "$p" = /usr ] || return 0 ;; esac # inside /usr: already there
    want ro "$p"
}
readonly_tree /usr
readonly_tree "$JAVA_HOME"
IFS=: read -ra extra <<<"${JVHOST_SANDBOX_READONLY:-}"
for p in "${extra[@]}"; do readonly_tree "$p"; done
for f in /etc/ld.so.cache /etc/passwd /etc/group /etc/nsswitch.conf; do [ -f "$f" ] && want ro "$f"; done
for d in null zero full random urandom; do want dev "/dev/$d"; done
if [ "$SYSLOG" = 1 ] && [ -S /dev/log ]; then want dev "$(readlink -f /dev/log)"; fi
want rw "$SHARED"
[ -n "$SOCKET_DIR" ] && want sock "$SOCKET_DIR"

# By path: a mount point inside another mount is made after that one (the shared directory
# inside the socket's directory, say).
while IFS=$'\t' read -r path kind; do
    target=$VIEW$path
    if [ -d "$path" ] && [ "$kind" != dev ]; then
        [ -d "$target" ] || mkdir -p "$target" || fail "cannot make the mount point $target"
    else
        mkdir -p "${target%/*}" && { [ -e "$target" ] || : >"$target"; } || fail "cannot make the mount point $target"
    fi
    case $kind in
        ro)
            mount --rbind "$path" "$target" || fail "cannot bind $path"
            mount -o remount,bind,ro,nosuid,nodev "$target" || fail "cannot make $path read-only"
            ;;
        dev) mount --bind "$path" "$target" || fail "cannot bind $path" ;;
        rw) mount --rbind "$path" "$target" || fail "cannot bind the shared directory $path" ;;
        sock)
            mount --bind "$PRIVATE_SOCKET_DIR" "$target" || fail "cannot bind the socket directory"
            mount -o remount,bind,nosuid,nodev,noexec "$target"
            ;;
    esac
done < <(printf '%s\n' "${MOUNTS[@]}" | sort)
# Merged /usr: /bin, /lib, /lib64, /sbin are links into it.
for l in /bin /lib /lib64 /sbin; do [ -L "$l" ] && ln -s "$(readlink "$l")" "$VIEW$l"; done

mkdir "$VIEW/proc"
case $MODE in
    namespace)
        # This process is pid 1 of the new pid namespace: its /proc shows the daemon alone. Read-
        # write only where the daemon enters a user namespace of its own, which writes its maps
        # there (an unprivileged user without --uid-map; as virtiofsd's /proc, always read-write).
        proc=ro
        [ "${JVHOST_SANDBOX_PROC_RW:-0}" = 1 ] && proc=rw
        mount -t proc -o "$proc",nosuid,nodev,noexec proc "$VIEW/proc" || fail "cannot mount /proc"
        cd "$VIEW"
        mkdir .old-root
        pivot_root . .old-root || fail "pivot_root failed"
        cd /
        umount -l /.old-root || fail "cannot detach the old root"
        rmdir /.old-root
        # In a user namespace the tmpfs's own flags cannot be remounted; its mount's can.
        ro=remount,ro,nosuid,nodev
        [ "${JVHOST_SANDBOX_USERNS:-0}" = mapped ] && ro=remount,bind,ro,nosuid,nodev
        mount -o "$ro" / || fail "cannot make the root read-only"
        exec "$@"
        ;;
    chroot)
        mount -t proc -o ro,nosuid,nodev,noexec,hidepid=invisible proc "$VIEW/proc" || fail "cannot mount /proc"
        mount -o remount,ro,nosuid,nodev "$VIEW" || fail "cannot make the root read-only"
        exec chroot "$VIEW" /usr/bin/env --chdir=/ "$@"
        ;;
    *) fail "unknown mode" ;;
esac
