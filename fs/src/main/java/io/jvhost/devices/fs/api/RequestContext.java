package io.jvhost.devices.fs.api;

import java.util.List;

/**
 * Who sent a FUSE request (fuse_in_header uid/gid/pid), as the guest kernel says, and the
 * supplementary groups a creating request carries (the FUSE_EXT_GROUPS extension: Linux sends
 * the parent directory's group when the caller is in it only through a supplementary group),
 * and the security label a creating request asks for (FUSE_SECURITY_CTX; null if none).
 */
public record RequestContext(int uid, int gid, int pid, List<Integer> groups, SecurityContext securityContext) {
    public static final RequestContext ROOT = new RequestContext(0, 0, 0);

    public RequestContext {
        groups = List.copyOf(groups);
    }

    /** A caller whose request carries no security label. */
    public RequestContext(int uid, int gid, int pid, List<Integer> groups) {
        this(uid, gid, pid, groups, null);
    }

    /** A caller whose request carries no supplementary group. */
    public RequestContext(int uid, int gid, int pid) {
        this(uid, gid, pid, List.of());
    }

    public RequestContext withGroups(List<Integer> supplementary) {
        return new RequestContext(uid, gid, pid, supplementary, securityContext);
    }

    public RequestContext withSecurityContext(SecurityContext label) {
        return new RequestContext(uid, gid, pid, groups, label);
    }
}
