package io.jvhost.devices.fs.fuse;

import io.jvhost.devices.fs.api.RequestContext;
import io.jvhost.devices.fs.api.SecurityContext;
import io.jvhost.virtqueue.ChainReader;
import io.jvhost.virtqueue.DescriptorChain;
import io.jvhost.virtqueue.VirtqueueException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The request extensions after a request's arguments (include/uapi/linux/fuse.h: a sequence of
 * struct fuse_ext_header, each {@code size} bytes long including itself and a multiple of 8,
 * filling the {@code 8 * total_extlen} bytes the in header counts). jvhost takes two:
 * FUSE_EXT_GROUPS (struct fuse_supp_groups: nr_groups, then the groups), with
 * FUSE_CREATE_SUPP_GROUP, and the security context (struct fuse_secctx_header, whose
 * nr_secctx travels as the type, 0 or 1; then struct fuse_secctx, the xattr name with its NUL
 * and the label), with FUSE_SECURITY_CTX. A guest that sends anything else, or anything not
 * laid out exactly so, sent a malformed request: it is refused, never half-used.
 */
public record RequestExtensions(List<Integer> supplementaryGroups, SecurityContext securityContext) {
    public static final RequestExtensions NONE = new RequestExtensions(List.of(), null);
    /** fuse_ext_type: 0..31 are security-context counts (FUSE_MAX_NR_SECCTX), then this. */
    static final int FUSE_EXT_GROUPS = 32;
    /** FUSE_MAX_NR_SECCTX: the highest type that is a fuse_secctx_header's nr_secctx. */
    static final int FUSE_MAX_NR_SECCTX = 31;

    private static final int HEADER = 8;
    /**
     * Linux sends one group (the parent directory's); the bound keeps what one request may
     * cost small, well under NGROUPS_MAX (65536).
     */
    static final int MAX_GROUPS = 32;
    /** The longest xattr name of a security context, with its NUL (XATTR_NAME_MAX + 1). */
    static final int MAX_SECCTX_NAME = 256;
    /** The longest label: what one setxattr can set (XATTR_SIZE_MAX). */
    static final int MAX_SECCTX_VALUE = 65536;

    private static final byte[] SECURITY_PREFIX = "security.".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /**
     * The longest extension area a well-formed request can have: one FUSE_EXT_GROUPS of
     * MAX_GROUPS and one security context of the longest name and label.
     */
    static final int MAX_BYTES =
            align8(HEADER + 4 + 4 * MAX_GROUPS) + HEADER + align8(8 + MAX_SECCTX_NAME + MAX_SECCTX_VALUE);

    public RequestExtensions {
        supplementaryGroups = List.copyOf(supplementaryGroups);
    }

    /** The request's caller with what these extensions say about it. */
    public RequestContext applyTo(RequestContext ctx) {
        return ctx.withGroups(supplementaryGroups).withSecurityContext(securityContext);
    }

    /**
     * The extensions of {@code h}'s request in {@code chain} (whose length was checked against
     * the header already), under the INIT flags in force.
     */
    public static RequestExtensions decode(InHeader h, DescriptorChain chain, long negotiatedFlags)
            throws MalformedRequestException {
        long length = 8L * h.totalExtlen();
        if (length == 0) return NONE;
        if ((negotiatedFlags & (InitFlags.CREATE_SUPP_GROUP | InitFlags.SECURITY_CTX)) == 0) {
            throw new MalformedRequestException(length + " bytes of request extensions, none negotiated");
        }
        if (length > MAX_BYTES) {
            throw new MalformedRequestException(
                    length + " bytes of request extensions, at most " + MAX_BYTES + " make sense");
        }
        if (h.bodyLength() < 0 || h.len() != chain.readableBytes()) {
            throw new MalformedRequestException("request extensions past the request's end");
        }
        byte[] area = new byte[(int) length];
        try {
            ChainReader in = chain.reader();
            in.skip(h.len() - length);
            in.readFully(area);
        } catch (VirtqueueException e) {
            throw new MalformedRequestException("request extensions: " + e.getMessage(), e);
        }
        return parse(ByteBuffer.wrap(area).order(ByteOrder.LITTLE_ENDIAN), negotiatedFlags);
    }

