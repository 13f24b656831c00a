package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.FsException;
import io.jvhost.devices.fs.RequestContext;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.FsCredentials;
import io.jvhost.nativeio.NativeException;

/**
 * Runs a creating call (mknod, mkdir, symlink, create) as the guest's caller: the thread's
 * umask becomes the request's (so a default ACL on the parent still wins over it, as on a
 * local file system), and when the daemon runs as root its fsuid/fsgid become the caller's,
 * so the new file gets the caller's owner and the parent's permissions are checked for the
 * caller. Both are per-thread settings, restored on close; request threads must be platform
 * threads.
 */
final class CallerIdentity implements AutoCloseable {
    private static final boolean ROOT = FsCredentials.geteuid() == 0;
    /** Whether this thread has its own umask yet (unshare(CLONE_FS) once per thread). */
    private static final ThreadLocal<Boolean> OWN_UMASK = ThreadLocal.withInitial(() -> {
        try {
            FsCredentials.unshareFsAttributes();
            return true;
        } catch (NativeException e) {
            return false;
        }
    });

    private final int oldUmask;
    private final int oldFsuid;
    private final int oldFsgid;
    private final boolean switched;
    private final boolean ownUmask;

    private CallerIdentity(int oldUmask, boolean ownUmask, int oldFsuid, int oldFsgid, boolean switched) {
        this.oldUmask = oldUmask;
        this.ownUmask = ownUmask;
        this.oldFsuid = oldFsuid;
        this.oldFsgid = oldFsgid;
        this.switched = switched;
    }

    /**
     * Becomes the caller for the current thread. If the thread could not get its own umask
     * (unshare refused), the umask is left alone and {@link #mode} applies it instead.
     */
    static CallerIdentity become(RequestContext ctx, int umask) throws FsException {
        boolean own = OWN_UMASK.get();
        int oldUmask = own ? FsCredentials.umask(umask & 0777) : 0;
        if (!ROOT || (ctx.uid() == 0 && ctx.gid() == 0)) {
            return new CallerIdentity(oldUmask, own, 0, 0, false);
        }
        int oldGid = FsCredentials.setfsgid(ctx.gid());
        int oldUid = FsCredentials.setfsuid(ctx.uid());
        CallerIdentity id = new CallerIdentity(oldUmask, own, oldUid, oldGid, true);
        if (FsCredentials.fsuid() != ctx.uid() || FsCredentials.fsgid() != ctx.gid()) {
            id.close();
            throw new FsException(Errno.EPERM, "cannot act as uid " + ctx.uid() + " gid " + ctx.gid());
        }
        return id;
    }

    /** The mode to pass to the creating call: as is, or with the umask applied here if the thread has none of its own. */
    int mode(int mode, int umask) {
        return ownUmask ? mode : mode & ~umask;
    }

    @Override
    public void close() {
        if (switched) {
            FsCredentials.setfsuid(oldFsuid);
            FsCredentials.setfsgid(oldFsgid);
        }
        if (ownUmask) FsCredentials.umask(oldUmask);
    }
}
