# Scenario "fs-workload": a file workload on a virtio-fs mount, for comparing back-ends.
#   FS-MOUNTED tag=<tag> up=<uptime>
#   WL <step> ok [detail]   or   WL <step> FAIL <detail>     one line per step, in order
#   WL-TREE <type> <mode> <uid>:<gid> <size> <path> <sha256 | -> target | ->>' '>   final tree
#   WL-DONE pass=<n> fail=<n> up=<uptime>
# Kernel command line: vfs_tag= (default myfs), wl_dir= (default wl), wl_big_mib= (64),
# wl_entries= (1000). Every line but FS-MOUNTED/WL-DONE is free of times and inode numbers, so
# two back-ends given the same empty shared directory must print the same lines (a differential
# check), and the WL-TREE lines must match the host's own view of the directory.
fs_tag=$(arg vfs_tag myfs)
wl_dir=$(arg wl_dir wl)
wl_big_mib=$(arg wl_big_mib 64)
wl_entries=$(arg wl_entries 1000)
wl_pass=0
wl_fail=0
# step NAME CONDITION-COMMAND... : runs the command; prints ok or FAIL with what it printed.
step() {
    _name=$1; shift
    if _out=$("$@" 2>&1); then
        wl_pass=$((wl_pass + 1)); echo "WL $_name ok${_out:+ $_out}"
    else
        wl_fail=$((wl_fail + 1)); echo "WL $_name FAIL $(echo "$_out" | tr '\n' ' ')"
    fi
}
# expect WANT CMD... : CMD's output must be exactly WANT.
expect() {
    _want=$1; shift
    _got=$("$@" 2>&1)
    [ "$_got" = "$_want" ] || { echo "want [$_want] got [$_got]"; return 1; }
}
# fails CMD... : CMD must fail (an error path the back-end has to report).
fails() {
    if "$@" >/dev/null 2>&1; then echo "succeeded: $*"; return 1; fi
}

