# Scenario "fs-acl": mounts a virtio-fs tag served with POSIX ACLs (--posix-acl) on /mnt, where
# the host made acl-read.txt (mode 0600 root, ACL user:1000:r--), acl-deny.txt (mode 0644, ACL
# user:1000:---) and the directory inherit/ (default ACL user::rwx group::rwx other::---). The
# guest kernel must enforce the ACLs for uid 1000 (su to a user made here), and a file it makes under umask 077
# in inherit/ must get its mode from the default ACL (660), not from the umask (600).
#   FS-MOUNTED tag=<tag> up=<uptime>
#   ACL-OK read=allowed deny=denied inherit=<mode> up=<uptime>   or   ACL-FAIL <what>
# Kernel command line: vfs_tag= (default myfs), acl_inherit= the mode the new file must have
# (default 660; "any" when the host cannot apply the default ACL, e.g. one kept under a mapped name).
fs_tag=$(arg vfs_tag myfs)
acl_inherit=$(arg acl_inherit 660)
if ! mount_virtiofs "$fs_tag" /mnt; then
    echo "ACL-FAIL mount tag=$fs_tag: $(tr '\n' ' ' </tmp/mount.err)"
else
    echo "FS-MOUNTED tag=$fs_tag up=$(uptime_s)"
    mkdir -p /etc
    chmod a+rx / /bin /bin/busybox # the initramfs keeps them root-only; uid 1000 must run sh and cat
    grep -q '^acluser:' /etc/passwd 2>/dev/null || echo 'acluser:x:1000:1000::/tmp:/bin/sh' >>/etc/passwd
    grep -q '^acluser:' /etc/group 2>/dev/null || echo 'acluser:x:1000:' >>/etc/group
    acl_fail=
    if ! su -s /bin/sh acluser -c 'cat /mnt/acl-read.txt' >/tmp/acl.out 2>/tmp/acl.err; then
        acl_fail="uid 1000 cannot read acl-read.txt: $(tr '\n' ' ' </tmp/acl.err)"
    elif su -s /bin/sh acluser -c 'cat /mnt/acl-deny.txt' >/dev/null 2>/tmp/acl.err; then
        acl_fail="uid 1000 read acl-deny.txt, which its ACL entry denies"
    elif ! grep -q "Permission denied" /tmp/acl.err; then
        acl_fail="acl-deny.txt: $(tr '\n' ' ' </tmp/acl.err)"
    elif ! (umask 077 && echo new >/mnt/inherit/new.txt) 2>/tmp/acl.err; then
        acl_fail="create in inherit/: $(tr '\n' ' ' </tmp/acl.err)"
    fi
    if [ -n "$acl_fail" ]; then
        echo "ACL-FAIL $acl_fail"
    else
        acl_mode=$(stat -c %a /mnt/inherit/new.txt)
        if [ "$acl_inherit" != any ] && [ "$acl_mode" != "$acl_inherit" ]; then
            echo "ACL-FAIL inherit/new.txt has mode $acl_mode, the default ACL gives $acl_inherit"
        else
            echo "ACL-OK read=allowed deny=denied inherit=$acl_mode up=$(uptime_s)"
        fi
    fi
    umount /mnt || echo "ACL-FAIL umount /mnt"
fi
