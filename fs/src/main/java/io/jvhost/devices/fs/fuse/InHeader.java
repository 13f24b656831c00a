package io.jvhost.devices.fs.fuse;

import io.jvhost.devices.fs.api.RequestContext;

/**
 * struct fuse_in_header (40 bytes): the request length including this header, the opcode, the
 * request id echoed in the reply, the node the request is about, the caller's credentials and
 * the length of request extensions (8-byte units) that follow the request's arguments.
 */
public record InHeader(long len, int opcode, long unique, long nodeId, int uid, int gid, int pid, int totalExtlen) {
    public static final int SIZE = 40;

    public RequestContext context() {
        return new RequestContext(uid, gid, pid);
    }

    /** Bytes of the opcode's arguments: what follows the header minus the extensions. */
    public long bodyLength() {
        return len - SIZE - 8L * totalExtlen;
    }
}
