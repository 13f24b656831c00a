# The daemon's sandbox, set up by the launcher (./jvhost, sourced) before the JVM starts.
#
# Why here and not in Java: unshare(CLONE_NEWNS) fails with EINVAL in a process whose fs struct is
# shared by several threads, and a JVM has a dozen threads before main; setns into a mount
# namespace has the same rule, and a pid namespace takes a fork, which a JVM cannot do. So as for
# the privilege drop (setpriv, the stage after this one), the process is confined while it is
# still single-threaded: unshare(1) makes the namespaces, scripts/sandbox-enter.sh assembles the
# daemon's view of the file system and enters it (pivot_root or chroot), then setpriv drops the
# capabilities, and java starts inside. The daemon sees its files at their host paths, so its
# arguments need no rewriting; it is told through JVHOST_SANDBOX which sandbox it runs in (the fs
# command refuses to run with --sandbox namespace|chroot without one). The seccomp filter is the
# daemon's own (cli/SyscallFilter): it must come after the JVM has started.
#
# A --socket-path socket is made inside the sandbox in a private directory on the socket's file
# system, which the daemon sees as the socket's directory; this launcher, outside, hard-links it to
# the path asked for (a Unix socket is reached through any of its names, and across network
# namespaces) and removes that name when the daemon ends. An inherited --fd needs nothing.
#
# With a pid namespace unshare(1) stays the daemon's parent and ignores SIGTERM and SIGINT, so
# this shell stays too: it forwards SIGTERM, SIGINT and SIGHUP to the daemon and exits with its
# status; if this shell is killed, unshare gets SIGKILL (setpriv --pdeathsig) and kills the daemon
# (--kill-child).

# sandbox_plan COMMAND ARGS...: SANDBOX_MODE (none, namespace, chroot; the default is virtiofsd's
# for "virtiofsd", none for "fs"), SANDBOX_SHARED (its real path), SANDBOX_SOCKET, SANDBOX_SYSLOG
# from a daemon's command line, both virtiofsd's forms (--opt=value, --opt value, -o
# source=...,sandbox=...). A command line the daemon will refuse, or --help and the like, gets
# none: the daemon then says what is wrong. SANDBOX_UNAVAILABLE says why a sandbox asked for
# could not be made.
sandbox_plan() {
    local command=$1 mode= shared= socket= syslog=0 info=0 word
    shift
    compat() {
        local o
        IFS=, read -ra o <<<"$1"
        for word in "${o[@]}"; do
            case $word in
                source=*) shared=${word#source=} ;;
                sandbox=*) mode=${word#sandbox=} ;;
            esac
        done
    }
    while (($#)); do
        case $1 in
            --sandbox=*) mode=${1#*=} ;;
            --shared-dir=*) shared=${1#*=} ;;
            --socket-path=* | --socket=*) socket=${1#*=} ;;
            --sandbox | --shared-dir | --socket-path | --socket | -o)
                [ $# -ge 2 ] || break
                case $1 in
                    --sandbox) mode=$2 ;;
                    --shared-dir) shared=$2 ;;
                    -o) compat "$2" ;;
                    *) socket=$2 ;;
                esac
                shift
                ;;
            -o?*) compat "${1#-o}" ;;
            --syslog) syslog=1 ;;
            --print-capabilities | -h | --help | -V | --version) info=1 ;;
        esac
        shift
    done
    [ -n "$mode" ] || { [ "$command" = virtiofsd ] && mode=namespace || mode=none; }
    SANDBOX_MODE=none SANDBOX_SHARED= SANDBOX_SOCKET=$socket SANDBOX_SYSLOG=$syslog SANDBOX_UNAVAILABLE=
    case ${mode,,} in namespace | chroot) ;; *) return 0 ;; esac
    ((info == 0)) && [ -n "$shared" ] && [ -d "$shared" ] || return 0
    if [ "$(id -u)" != 0 ]; then
        SANDBOX_UNAVAILABLE="needs root (jvhost does not set up user namespaces): use --sandbox none"
        return 0
    fi
    for word in unshare pivot_root chroot mount umount; do
        command -v "$word" >/dev/null || { SANDBOX_UNAVAILABLE="needs $word (util-linux)"; return 0; }
    done
    SANDBOX_MODE=${mode,,}
    SANDBOX_SHARED=$(readlink -f "$shared")
}

# sandbox_run COMMAND...: runs COMMAND (setpriv ... java ...) in the sandbox sandbox_plan chose
# and exits with its status.
sandbox_run() {
    local work sockdir= name= inner= linked= status child forwarded=0
    if [ -n "$SANDBOX_SOCKET" ]; then
        sockdir=$(readlink -f "$(dirname "$SANDBOX_SOCKET")")
        name=$(basename "$SANDBOX_SOCKET")
        # A socket inside the shared directory is made there, in the view: nothing to link.
        case $sockdir/ in "$SANDBOX_SHARED"/*) sockdir= ;; esac
    fi
    if [ -n "$sockdir" ]; then
        work=$(mktemp -d "$sockdir/.jvhost-sandbox.XXXXXX") || exit 1
        inner=$work/socket/$name
    else
        work=$(mktemp -d "${TMPDIR:-/tmp}/jvhost-sandbox.XXXXXX") || exit 1
    fi
    mkdir "$work/view" "$work/socket"
    local ns=(--mount --propagation private)
    [ "$SANDBOX_MODE" = namespace ] && ns+=(--pid --net --fork --kill-child)
    JVHOST_SANDBOX=$SANDBOX_MODE JVHOST_SANDBOX_SHARED=$SANDBOX_SHARED \
        setpriv --pdeathsig KILL -- unshare "${ns[@]}" -- "$HERE/scripts/sandbox-enter.sh" \
        "$SANDBOX_MODE" "$work/view" "$SANDBOX_SHARED" "$sockdir" "$work/socket" "$SANDBOX_SYSLOG" -- "$@" &
    child=$!
    forward() {
        local target=$child kids
        # namespace: unshare ignores the signal; its one child is the daemon (pid 1 inside).
        if [ "$SANDBOX_MODE" = namespace ] && read -r kids <"/proc/$child/task/$child/children" 2>/dev/null; then
            target=${kids%% *}
        fi
        kill -"$1" "$target" 2>/dev/null || true
    }
    trap 'forward TERM; signalled=1' TERM
    trap 'forward INT; signalled=1' INT
    trap 'forward HUP; signalled=1' HUP
    local signalled=0
    if [ -n "$inner" ]; then
        while [ ! -S "$inner" ] && kill -0 "$child" 2>/dev/null; do sleep 0.01; done
        if [ -S "$inner" ]; then
            ln -f "$inner" "$SANDBOX_SOCKET" && linked=$(stat -c %d:%i "$SANDBOX_SOCKET")
        fi
    fi
    while :; do
        wait "$child" && status=0 || status=$?
        kill -0 "$child" 2>/dev/null || break # else a trapped signal ended the wait
        # A signal that came before the JVM handled it (pid 1 of a namespace ignores what it does
        # not handle) is sent again; after 2 s the daemon is killed.
        local i
        for ((i = 0; i < 200 && signalled; i++)); do
            kill -0 "$child" 2>/dev/null || break
            ((i % 20 == 19)) && forward TERM
            sleep 0.01
        done
        ((signalled)) && kill -0 "$child" 2>/dev/null && forward KILL
    done
    if [ -n "$linked" ] && [ "$(stat -c %d:%i "$SANDBOX_SOCKET" 2>/dev/null)" = "$linked" ]; then
        rm -f "$SANDBOX_SOCKET"
    fi
    rm -rf "$work"
    exit "$status"
}
