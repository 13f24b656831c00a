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
    local -a uidmaps=() gidmaps=()
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
            --uid-map=*) uidmaps+=("${1#*=}") ;;
            --gid-map=*) gidmaps+=("${1#*=}") ;;
            --sandbox | --shared-dir | --socket-path | --socket | -o | --uid-map | --gid-map)
                [ $# -ge 2 ] || break
                case $1 in
                    --sandbox) mode=$2 ;;
                    --shared-dir) shared=$2 ;;
                    -o) compat "$2" ;;
                    --uid-map) uidmaps+=("$2") ;;
                    --gid-map) gidmaps+=("$2") ;;
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
    SANDBOX_USERNS=0 SANDBOX_UID_MAP=() SANDBOX_GID_MAP=() SANDBOX_INNER_UID= SANDBOX_INNER_GID=
    case ${mode,,} in namespace | chroot) ;; *) return 0 ;; esac
    ((info == 0)) && [ -n "$shared" ] && [ -d "$shared" ] || return 0
    if [ "$(id -u)" != 0 ]; then
        # virtiofsd's rules for an unprivileged user: namespace adds a user namespace, chroot is refused.
        if [ "${mode,,}" = chroot ]; then
            SANDBOX_UNAVAILABLE="sandbox mode 'chroot' can only be used by root (use '--sandbox namespace' instead)"
            return 0
        fi
        # A map the daemon will refuse (its syntax checked there) gets no sandbox: the daemon says why.
        sandbox_id_maps SANDBOX_UID_MAP "${uidmaps[@]}" && sandbox_id_maps SANDBOX_GID_MAP "${gidmaps[@]}" || return 0
        # The sandbox is set up by the namespace's root (umount(8) refuses anyone else), so uid 0
        # must be mapped. Without --uid-map (virtiofsd: the user's uid mapped to itself) it is the
        # user, and the daemon then runs in a second user namespace that maps the user back to its
        # own uid (the launcher's PRIVILEGES), so the host sees the map virtiofsd makes.
        SANDBOX_INNER_UID= SANDBOX_INNER_GID=
        if ((${#SANDBOX_UID_MAP[@]} == 0)); then
            SANDBOX_UID_MAP=("0 $(id -u) 1") SANDBOX_INNER_UID=$(id -u)
        elif ! printf '%s\n' "${SANDBOX_UID_MAP[@]}" | grep -q '^0 '; then
            SANDBOX_UNAVAILABLE="--uid-map: jvhost needs uid 0 of the namespace mapped (it sets the sandbox up as that root), e.g. :0:$(id -u):1:"
            return 0
        fi
        if ((${#SANDBOX_GID_MAP[@]} == 0)); then
            SANDBOX_GID_MAP=("0 $(id -g) 1") SANDBOX_INNER_GID=$(id -g)
        elif [ -n "$SANDBOX_INNER_UID" ] && printf '%s\n' "${SANDBOX_GID_MAP[@]}" | grep -q '^0 '; then
            SANDBOX_INNER_GID=0
        fi
        SANDBOX_USERNS=1
        if sandbox_needs_helper "$(id -u)" "${SANDBOX_UID_MAP[@]}" && ! command -v newuidmap >/dev/null; then
            SANDBOX_UNAVAILABLE="--uid-map: mapping more than the user's own uid needs newuidmap (package uidmap)"
            return 0
        fi
        if sandbox_needs_helper "$(id -g)" "${SANDBOX_GID_MAP[@]}" && ! command -v newgidmap >/dev/null; then
            SANDBOX_UNAVAILABLE="--gid-map: mapping more than the user's own gid needs newgidmap (package uidmap)"
            return 0
        fi
    fi
    for word in unshare pivot_root chroot mount umount; do
        command -v "$word" >/dev/null || { SANDBOX_UNAVAILABLE="needs $word (util-linux)"; return 0; }
    done
    SANDBOX_MODE=${mode,,}
    SANDBOX_SHARED=$(readlink -f "$shared")
}

# sandbox_id_maps VAR MAP...: sets the array VAR to the "inside outside count" of each
# virtiofsd-style --uid-map/--gid-map ":inside:outside:count:" (any non-alphanumeric delimiter,
# the same at both ends and between); fails on one that is not so (the daemon then says why).
sandbox_id_maps() {
    local -n into=$1
    local m d rest a b c
    shift
    into=()
    for m in "$@"; do
        d=${m: -1}
        [[ -n $m && ! $d =~ [[:alnum:]] && ${m:0:1} == "$d" ]] || return 1
        rest=${m:1:${#m}-2}
        IFS=$d read -r a b c extra <<<"$rest"
        [[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ && $c =~ ^[0-9]+$ && -z ${extra:-} ]] || return 1
        into+=("$a $b $c")
    done
}

# sandbox_needs_helper ID MAP...: whether the maps need the setuid helper (newuidmap/newgidmap):
# anything but a single map of the caller's own ID (count 1), as virtiofsd decides.
sandbox_needs_helper() {
    local id=$1 a b c
    shift
    (($# == 0)) && return 1
    (($# == 1)) || return 0
    read -r a b c <<<"$1"
    [ "$b" != "$id" ] || ((c > 1))
}

# sandbox_map_ids PID: writes the uid and gid maps of the user namespace PID (unshare) made, from
# outside it, as virtiofsd: the user's own id alone directly, with
# setgroups denied (the kernel's rule for an unprivileged map of gids); anything more through
# newuidmap/newgidmap, which check /etc/subuid and /etc/subgid.
sandbox_map_ids() {
    local pid=$1 uid gid out
    local -a um=("${SANDBOX_UID_MAP[@]}") gm=("${SANDBOX_GID_MAP[@]}")
    uid=$(id -u) gid=$(id -g)
    if sandbox_needs_helper "$uid" "${um[@]}"; then
        # shellcheck disable=SC2068 # each map is three words
        out=$(newuidmap "$pid" ${um[@]} 2>&1) || { echo "error: --uid-map: write to uid map failed: $out" >&2; return 1; }
    else
        out=$( { echo "${um[0]% *} 1" >"/proc/$pid/uid_map"; } 2>&1) ||
            { echo "error: --uid-map: write to uid map failed: $out" >&2; return 1; }
    fi
    if sandbox_needs_helper "$gid" "${gm[@]}"; then
        # shellcheck disable=SC2068
        out=$(newgidmap "$pid" ${gm[@]} 2>&1) || { echo "error: --gid-map: write to gid map failed: $out" >&2; return 1; }
    else
        out=$( { echo deny >"/proc/$pid/setgroups" && echo "${gm[0]% *} 1" >"/proc/$pid/gid_map"; } 2>&1) ||
            { echo "error: --gid-map: write to gid map failed: $out" >&2; return 1; }
    fi
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
    # An unprivileged user: a user namespace too, made in the same unshare(2) so that it owns the
    # others; the capabilities it grants are kept (ambient) for the mounts sandbox-enter.sh makes,
    # which waits for the id maps this shell writes from outside.
    ((SANDBOX_USERNS)) && ns=(--user --keep-caps "${ns[@]}")
    JVHOST_SANDBOX=$SANDBOX_MODE JVHOST_SANDBOX_SHARED=$SANDBOX_SHARED JVHOST_SANDBOX_USERNS=$SANDBOX_USERNS \
        JVHOST_SANDBOX_PROC_RW=${SANDBOX_INNER_UID:+1} \
        setpriv --pdeathsig KILL -- unshare "${ns[@]}" -- "$HERE/scripts/sandbox-enter.sh" \
        "$SANDBOX_MODE" "$work/view" "$SANDBOX_SHARED" "$sockdir" "$work/socket" "$SANDBOX_SYSLOG" -- "$@" &
    child=$!
    if ((SANDBOX_USERNS)); then
        local own
        own=$(readlink /proc/self/ns/user)
        # setpriv execs unshare in the same process, which then unshares: its namespace changes.
        while [ "$(readlink "/proc/$child/ns/user" 2>/dev/null)" = "$own" ]; do sleep 0.005; done
        if ! kill -0 "$child" 2>/dev/null || ! sandbox_map_ids "$child"; then
            kill -KILL "$child" 2>/dev/null
            wait "$child" 2>/dev/null
            rm -rf "$work"
            exit 1
        fi
    fi
    forward() {
        local target=$child kids
        # namespace: unshare ignores the signal; its one child is the daemon (pid 1 inside).
        # (The file ends with a space, no newline: read fails at its end but has read the pids.)
        if [ "$SANDBOX_MODE" = namespace ]; then
            read -r kids <"/proc/$child/task/$child/children" 2>/dev/null || true
            [ -n "${kids:-}" ] && target=${kids%% *}
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
