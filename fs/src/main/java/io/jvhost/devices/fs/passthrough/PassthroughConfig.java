package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.idmap.GuestIds;

/**
 * Options of a {@link PassthroughFs}. The guest's writeback cache is never offered: with it the
 * guest would send writes for files it opened write-only as reads too, which this file system
 * does not emulate.
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
        GuestIds guestIds) {
    public PassthroughConfig {
        java.util.Objects.requireNonNull(cache, "cache");
        java.util.Objects.requireNonNull(inodeFileHandles, "inodeFileHandles");
        java.util.Objects.requireNonNull(guestIds, "guestIds");
    }

    /** No id translation. */
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
