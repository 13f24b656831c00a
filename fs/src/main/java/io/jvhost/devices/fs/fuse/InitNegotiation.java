package io.jvhost.devices.fs.fuse;

/**
 * The server's answer to a guest's INIT, worked out without touching the rings: accept (with
 * the session and how long the reply struct is), ask a newer-major guest to come back with 7,
 * or refuse an older major.
 */
public sealed interface InitNegotiation {
    int MAJOR = 7;
    /** The protocol minor jvhost answers with (7.38: Linux 6.2 onwards; older guests get their own). */
    int MINOR = 38;

    int PAGE_SIZE = 4096;
    /** The kernel's FUSE_DEFAULT_MAX_PAGES_PER_REQ, in force unless MAX_PAGES is granted. */
    int DEFAULT_MAX_PAGES = 32;

    /** A 7.x guest: the session, answered with the first {@code replySize} bytes of fuse_init_out. */
    record Accept(InitReply session, int replySize) implements InitNegotiation {}

    /** A guest of a newer major: an 8-byte reply naming 7 makes it send INIT again in 7.x. */
    record AskForMajor7(InitReply reply) implements InitNegotiation {}

    /** A guest older than 7.x: -EPROTO. */
    record Refuse() implements InitNegotiation {}

    /**
     * @param supportedByFs {@code FileSystem.supportedInitFlags()}
     * @param maxWrite      the largest WRITE the server takes (a multiple of 4 KiB)
     */
    static InitNegotiation negotiate(FuseRequest.Init guest, long supportedByFs, int maxWrite) {
        if (guest.major() < MAJOR) return new Refuse();
        if (guest.major() > MAJOR) {
            return new AskForMajor7(new InitReply(MAJOR, MINOR, MINOR, 0, 0, 0, 0, 0, 0, 0));
        }
        int size = ReplyEncoder.initOutSize(guest.minor());
        long grantable = (supportedByFs & ~InitFlags.SERVER_CANNOT) | InitFlags.SERVER_OWNED;
        long flags = guest.flags() & grantable;
        if (size < ReplyEncoder.INIT_OUT_SIZE) flags &= 0xFFFF_FFFFL; // no flags2 field to carry the rest
        if (size < ReplyEncoder.COMPAT_22_INIT_OUT_SIZE) flags = 0; // no flags field at all
        boolean maxPages = (flags & InitFlags.MAX_PAGES) != 0;
        int write = maxPages ? maxWrite : Math.min(maxWrite, DEFAULT_MAX_PAGES * PAGE_SIZE);
        InitReply session = new InitReply(
                MAJOR,
                MINOR,
                Math.min(guest.minor(), MINOR),
                guest.maxReadahead(),
                flags,
                0,
                0, // max_background, congestion_threshold: 0 keeps the kernel's defaults
                write,
                1, // time_gran: timestamps are exact to the nanosecond
                maxPages ? write / PAGE_SIZE : 0);
        return new Accept(session, size);
    }
}
