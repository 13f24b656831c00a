package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.idmap.GuestIds;

/**
 * Options of a {@link PassthroughFs}.
 *
 * @param cache                timeouts and guest caching (see {@link CachePolicy})
 * @param xattr                serve extended attributes (else the xattr calls answer ENOSYS,
 *                             which tells the guest kernel not to ask again)
 * @param fileHandles          record each inode's name_to_handle_at handle, for migration
 *                             (always recorded for an inode kept as a handle)
 * @param denyPrivilegedFiles  refuse what would make a file carry privilege on the host: a
 *                             set-user-ID or set-group-ID bit on a non-directory (stripped from
 *                             the mode of a new file, EPERM for a chmod that adds one), handing
 *                             a file with such a bit to root (EPERM), file capabilities (a
 *                             security.capability xattr: EPERM). Off by default, as in virtiofsd,
 *                             where such shares are mounted nosuid on the host instead.
 * @param inodeFileHandles     how looked-up inodes are kept (see {@link InodeFileHandles});
 *                             virtiofsd's default, prefer, unless given
 * @param readdirplus          offer READDIRPLUS (virtiofsd: on, except with cache never)
 * @param allowMmap            let the guest mmap files it opened with direct I/O (cache never
 *                             and metadata): FUSE_DIRECT_IO_ALLOW_MMAP, for a share no one else
 *                             changes (virtiofsd's --allow-mmap; off)
 * @param allowDirectIo        pass the guest's O_DIRECT on (virtiofsd's --allow-direct-io; off:
 *                             cleared, the host's page cache serves the file)
 * @param preserveNoatime      pass the guest's O_NOATIME on (virtiofsd's --preserve-noatime;
 *                             off: cleared, as it fails with EPERM for a caller who does not own
 *                             the file and lacks CAP_FOWNER)
 * @param readOnly             refuse every change to the shared directory with EROFS, and files
 *                             opened for writing (virtiofsd's --readonly)
 * @param posixAcl             offer FUSE_POSIX_ACL (with SETXATTR_EXT; INIT fails with EPROTO for
 *                             a guest without them) and serve system.posix_acl_access/default,
 *                             which are otherwise refused (ENOTSUP) and left out of listxattr
 *                             (virtiofsd's --posix-acl; needs xattr)
 * @param securityLabel        offer FUSE_SECURITY_CTX (INIT fails with EPROTO for a guest without
 *                             it) and set the label a creating request carries on the new inode
 *                             before answering (virtiofsd's --security-label; needs xattr)
 * @param xattrMap             how xattr names are translated between guest and host (virtiofsd's
 *                             --xattrmap), or null to pass them as they are
 * @param announceSubmounts    tell the guest which directories are mount points
 *                             (FUSE_ATTR_SUBMOUNT), so that it gives each file system inside the
 *                             share a device number of its own and their inode numbers do not
 *                             collide (virtiofsd's default; --no-announce-submounts)
 * @param writeback            offer the guest's writeback cache (FUSE_WRITEBACK_CACHE): it then
 *                             reads pages of files opened write-only and appends itself, so files
 *                             open read-write and without O_APPEND on the host; only for a
 *                             directory no one else changes (virtiofsd's --writeback; off)
 * @param killprivV2           offer FUSE_HANDLE_KILLPRIV_V2: the guest leaves clearing set-user-ID
 *                             and set-group-ID bits on write, truncation and open with O_TRUNC to
 *                             this file system, which makes those calls without CAP_FSETID
 *                             (virtiofsd's --killpriv-v2; off)
 * @param guestIds             uids and gids translated between guest and host (virtiofsd's
 *                             --translate-uid/--translate-gid; none: ids pass as they are)
 */
