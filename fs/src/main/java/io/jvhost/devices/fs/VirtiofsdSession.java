package io.jvhost.devices.fs;

import io.jvhost.backend.DeviceException;
import io.jvhost.devices.fs.fuse.InitFlags;
import io.jvhost.devices.fs.fuse.InitReply;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState;

/**
 * The FUSE session a guest has with virtiofsd, for a guest that moves from virtiofsd to jvhost
 * without a new INIT. virtiofsd's state carries only {@code NegotiatedOpts}; the rest is what
 * virtiofsd 1.11 to 1.14 answer every Linux guest (server.rs {@code Server::init}): protocol
 * 7.38 flags from a fixed set, max_write 1 MiB with max_pages 256.
 *
 * <p>What jvhost's decoding depends on is exact: SETXATTR_EXT (virtiofsd grants it only with
 * POSIX ACLs, refused here) and CREATE_SUPP_GROUP (sup_group_extension, so the guest's
 * supplementary-group extension is parsed). The session minor is jvhost's 7.38: jvhost's struct
 * sizes differ only below 7.12, and virtio-fs guests speak 7.31 or newer. The writeback cache and
 * announced submounts are taken where this back-end was started with them (--writeback,
 * announcing by default) and refused otherwise, as virtiofsd's destination refuses them; POSIX
 * ACLs, which jvhost does not offer, are refused. KILLPRIV_V2 is not in virtiofsd's state: it is
 * granted if this back-end offers it, as virtiofsd's destination takes it from its own flags.
 */
final class VirtiofsdSession {
    /** What virtiofsd grants whenever the guest offers it (its "supported" set and default readdirplus). */
    static final long VIRTIOFSD_GRANTS = InitFlags.ASYNC_READ
            | InitFlags.PARALLEL_DIROPS
            | InitFlags.BIG_WRITES
            | InitFlags.AUTO_INVAL_DATA
            | InitFlags.ASYNC_DIO
            | InitFlags.ATOMIC_O_TRUNC
            | InitFlags.MAX_PAGES
            | InitFlags.INIT_EXT
            | InitFlags.DO_READDIRPLUS
            | InitFlags.READDIRPLUS_AUTO;
    /** virtiofsd's MAX_BUFFER_SIZE: the max_write the guest was told. */
    static final int MAX_WRITE = 1 << 20;

    private static final int PAGE_SIZE = 4096;

    private VirtiofsdSession() {}

    /**
     * @param supportedByFs the file system's {@code supportedInitFlags()}: flags it does not
     *                      support are dropped (they only change what the guest may ask, not
     *                      how requests look)
     */
    static InitReply derive(VirtiofsdState.NegotiatedOpts o, long supportedByFs) throws DeviceException {
        if (o.posixAcl()) throw refused("POSIX ACLs");
        long grantable = (supportedByFs & ~InitFlags.SERVER_CANNOT) | InitFlags.SERVER_OWNED;
        long flags = VIRTIOFSD_GRANTS & grantable;
        if (o.writeback()) flags |= granted(InitFlags.WRITEBACK_CACHE, grantable, "the writeback cache (--writeback)");
        if (o.announceSubmounts()) flags |= granted(InitFlags.SUBMOUNTS, grantable, "announced submounts");
        flags |= grantable & InitFlags.HANDLE_KILLPRIV_V2;
        if (o.supGroupExtension()) flags |= InitFlags.CREATE_SUPP_GROUP; // the guest sends it either way
        return new InitReply(
                FuseServer.MAJOR,
                FuseServer.MINOR,
                FuseServer.MINOR,
                0, // max_readahead: the guest's own, echoed by virtiofsd and kept by the guest
                flags,
                0,
                0,
                MAX_WRITE,
                1,
                MAX_WRITE / PAGE_SIZE);
    }

    /** {@code flag}, which the source negotiated, if this back-end grants it; else the migration fails. */
    private static long granted(long flag, long grantable, String what) throws DeviceException {
        if ((grantable & flag) == 0) throw refused(what);
        return flag;
    }

    private static DeviceException refused(String what) {
        return new DeviceException(
                "the virtiofsd source negotiated " + what + " with the guest, which this back-end does not offer");
    }
}
