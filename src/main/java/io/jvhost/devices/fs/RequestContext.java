package io.jvhost.devices.fs;

/** Who sent a FUSE request (fuse_in_header uid/gid/pid), as the guest kernel says. */
public record RequestContext(int uid, int gid, int pid) {
    public static final RequestContext ROOT = new RequestContext(0, 0, 0);
}
