# Shared locations for jvhost's test-environment scripts (sourced, not executed).
# Everything lives under the repository's .deps/ (git-ignored) unless overridden.
REPO_ROOT=${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
JVHOST_DEPS=${JVHOST_DEPS:-$REPO_ROOT/.deps}
# virtiofsd 1.13 (Debian trixie) unpacked with trixie's libc beside it; the host libc is untouched.
VIRTIOFSD_ROOT=${VIRTIOFSD_ROOT:-$JVHOST_DEPS/virtiofsd-root}
# Debian bookworm guest kernel + the virtio/fuse/hwrng modules, unpacked, not installed.
GUEST_KERNEL_ROOT=${GUEST_KERNEL_ROOT:-$JVHOST_DEPS/guest-kernel}
QEMU_BIN=${QEMU_BIN:-qemu-system-x86_64}

# trixie is merged-/usr: its loader is usr/lib64/ld-linux-x86-64.so.2, libraries in usr/lib/.
VIRTIOFSD_ARGV=("$VIRTIOFSD_ROOT/usr/lib64/ld-linux-x86-64.so.2"
    --library-path "$VIRTIOFSD_ROOT/usr/lib/x86_64-linux-gnu"
    "$VIRTIOFSD_ROOT/usr/libexec/virtiofsd")
run_virtiofsd() { "${VIRTIOFSD_ARGV[@]}" "$@"; }

guest_kernel_release() {
    local k
    k=$(ls "$GUEST_KERNEL_ROOT"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
    [ -n "$k" ] || return 1
    basename "$k" | sed 's/^vmlinuz-//'
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Finds a JDK 25 (JAVA_HOME if it is one, else under /usr/lib/jvm); prints its home and sets JDK25
# to it (for a caller that would rather not fork a subshell to read it).
find_jdk25() {
    local c
    for c in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25* /usr/lib/jvm/java-25* /usr/lib/jvm/jdk-25*; do
        [ -n "$c" ] && [ -x "$c/bin/javac" ] || continue
        # The release file says which JDK this is without starting it (a JVM start costs ~50 ms).
        if [ -f "$c/release" ]; then
            local line
            while IFS= read -r line; do [[ $line == 'JAVA_VERSION="25'* ]] && { JDK25=$c; echo "$c"; return 0; }; done <"$c/release"
        else
            "$c/bin/java" -version 2>&1 | grep -q 'version "25' && { JDK25=$c; echo "$c"; return 0; }
        fi
    done
    return 1
}
