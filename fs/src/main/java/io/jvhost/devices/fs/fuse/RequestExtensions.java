package io.jvhost.devices.fs.fuse;

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
 * filling the {@code 8 * total_extlen} bytes the in header counts). The only one jvhost
 * negotiates is FUSE_EXT_GROUPS (struct fuse_supp_groups: nr_groups, then the groups), with
 * FUSE_CREATE_SUPP_GROUP. A guest that sends anything else, or anything not laid out exactly
 * so, sent a malformed request: it is refused, never half-used.
 */
public record RequestExtensions(List<Integer> supplementaryGroups) {
    public static final RequestExtensions NONE = new RequestExtensions(List.of());
    /** fuse_ext_type: 0..31 are security-context counts (FUSE_MAX_NR_SECCTX), then this. */
    static final int FUSE_EXT_GROUPS = 32;

    private static final int HEADER = 8;
    /**
     * Linux sends one group (the parent directory's); the bound keeps what one request may
     * cost small, well under NGROUPS_MAX (65536).
     */
    static final int MAX_GROUPS = 32;
    /** The longest extension area a well-formed request can have: one FUSE_EXT_GROUPS of MAX_GROUPS. */
    static final int MAX_BYTES = align8(HEADER + 4 + 4 * MAX_GROUPS);

    public RequestExtensions {
        supplementaryGroups = List.copyOf(supplementaryGroups);
    }

    /**
     * The extensions of {@code h}'s request in {@code chain} (whose length was checked against
     * the header already), under the INIT flags in force.
     */
    public static RequestExtensions decode(InHeader h, DescriptorChain chain, long negotiatedFlags)
            throws MalformedRequestException {
        long length = 8L * h.totalExtlen();
        if (length == 0) return NONE;
        if ((negotiatedFlags & InitFlags.CREATE_SUPP_GROUP) == 0) {
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
        return parse(ByteBuffer.wrap(area).order(ByteOrder.LITTLE_ENDIAN));
    }

    private static RequestExtensions parse(ByteBuffer area) throws MalformedRequestException {
        List<Integer> groups = null;
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
            if (type != FUSE_EXT_GROUPS) throw new MalformedRequestException("request extension of type " + type);
            if (groups != null) throw new MalformedRequestException("FUSE_EXT_GROUPS twice");
            groups = groups(body);
        }
        return new RequestExtensions(groups == null ? List.of() : groups);
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
