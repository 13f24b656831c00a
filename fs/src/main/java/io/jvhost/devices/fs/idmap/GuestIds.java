package io.jvhost.devices.fs.idmap;

import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.api.RequestContext;
import io.jvhost.nativeio.Errno;
import java.util.ArrayList;
import java.util.List;

/**
 * virtiofsd's {@code --translate-uid} and {@code --translate-gid} together: a request's caller
 * (uid, gid, supplementary groups) and the owner a SETATTR gives go guest to host; the owner in
 * attributes the guest is shown goes host to guest. A forbidden guest id fails the request with
 * EPERM (virtiofsd answers EIO, its fallback for an error without an errno).
 */
public record GuestIds(IdTranslation uids, IdTranslation gids) {
    public static final GuestIds NONE = new GuestIds(IdTranslation.IDENTITY, IdTranslation.IDENTITY);

    public GuestIds {
        java.util.Objects.requireNonNull(uids, "uids");
        java.util.Objects.requireNonNull(gids, "gids");
    }

    public boolean isIdentity() {
        return uids.isIdentity() && gids.isIdentity();
    }

    /** The caller as the host sees it. */
    public RequestContext hostCaller(RequestContext ctx) throws FsException {
        if (isIdentity()) return ctx;
        List<Integer> groups = new ArrayList<>(ctx.groups().size());
        for (int g : ctx.groups()) groups.add(hostGid(g));
        return new RequestContext(hostUid(ctx.uid()), hostGid(ctx.gid()), ctx.pid(), groups);
    }

    /** The host uid for a guest uid; -1 (chown's "unchanged") stays -1. */
    public int hostUid(int guestUid) throws FsException {
        try {
            return uids.toHost(guestUid);
        } catch (IdTranslation.ForbiddenId e) {
            throw new FsException(Errno.EPERM, "uid: " + e.getMessage());
        }
    }

    public int hostGid(int guestGid) throws FsException {
        try {
            return gids.toHost(guestGid);
        } catch (IdTranslation.ForbiddenId e) {
            throw new FsException(Errno.EPERM, "gid: " + e.getMessage());
        }
    }

    public int guestUid(int hostUid) {
        return uids.toGuest(hostUid);
    }

    public int guestGid(int hostGid) {
        return gids.toGuest(hostGid);
    }
}
