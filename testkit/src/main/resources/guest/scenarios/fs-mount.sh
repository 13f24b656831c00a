# Scenario "fs-mount": mounts a virtio-fs tag on /mnt, writes a file, reads it back, unmounts.
#   FS-MOUNTED tag=<tag> up=<uptime>
#   FS-READ file=<name> bytes=<n> sha=<sha256> first=[<first line>]   (only with fs_read=)
#   FS-OK file=<name> bytes=<n> sha=<sha256> up=<uptime>   or   FS-FAIL <reason>
# Kernel command line: vfs_tag= (default myfs), fs_file= file to write (default guest-hello.txt),
# fs_token= put into the file's content (default none), fs_read= a host-created file to read.
# The file's content is exactly one line: "jvhost-guest token=<fs_token> kernel=<uname -r>".
fs_tag=$(arg vfs_tag myfs)
fs_file=$(arg fs_file guest-hello.txt)
fs_token=$(arg fs_token none)
fs_read=$(arg fs_read)
fs_fail() { echo "FS-FAIL $*"; }
if ! mount_virtiofs "$fs_tag" /mnt; then
    fs_fail "mount tag=$fs_tag: $(tr '\n' ' ' </tmp/mount.err)"
else
    echo "FS-MOUNTED tag=$fs_tag up=$(uptime_s)"
    if [ -n "$fs_read" ]; then
        if [ -f "/mnt/$fs_read" ]; then
            echo "FS-READ file=$fs_read bytes=$(wc -c <"/mnt/$fs_read" | tr -d ' ')" \
                "sha=$(sha256sum "/mnt/$fs_read" | cut -d' ' -f1) first=[$(head -n 1 "/mnt/$fs_read")]"
        else
            fs_fail "no host file /mnt/$fs_read"
        fi
    fi
    fs_want="jvhost-guest token=$fs_token kernel=$(uname -r)"
    if ! echo "$fs_want" >"/mnt/$fs_file"; then
        fs_fail "write /mnt/$fs_file"
    else
        fs_got=$(cat "/mnt/$fs_file" 2>&1)
        if [ "$fs_got" != "$fs_want" ]; then
            fs_fail "readback mismatch: [$fs_got]"
        else
            sync
            echo "FS-OK file=$fs_file bytes=$(wc -c <"/mnt/$fs_file" | tr -d ' ')" \
                "sha=$(sha256sum "/mnt/$fs_file" | cut -d' ' -f1) up=$(uptime_s)"
        fi
    fi
    umount /mnt || fs_fail "umount /mnt"
fi
