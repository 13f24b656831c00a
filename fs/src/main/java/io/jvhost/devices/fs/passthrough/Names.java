package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.FsException;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.FileCalls;

/**
 * Checks on what the guest sends as names. A name the server resolves must be exactly one
 * path component of this directory: no '/', no NUL, not "." or "..", not empty. With every
 * name one component and every call relative to a directory descriptor without following
 * symlinks, no request can name anything outside the shared directory.
 */
final class Names {
    private Names() {}

    /** NAME_MAX for xattr names (XATTR_NAME_MAX). */
    static final int XATTR_NAME_MAX = 255;

    /**
     * A file name in a directory. "." and ".." are refused everywhere, lookups included: the
     * server never walks up (lookup of ".." on the root, or anywhere, answers EINVAL), which
     * is also why FUSE_EXPORT_SUPPORT is not offered.
     */
    static final int NAME_MAX = FileCalls.NAME_MAX;

    /** {@link #component} as a predicate (for names from a migration blob rather than the guest). */
    static boolean isValidComponent(byte[] name) {
        try {
            component(name);
            return true;
        } catch (FsException e) {
            return false;
        }
    }

    static byte[] component(byte[] name) throws FsException {
        if (name == null || name.length == 0) throw new FsException(Errno.EINVAL, "empty name");
        if (name.length > FileCalls.NAME_MAX) throw new FsException(Errno.ENAMETOOLONG);
        for (byte b : name) {
            if (b == '/' || b == 0) throw new FsException(Errno.EINVAL, "name with '/' or NUL");
        }
        if (name[0] == '.' && (name.length == 1 || (name.length == 2 && name[1] == '.'))) {
            throw new FsException(Errno.EINVAL, "\".\" or \"..\" as a name");
        }
        return name;
    }

    /** A symlink's target: stored verbatim (the server never follows it), so it only needs to be a C string. */
    static byte[] symlinkTarget(byte[] target) throws FsException {
        if (target == null || target.length == 0) throw new FsException(Errno.ENOENT, "empty symlink target");
        if (target.length >= FileCalls.PATH_MAX) throw new FsException(Errno.ENAMETOOLONG);
        for (byte b : target) {
            if (b == 0) throw new FsException(Errno.EINVAL, "symlink target with NUL");
        }
        return target;
    }

    static byte[] xattrName(byte[] name) throws FsException {
        if (name == null || name.length == 0) throw new FsException(Errno.EINVAL, "empty xattr name");
        if (name.length > XATTR_NAME_MAX) throw new FsException(Errno.ERANGE);
        for (byte b : name) {
            if (b == 0) throw new FsException(Errno.EINVAL, "xattr name with NUL");
        }
        return name;
    }
}
