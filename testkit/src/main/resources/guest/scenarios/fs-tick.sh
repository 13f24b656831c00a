# Scenario "fs-tick": the live-migration workload. Mounts a virtio-fs tag on /mnt and keeps
# /mnt/<tick_file> open on fd 3 for its whole life; every tick it appends "count=N up=<uptime>"
# through fd 3 and reads the file back through a fresh open, printing one line per tick:
#   FS-MOUNTED tag=<tag> up=<uptime>
#   TICK <n> up=<uptime> write=<ok|WERR> readback=[<last line of the file>]
# then, after tick_max ticks (default 0 = forever), TICK-DONE n=<n>. Failure: FS-FAIL <reason>.
# Kernel command line: vfs_tag= (default myfs), tick= seconds between ticks (default 0.2),
# tick_file= (default counter.txt), tick_max= (default 0).
fs_tag=$(arg vfs_tag myfs)
tick=$(arg tick 0.2)
tick_file=$(arg tick_file counter.txt)
tick_max=$(arg tick_max 0)
if ! mount_virtiofs "$fs_tag" /mnt; then
    echo "FS-FAIL mount tag=$fs_tag: $(tr '\n' ' ' </tmp/mount.err)"
elif ! exec 3<>"/mnt/$tick_file"; then
    echo "FS-FAIL open /mnt/$tick_file"
else
    echo "FS-MOUNTED tag=$fs_tag up=$(uptime_s)"
    i=0
    while [ "$tick_max" = 0 ] || [ "$i" -lt "$tick_max" ]; do
        i=$((i + 1))
        up=$(uptime_s)
        if echo "count=$i up=$up" >&3; then w=ok; else w=WERR; fi
        last=$(tail -n 1 "/mnt/$tick_file" 2>&1) || last="RERR $last"
        echo "TICK $i up=$up write=$w readback=[$last]"
        sleep "$tick"
    done
    echo "TICK-DONE n=$i"
    exec 3>&-
fi