wl_create() { echo hello >a.txt && expect hello cat a.txt; }
wl_append() { echo world >>a.txt && expect "hello
world" cat a.txt; }
wl_overwrite() { printf XY | dd of=a.txt bs=1 seek=1 conv=notrunc 2>/dev/null && expect "hXYlo" head -n 1 a.txt; }
wl_rename() { mv a.txt b.txt && [ ! -e a.txt ] && expect "hXYlo" head -n 1 b.txt; }
wl_rename_over() { echo one >r1 && echo two >r2 && mv r1 r2 && [ ! -e r1 ] && expect one cat r2; }
wl_hardlink() { ln b.txt c.txt && expect 2 stat -c %h b.txt && expect "$(cat b.txt)" cat c.txt; }
wl_symlink() { ln -s b.txt s.lnk && expect b.txt readlink s.lnk && expect "$(cat b.txt)" cat s.lnk; }
wl_symlink_abs() { ln -s /nonexistent/outside out.lnk && expect /nonexistent/outside readlink out.lnk && fails cat out.lnk; }
wl_mkdir() { mkdir -p d1/d2/d3 && [ -d d1/d2/d3 ] && echo x >d1/d2/f && fails rmdir d1/d2 && rm d1/d2/f && rmdir d1/d2/d3 d1/d2 && expect "" ls d1; }
wl_unlink() { rm c.txt && [ ! -e c.txt ] && expect 1 stat -c %h b.txt; }
wl_errors() { fails cat missing.txt && fails mkdir d1 && fails rmdir b.txt && fails ln b.txt s.lnk && fails mv nothere elsewhere; }
wl_chmod() { chmod 640 b.txt && expect 640 stat -c %a b.txt && chmod 4755 b.txt && expect 4755 stat -c %a b.txt && chmod 644 b.txt; }
wl_chown() { chown 1000:1001 b.txt && expect 1000:1001 stat -c %u:%g b.txt; }
wl_truncate() { truncate -s 3 b.txt && expect 3 stat -c %s b.txt && expect hXY cat b.txt && truncate -s 100000 b.txt && expect 100000 stat -c %s b.txt && truncate -s 3 b.txt; }
wl_utimes() { touch -d "2020-01-02 03:04:05" b.txt && expect "2020-01-02 03:04:05" date -r b.txt "+%Y-%m-%d %H:%M:%S"; }
wl_fsync() { echo synced >>b.txt && sync b.txt && sync -d b.txt && sync -f b.txt; }
wl_fifo() { mkfifo p.fifo && expect "fifo" stat -c %F p.fifo; }
wl_fallocate() { fallocate -l 1048576 fa.bin && expect 1048576 stat -c %s fa.bin; }
wl_xattr() {
    setfattr -n user.color -v blue b.txt &&
    expect blue getfattr --only-values -n user.color b.txt &&
    setfattr -n user.shape -v round b.txt &&
    expect "user.color
user.shape" sh -c "getfattr -d --absolute-names b.txt | sed -n 's/=.*//p' | sort" &&
    setfattr -x user.color b.txt &&
    fails getfattr -n user.color b.txt &&
    expect round getfattr --only-values -n user.shape b.txt
}
wl_entries() {
    mkdir many && _i=0
    while [ $_i -lt "$wl_entries" ]; do : >"many/f$_i" || return 1; _i=$((_i + 1)); done
    expect "$wl_entries" sh -c 'ls many | wc -l' &&
    echo "sha=$(ls many | sort | sha256sum | cut -d' ' -f1)" &&
    rm many/f7 && expect $((wl_entries - 1)) sh -c 'ls -a many | grep -c "^f"'
}
wl_stat() { echo "$(stat -c '%s %a %F' b.txt) / $(stat -c '%F' many) / $(stat -c '%F' s.lnk)"; }
wl_statfs() { _b=$(stat -f -c %b .) && [ "$_b" -gt 0 ] && echo "namemax=$(stat -f -c %l .)"; }
wl_big() {
    _n=$((wl_big_mib * 1048576))
    _sum=$(yes jvhost-workload-pattern | head -c $_n | sha256sum | cut -d' ' -f1)
    yes jvhost-workload-pattern | head -c $_n >big.bin && sync big.bin &&
    expect "$_n" stat -c %s big.bin &&
    echo 3 >/proc/sys/vm/drop_caches &&
    expect "$_sum" sh -c 'sha256sum big.bin | cut -d" " -f1' &&
    echo "bytes=$_n sha=$_sum"
}

if ! mount_virtiofs "$fs_tag" /mnt; then
    echo "FS-FAIL mount tag=$fs_tag: $(tr '\n' ' ' </tmp/mount.err)"
else
    echo "FS-MOUNTED tag=$fs_tag up=$(uptime_s)"
    rm -rf "/mnt/$wl_dir" && mkdir "/mnt/$wl_dir" && cd "/mnt/$wl_dir" || echo "WL setup FAIL cd /mnt/$wl_dir"
    umask 022
    for s in create append overwrite rename rename_over hardlink symlink symlink_abs mkdir unlink errors \
             chmod chown truncate utimes fsync fifo fallocate xattr entries stat statfs big; do
        step "$s" "wl_$s"
    done
    # The final tree, as the guest sees it: one line per entry (the many/ directory's entries
    # are summed up by the "entries" step).
    find . -mindepth 1 ! -path './many/*' | sort | while read -r p; do
        _t=$(stat -c %F "$p"); _m=$(stat -c %a "$p"); _o=$(stat -c %u:%g "$p")
        case "$_t" in
            "regular file"|"regular empty file") echo "WL-TREE file $_m $_o $(stat -c %s "$p") $p $(sha256sum "$p" | cut -d' ' -f1)" ;;
            "symbolic link") echo "WL-TREE symlink - $_o - $p -> $(readlink "$p")" ;;
            directory) echo "WL-TREE dir $_m $_o - $p" ;;
            *) echo "WL-TREE other($_t) $_m $_o - $p" ;;
        esac
    done
    cd / && sync
    umount /mnt || echo "WL umount FAIL"
    echo "WL-DONE pass=$wl_pass fail=$wl_fail up=$(uptime_s)"
fi