    private static RequestExtensions parse(ByteBuffer area, long negotiatedFlags) throws MalformedRequestException {
        List<Integer> groups = null;
        SecurityContext label = null;
        boolean labelSeen = false;
        while (area.hasRemaining()) {
            if (area.remaining() < HEADER)
                throw new MalformedRequestException("a request extension without its header");
            long size = Integer.toUnsignedLong(area.getInt());
            int type = area.getInt();
            if (size < HEADER || size % 8 != 0 || size - HEADER > area.remaining()) {
                throw new MalformedRequestException(
                        "request extension of " + size + " bytes, " + (area.remaining() + HEADER) + " left");
            }
            ByteBuffer body = area.slice(area.position(), (int) size - HEADER).order(ByteOrder.LITTLE_ENDIAN);
            area.position(area.position() + (int) size - HEADER);
            if (type == FUSE_EXT_GROUPS && (negotiatedFlags & InitFlags.CREATE_SUPP_GROUP) != 0) {
                if (groups != null) throw new MalformedRequestException("FUSE_EXT_GROUPS twice");
                groups = groups(body);
            } else if (type >= 0 && type <= FUSE_MAX_NR_SECCTX && (negotiatedFlags & InitFlags.SECURITY_CTX) != 0) {
                if (labelSeen) throw new MalformedRequestException("a security context twice");
                labelSeen = true;
                label = securityContext(type, body);
            } else {
                throw new MalformedRequestException("request extension of type " + type + " not negotiated");
            }
        }
        return new RequestExtensions(groups == null ? List.of() : groups, label);
    }

    /**
     * struct fuse_secctx_header's body: nothing for nr_secctx 0 (no LSM labels); for 1 a
     * fuse_secctx (label size, padding), the name with its NUL, the label, padded to 8 bytes
     * exactly as fs/fuse/dir.c lays it out. Linux never sends more than one.
     */
    private static SecurityContext securityContext(int count, ByteBuffer body) throws MalformedRequestException {
        int size = HEADER + body.capacity();
        if (count == 0) {
            if (body.capacity() != 0) throw new MalformedRequestException("no security context in " + size + " bytes");
            return null;
        }
        if (count > 1) throw new MalformedRequestException(count + " security contexts");
        if (body.remaining() < 8) throw new MalformedRequestException("a security context without its fuse_secctx");
        long valueSize = Integer.toUnsignedLong(body.getInt());
        body.getInt(); // padding
        if (valueSize == 0 || valueSize > MAX_SECCTX_VALUE) {
            throw new MalformedRequestException("a security label of " + valueSize + " bytes");
        }
        int nameStart = body.position();
        int nul = -1;
        for (int i = nameStart; i < body.limit() && i - nameStart < MAX_SECCTX_NAME; i++) {
            if (body.get(i) == 0) {
                nul = i;
                break;
            }
        }
        if (nul <= nameStart) throw new MalformedRequestException("a security context name without its NUL, or empty");
        int nameLength = nul - nameStart;
        if (align8(8 + nameLength + 1 + (int) valueSize) != body.capacity()) {
            throw new MalformedRequestException(
                    "a security context of " + nameLength + " + " + valueSize + " bytes in " + size + " bytes");
        }
        byte[] name = new byte[nameLength];
        body.get(nameStart, name);
        if (!java.util.Arrays.equals(
                        name,
                        0,
                        Math.min(nameLength, SECURITY_PREFIX.length),
                        SECURITY_PREFIX,
                        0,
                        SECURITY_PREFIX.length)
                || nameLength <= SECURITY_PREFIX.length) {
            throw new MalformedRequestException("a security context that is no security.* xattr");
        }
        byte[] value = new byte[(int) valueSize];
        body.get(nul + 1, value);
        return new SecurityContext(name, value);
    }

    /** struct fuse_supp_groups, exactly as long as its count says (padded to 8 bytes, as fuse_ext_size does). */
    private static List<Integer> groups(ByteBuffer body) throws MalformedRequestException {
        if (body.remaining() < 4) throw new MalformedRequestException("FUSE_EXT_GROUPS without nr_groups");
        long count = Integer.toUnsignedLong(body.getInt());
        if (count == 0 || count > MAX_GROUPS || align8(HEADER + 4 + 4 * (int) count) != HEADER + body.capacity()) {
            throw new MalformedRequestException(
                    "FUSE_EXT_GROUPS of " + count + " groups in " + (HEADER + body.capacity()) + " bytes");
        }
        List<Integer> groups = new ArrayList<>((int) count);
        for (int i = 0; i < count; i++) groups.add(body.getInt());
        return groups;
    }

    private static int align8(int n) {
        return (n + 7) & ~7;
    }
}
