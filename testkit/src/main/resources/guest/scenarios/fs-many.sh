# Scenario "fs-many": the guest creates many files on a virtio-fs mount and holds them all (their
# dentries stay cached, so the back-end keeps every inode looked up), then looks each up again
# and reads it back, and lists the directory.
#   FS-MOUNTED tag=<tag> up=<uptime>
#   MANY-CREATED n=<files> failed=<creates that failed> up=<uptime>
#   MANY-OK n=<files> listed=<entries> up=<uptime>   or   MANY-FAIL <reason>
# Kernel command line: vfs_tag= (default myfs), many_files= (3000), many_dir= (many).
# Only shell builtins per file (echo, read, redirections): no fork per file, so that thousands of
# files take seconds under TCG. The second pass comes more than the 1 s attribute timeout of
# cache=auto after the first, so each name is looked up again (a LOOKUP per file).
fs_tag=$(arg vfs_tag myfs)
many_n=$(arg many_files 3000)
many_dir=/mnt/$(arg many_dir many)
if ! mount_virtiofs "$fs_tag" /mnt; then
    echo "MANY-FAIL mount tag=$fs_tag: $(tr '\n' ' ' </tmp/mount.err)"
else
    echo "FS-MOUNTED tag=$fs_tag up=$(uptime_s)"
    mkdir -p "$many_dir"
    many_i=0
    many_failed=0
    while [ "$many_i" -lt "$many_n" ]; do
        echo "file $many_i" >"$many_dir/f$many_i" 2>/dev/null || many_failed=$((many_failed + 1))
        many_i=$((many_i + 1))
    done
    echo "MANY-CREATED n=$many_n failed=$many_failed up=$(uptime_s)"
    sleep 2
    many_i=0
    many_bad=0
    many_first_bad=
    while [ "$many_i" -lt "$many_n" ]; do
        many_line=
        read -r many_line <"$many_dir/f$many_i" 2>/dev/null
        if [ "$many_line" != "file $many_i" ]; then
            many_bad=$((many_bad + 1))
            [ -n "$many_first_bad" ] || many_first_bad="f$many_i=[$many_line]"
        fi
        many_i=$((many_i + 1))
    done
    many_listed=$(ls "$many_dir" | wc -l | tr -d ' ')
    if [ "$many_failed" -ne 0 ] || [ "$many_bad" -ne 0 ] || [ "$many_listed" -ne "$many_n" ]; then
        echo "MANY-FAIL created-failed=$many_failed unreadable=$many_bad ($many_first_bad) listed=$many_listed"
    else
        echo "MANY-OK n=$many_n listed=$many_listed up=$(uptime_s)"
    fi
    umount /mnt || echo "MANY-FAIL umount /mnt"
fi
