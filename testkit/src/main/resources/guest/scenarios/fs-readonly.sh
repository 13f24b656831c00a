# Scenario "fs-readonly": mounts a virtio-fs tag served read-only (--readonly) on /mnt, reads a
# host file, then tries each kind of change; every one must fail with EROFS ("Read-only file
# system"), and the share must list as before.
#   FS-MOUNTED tag=<tag> up=<uptime>
#   RO-READ file=<name> sha=<sha256>
#   RO-OK changes=<n> up=<uptime>   or   RO-FAIL <what> [<stderr>]
# Kernel command line: vfs_tag= (default myfs), ro_file= a host-created file (default host.txt).
fs_tag=$(arg vfs_tag myfs)
ro_file=$(arg ro_file host.txt)
if ! mount_virtiofs "$fs_tag" /mnt; then
    echo "RO-FAIL mount tag=$fs_tag: $(tr '\n' ' ' </tmp/mount.err)"
else
    echo "FS-MOUNTED tag=$fs_tag up=$(uptime_s)"
    ro_before=$(ls -la /mnt | sha256sum | cut -d' ' -f1)
    if [ -f "/mnt/$ro_file" ] && ro_sha=$(sha256sum "/mnt/$ro_file" | cut -d' ' -f1); then
        echo "RO-READ file=$ro_file sha=$ro_sha"
        ro_n=0
        ro_fail=
        # Each change in a subshell, its stderr kept: it must fail, and say why.
        for ro_change in "echo x >/mnt/new.txt" "echo x >>/mnt/$ro_file" "mkdir /mnt/newdir" \
            "rm /mnt/$ro_file" "mv /mnt/$ro_file /mnt/moved" "ln /mnt/$ro_file /mnt/hard" \
            "ln -s $ro_file /mnt/soft" "touch /mnt/$ro_file" "chmod 600 /mnt/$ro_file" \
            "truncate -s 0 /mnt/$ro_file" "mknod /mnt/fifo p"; do
            ro_n=$((ro_n + 1))
            if sh -c "$ro_change" 2>/tmp/ro.err; then
                ro_fail="$ro_change succeeded"
                break
            elif ! grep -q "Read-only file system" /tmp/ro.err; then
                ro_fail="$ro_change: $(tr '\n' ' ' </tmp/ro.err)"
                break
            fi
        done
        ro_after=$(ls -la /mnt | sha256sum | cut -d' ' -f1)
        if [ -n "$ro_fail" ]; then
            echo "RO-FAIL $ro_fail"
        elif [ "$ro_before" != "$ro_after" ]; then
            echo "RO-FAIL the listing changed"
        elif [ "$(sha256sum "/mnt/$ro_file" | cut -d' ' -f1)" != "$ro_sha" ]; then
            echo "RO-FAIL $ro_file changed"
        else
            echo "RO-OK changes=$ro_n up=$(uptime_s)"
        fi
    else
        echo "RO-FAIL read /mnt/$ro_file"
    fi
    umount /mnt || echo "RO-FAIL umount /mnt"
fi