public record PassthroughConfig(
        CachePolicy cache,
        boolean xattr,
        boolean fileHandles,
        boolean denyPrivilegedFiles,
        InodeFileHandles inodeFileHandles,
        boolean readdirplus,
        boolean allowMmap,
        boolean allowDirectIo,
        boolean preserveNoatime,
        boolean readOnly,
        boolean posixAcl,
        boolean securityLabel,
        XattrMap xattrMap,
        boolean announceSubmounts,
        boolean writeback,
        boolean killprivV2,
        GuestIds guestIds) {
    public PassthroughConfig {
        java.util.Objects.requireNonNull(cache, "cache");
        java.util.Objects.requireNonNull(inodeFileHandles, "inodeFileHandles");
        java.util.Objects.requireNonNull(guestIds, "guestIds");
        if (!xattr && (posixAcl || securityLabel || xattrMap != null)) {
            throw new IllegalArgumentException("POSIX ACLs, security labels and an xattr map need xattrs on");
        }
    }

    /**
     * Plain xattrs (no ACLs, no labels, names as they are); submounts announced, no writeback
     * cache, no KILLPRIV_V2, as in virtiofsd.
     */
    public PassthroughConfig(
            CachePolicy cache,
            boolean xattr,
            boolean fileHandles,
            boolean denyPrivilegedFiles,
            InodeFileHandles inodeFileHandles,
            boolean readdirplus,
            boolean allowMmap,
            boolean allowDirectIo,
            boolean preserveNoatime,
            boolean readOnly) {
        this(
                cache,
                xattr,
                fileHandles,
                denyPrivilegedFiles,
                inodeFileHandles,
                readdirplus,
                allowMmap,
                allowDirectIo,
                preserveNoatime,
                readOnly,
                false,
                false,
                null,
                true,
                false,
                false,
                GuestIds.NONE);
    }

    /** virtiofsd's defaults for what is not given. */
    public PassthroughConfig(
            CachePolicy cache,
            boolean xattr,
            boolean fileHandles,
            boolean denyPrivilegedFiles,
            InodeFileHandles inodeFileHandles) {
        this(
                cache,
                xattr,
                fileHandles,
                denyPrivilegedFiles,
                inodeFileHandles,
                cache != CachePolicy.NEVER,
                false,
                false,
                false,
                false);
    }

    /** Inodes kept as file handles where possible, as in virtiofsd. */
    public PassthroughConfig(CachePolicy cache, boolean xattr, boolean fileHandles, boolean denyPrivilegedFiles) {
        this(cache, xattr, fileHandles, denyPrivilegedFiles, InodeFileHandles.PREFER);
    }

    /** The guest may create privileged files, as in virtiofsd. */
    public PassthroughConfig(CachePolicy cache, boolean xattr, boolean fileHandles) {
        this(cache, xattr, fileHandles, false);
    }

    /** This configuration with inodes kept as {@code mode} says. */
    public PassthroughConfig withInodeFileHandles(InodeFileHandles mode) {
        return new PassthroughConfig(
                cache,
                xattr,
                fileHandles,
                denyPrivilegedFiles,
                mode,
                readdirplus,
                allowMmap,
                allowDirectIo,
                preserveNoatime,
                readOnly,
                posixAcl,
                securityLabel,
                xattrMap,
                announceSubmounts,
                writeback,
                killprivV2,
                guestIds);
    }

    /** This configuration with virtiofsd's --posix-acl, --security-label and --xattrmap as given (xattrs on if any is). */
    public PassthroughConfig withXattrOptions(boolean acl, boolean label, XattrMap map) {
        return new PassthroughConfig(
                cache,
                xattr || acl || label || map != null,
                fileHandles,
                denyPrivilegedFiles,
                inodeFileHandles,
                readdirplus,
                allowMmap,
                allowDirectIo,
                preserveNoatime,
                readOnly,
                acl,
                label,
                map,
                announceSubmounts,
                writeback,
                killprivV2,
                guestIds);
    }

    /** This configuration with ids translated as {@code ids} says. */
    public PassthroughConfig withGuestIds(GuestIds ids) {
        return new PassthroughConfig(
                cache,
                xattr,
                fileHandles,
                denyPrivilegedFiles,
                inodeFileHandles,
                readdirplus,
                allowMmap,
                allowDirectIo,
                preserveNoatime,
                readOnly,
                posixAcl,
                securityLabel,
                xattrMap,
                announceSubmounts,
                writeback,
                killprivV2,
                ids);
    }

    /** The open flags a file is opened with on the host for the guest's {@code flags}, before the file system's own. */
    int guestOpenFlags(int flags) {
        if (!allowDirectIo) flags &= ~io.jvhost.nativeio.Libc.O_DIRECT;
        if (!preserveNoatime) flags &= ~io.jvhost.nativeio.Libc.O_NOATIME;
        return flags;
    }

    public static PassthroughConfig defaults() {
        return new PassthroughConfig(CachePolicy.AUTO, true, true);
    }
}
