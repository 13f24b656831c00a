package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.api.RequestContext;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.FsCredentials;
import io.jvhost.nativeio.NativeException;
import java.util.Arrays;
import java.util.List;

/**
 * Runs a creating call (mknod, mkdir, symlink, create) as the guest's caller: the thread's
 * umask becomes the request's (so a default ACL on the parent still wins over it, as on a
 * local file system), and when the daemon runs as root its fsuid/fsgid become the caller's and
 * its supplementary groups exactly those the request carries (none unless FUSE_EXT_GROUPS
 * names one), so the new file gets the caller's owner and the parent's permissions are checked
 * for the caller, never through groups the daemon itself was started with (CVE-2022-0358). All
 * are per-thread settings, restored on close; request threads must be platform threads.
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
    /** The thread's groups before, if they were changed for the call; null if they were not. */
    private final int[] oldGroups;

    private CallerIdentity(
            int oldUmask, boolean ownUmask, int oldFsuid, int oldFsgid, boolean switched, int[] oldGroups) {
        this.oldUmask = oldUmask;
        this.ownUmask = ownUmask;
        this.oldFsuid = oldFsuid;
        this.oldFsgid = oldFsgid;
        this.switched = switched;
        this.oldGroups = oldGroups;
    }

    /**
     * Whether a creating call can take the request's supplementary groups (the daemon is root
     * and may set this thread's groups): only then may FUSE_CREATE_SUPP_GROUP be offered.
     */
    static boolean takesSupplementaryGroups() {
        return GroupsProbe.WORKS;
    }

    private static final class GroupsProbe {
        static final boolean WORKS = ROOT && probe();

        /** Sets the calling thread's groups to what they are: it changes nothing, and fails without CAP_SETGID. */
        private static boolean probe() {
            try {
                FsCredentials.setThreadGroups(FsCredentials.threadGroups());
                return true;
            } catch (NativeException e) {
                return false;
            }
        }
    }

    /**
     * Becomes the caller for the current thread. If the thread could not get its own umask
     * (unshare refused), the umask is left alone and {@link #mode} applies it instead.
     */
    static CallerIdentity become(RequestContext ctx, int umask) throws FsException {
        boolean own = OWN_UMASK.get();
        int oldUmask = own ? FsCredentials.umask(umask & 0777) : 0;
        if (!ROOT || (ctx.uid() == 0 && ctx.gid() == 0)) {
            return new CallerIdentity(oldUmask, own, 0, 0, false, null);
        }
        int[] oldGroups;
        try {
            oldGroups = regroup(ctx.groups());
        } catch (NativeException e) {
            if (own) FsCredentials.umask(oldUmask);
            throw new FsException(Errno.EPERM, "cannot act with groups " + ctx.groups() + ": " + e.getMessage(), e);
        }
        int oldGid = FsCredentials.setfsgid(ctx.gid());
        int oldUid = FsCredentials.setfsuid(ctx.uid());
        CallerIdentity id = new CallerIdentity(oldUmask, own, oldUid, oldGid, true, oldGroups);
        if (FsCredentials.fsuid() != ctx.uid() || FsCredentials.fsgid() != ctx.gid()) {
            id.close();
            throw new FsException(Errno.EPERM, "cannot act as uid " + ctx.uid() + " gid " + ctx.gid());
        }
        return id;
    }

    /** Gives the thread exactly {@code groups}; returns the groups it had, or null if they were those already. */
    private static int[] regroup(List<Integer> groups) throws NativeException {
        int[] want = groups.stream().mapToInt(Integer::intValue).toArray();
        int[] had = FsCredentials.threadGroups();
        if (Arrays.equals(had, want)) return null;
        FsCredentials.setThreadGroups(want);
        return had;
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
        if (oldGroups != null) {
            try {
                FsCredentials.setThreadGroups(oldGroups);
            } catch (NativeException e) {
                // It was allowed a moment ago: only a bug gets here. The next become() sets them anew.
                throw new IllegalStateException("cannot give this thread its groups back", e);
            }
        }
    }
}
