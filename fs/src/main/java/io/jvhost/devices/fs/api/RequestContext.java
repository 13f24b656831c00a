package io.jvhost.devices.fs.api;

import java.util.List;

/**
 * Who sent a FUSE request (fuse_in_header uid/gid/pid), as the guest kernel says, and the
 * supplementary groups a creating request carries (the FUSE_EXT_GROUPS extension: Linux sends
 * the parent directory's group when the caller is in it only through a supplementary group).
 */
public record RequestContext(int uid, int gid, int pid, List<Integer> groups) {
    public static final RequestContext ROOT = new RequestContext(0, 0, 0);

    public RequestContext {
        groups = List.copyOf(groups);
    }

    /** A caller whose request carries no supplementary group. */
    public RequestContext(int uid, int gid, int pid) {
        this(uid, gid, pid, List.of());
    }

    public RequestContext withGroups(List<Integer> supplementary) {
        return new RequestContext(uid, gid, pid, supplementary);
    }
}
