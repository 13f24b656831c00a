# Scenario "fs-submounts": mounts a virtio-fs tag on /mnt whose shared directory has a host mount
# at sub_dir (a tmpfs holding inner.txt), served with announced submounts and the writeback
# cache. The guest must see the mount point as a mount of its own (a /proc/mounts line, another
# st_dev) and read and write in it; then a host file written through a write-only descriptor
# (wo.txt: 2 bytes in the middle of a page the guest must read first) and one appended to
# (app.txt, O_APPEND, which the guest itself turns into offsets) must read back right after a
# fresh mount.
#   FS-MOUNTED tag=<tag> up=<uptime>
#   SUB-SEEN dev=<st_dev of /mnt> subdev=<st_dev of the mount point> mounts=<n> inner=[<text>]
#   SUB-OK mounts=<n>            or   SUB-FAIL <what>
#   WB-DONE wo=[<wo.txt>] app=[<app.txt, lines joined by ,>] up=<uptime>   or   WB-FAIL <what>
# Kernel command line: vfs_tag= (default myfs), sub_dir= (default sub).
sm_tag=$(arg vfs_tag myfs)
sm_sub=$(arg sub_dir sub)
if ! mount_virtiofs "$sm_tag" /mnt; then
    echo "SUB-FAIL mount tag=$sm_tag: $(tr '\n' ' ' </tmp/mount.err)"
else
    echo "FS-MOUNTED tag=$sm_tag up=$(uptime_s)"
    sm_inner=$(cat "/mnt/$sm_sub/inner.txt" 2>&1) # reaching into it mounts the submount
    sm_dev=$(stat -c %d /mnt)
    sm_subdev=$(stat -c %d "/mnt/$sm_sub")
    sm_mounts=$(grep -c " /mnt/$sm_sub " /proc/mounts)
    echo "SUB-SEEN dev=$sm_dev subdev=$sm_subdev mounts=$sm_mounts inner=[$sm_inner]"
    sm_want="written by the guest"
    if [ "$sm_dev" = "$sm_subdev" ]; then
        echo "SUB-FAIL /mnt/$sm_sub has the st_dev of /mnt"
    elif [ "$sm_mounts" -lt 1 ]; then
        echo "SUB-FAIL no /proc/mounts line for /mnt/$sm_sub"
    elif [ "$sm_inner" != "on the host's tmpfs" ]; then
        echo "SUB-FAIL read /mnt/$sm_sub/inner.txt: [$sm_inner]"
    elif ! echo "$sm_want" >"/mnt/$sm_sub/guest.txt"; then
        echo "SUB-FAIL write /mnt/$sm_sub/guest.txt"
    elif [ "$(cat "/mnt/$sm_sub/guest.txt")" != "$sm_want" ]; then
        echo "SUB-FAIL readback of /mnt/$sm_sub/guest.txt"
    else
        echo "SUB-OK mounts=$sm_mounts"
    fi
    # Write-only: dd opens O_WRONLY (notrunc); the page is not cached, so the guest reads it first.
    if ! printf XY | dd of=/mnt/wo.txt bs=1 seek=2 conv=notrunc 2>/tmp/wb.err; then
        echo "WB-FAIL dd into /mnt/wo.txt: $(tr '\n' ' ' </tmp/wb.err)"
    elif ! { echo line2 >>/mnt/app.txt && echo line3 >>/mnt/app.txt; } 2>/tmp/wb.err; then
        echo "WB-FAIL append to /mnt/app.txt: $(tr '\n' ' ' </tmp/wb.err)"
    else
        sync
        umount "/mnt/$sm_sub" 2>/dev/null
        umount /mnt || echo "WB-FAIL umount /mnt"
        if ! mount_virtiofs "$sm_tag" /mnt; then
            echo "WB-FAIL mount again: $(tr '\n' ' ' </tmp/mount.err)"
        else
            echo "WB-DONE wo=[$(cat /mnt/wo.txt)] app=[$(tr '\n' , </mnt/app.txt)] up=$(uptime_s)"
        fi
    fi
    umount "/mnt/$sm_sub" 2>/dev/null
    umount /mnt || echo "WB-FAIL umount /mnt at the end"
fi
