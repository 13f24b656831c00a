package io.jvhost.protocol;

import io.jvhost.nativeio.Fd;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Turns typed messages into wire frames and back, for both directions and for replies.
 *
 * <p>Decoding validates everything the wire format fixes: header version, reserved flags and
 * the REPLY bit; that the payload is exactly as long as the header says; the payload size and fd
 * count allowed for the request type; then the type's own layout (region count equal to fd
 * count, config length, "no fd" bits matching the fds, enum values, reserved bits). Anything
 * wrong is a {@link ProtocolException} naming the request. Decoding takes ownership of the fds
 * handed in: on success they belong to the returned message (fds the message does not keep,
 * like a stray fd on REM_MEM_REG, are closed); on failure all of them are closed.
 *
 * <p>What is left to the handler: whether a vring index (0..0x7fff for u32 indices) names a
 * queue the device has, whether a request is allowed given the negotiated features and the
 * connection's state, and whether a GET_CONFIG reply is as long as was asked.
 */
public final class MessageCodec {
    private MessageCodec() {}

    /** A request of either direction; NEED_REPLY only makes sense once REPLY_ACK is negotiated (see {@link ReplyRule}). */
    public static EncodedMessage encode(Message<?> message, boolean needReply) {
        byte[] payload = switch (message) {
            case FrontendMessage m -> FrontendMessageCodec.encodePayload(m);
            case BackendMessage m -> BackendMessageCodec.encodePayload(m);
        };
        Request request = message.request();
        return frame(Header.forRequest(request, needReply, payload.length), request, payload, message.fds());
    }

    /** A reply to {@code request} (of either direction); its flags are exactly version|REPLY. */
    public static EncodedMessage encodeReply(Request request, Reply reply) {
        checkReplyType(request, replyTypes(request), reply);
        byte[] payload = ReplyCodec.encodePayload(reply);
        return new EncodedMessage(Header.forReply(request, payload.length), payload, reply.fds());
    }

    /** Which {@link Reply} records may answer {@code request} (U64: a value, or an ack for NEED_REPLY). */
    public static List<Class<? extends Reply>> replyTypes(Request request) {
        return ReplyCodec.replyTypes(request);
    }

    /**
     * Decodes a request travelling in {@code direction}: front-end requests on the back-end's
     * side, back-end requests on the front-end's side of the back-end channel. Takes ownership
     * of {@code fds}.
     */
    public static <R extends Enum<R> & Request, M extends Message<R>> M decode(
            Direction<R, M> direction, Header header, ByteBuffer payload, List<Fd> fds) throws ProtocolException {
        String what = direction.describe(header.request());
        return owning(header, fds, what, owned -> {
            checkRequestFrame(header, payload, owned, what);
            R request = direction.of(header.request());
            checkLimits(request, header, owned, what);
            return direction.decodePayload(request, new PayloadReader(payload, header), header.size(), owned, header);
        });
    }

    /**
     * Decodes the reply to {@code request} (of either direction). The header must carry exactly
     * version|REPLY (as QEMU insists) and the request's id. Takes ownership of {@code fds}.
     */
    public static Reply decodeReply(Request request, Header header, ByteBuffer payload, List<Fd> fds)
            throws ProtocolException {
        String what = "reply to " + request.describe();
        return owning(header, fds, what, owned -> {
            checkReplyFrame(request, header, payload, owned, what);
            return ReplyCodec.decode(request, new PayloadReader(payload, header), header.size(), owned, header);
        });
    }

    @FunctionalInterface
    private interface FdsDecoder<T extends CarriesFds> {
        T decode(List<Fd> owned) throws ProtocolException;
    }

    /**
     * Runs {@code decoder} owning a copy of {@code fds}: on success the fds the result does not
     * keep are closed, on any failure all of them; every failure is a ProtocolException naming
     * {@code what} and carrying the header.
     */
    private static <T extends CarriesFds> T owning(Header header, List<Fd> fds, String what, FdsDecoder<T> decoder)
            throws ProtocolException {
        List<Fd> owned = List.copyOf(fds);
        boolean ok = false;
        try {
            T decoded = decoder.decode(owned);
            closeUnclaimed(owned, decoded.fds());
            ok = true;
            return decoded;
        } catch (IllegalArgumentException | BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new ProtocolException(what + ": " + e.getMessage(), header, e);
        } catch (ProtocolException e) {
            throw withHeader(e, header, what);
        } finally {
            if (!ok) owned.forEach(Fd::close);
        }
    }

    private static void checkRequestFrame(Header header, ByteBuffer payload, List<Fd> fds, String what)
            throws ProtocolException {
        header.checkFraming(what, true);
        if (header.isReply()) throw new ProtocolException(what + ": REPLY flag set on a request", header);
        checkPayloadLength(header, payload, fds, what);
    }

    private static void checkReplyFrame(Request request, Header header, ByteBuffer payload, List<Fd> fds, String what)
            throws ProtocolException {
        header.checkFraming(what, true);
        if (header.flags() != Header.REPLY_FLAGS) {
            throw new ProtocolException(
                    what + ": reply flags 0x" + Integer.toHexString(header.flags()) + ", expected exactly 0x"
                            + Integer.toHexString(Header.REPLY_FLAGS),
                    header);
        }
        if (header.request() != request.id()) {
            throw new ProtocolException(
                    what + ": got a reply for request id " + Integer.toUnsignedString(header.request()), header);
        }
        checkPayloadLength(header, payload, fds, what);
    }

    private static void checkPayloadLength(Header header, ByteBuffer payload, List<Fd> fds, String what)
            throws ProtocolException {
        if (payload.remaining() != header.size()) {
            throw new ProtocolException(
                    what + ": header announces " + header.unsignedSize() + " payload bytes but " + payload.remaining()
                            + " are present",
                    header);
        }
        if (fds.size() > Header.MAX_FDS) {
            throw new ProtocolException(what + ": " + fds.size() + " fds, at most " + Header.MAX_FDS, header);
        }
    }

    private static void checkLimits(Request request, Header header, List<Fd> fds, String what)
            throws ProtocolException {
        int size = header.size();
        if (size < request.minPayload() || size > request.maxPayload()) {
            throw new ProtocolException(
                    what + ": payload of " + header.unsignedSize() + " bytes, expected "
                            + range(request.minPayload(), request.maxPayload()),
                    header);
        }
        if (fds.size() < request.minFds() || fds.size() > request.maxFds()) {
            throw new ProtocolException(
                    what + ": " + fds.size() + " fds attached, expected " + range(request.minFds(), request.maxFds()),
                    header);
        }
    }

    static String range(int min, int max) {
        return min == max ? "exactly " + min : min + ".." + max;
    }

    /** Makes sure every codec error names the request and carries the header. */
    private static ProtocolException withHeader(ProtocolException e, Header header, String what) {
        if (e.header().isPresent() && e.getMessage().startsWith(what)) return e;
        String message = e.getMessage().startsWith(what) ? e.getMessage() : what + ": " + e.getMessage();
        ProtocolException wrapped = new ProtocolException(message, header, e.streamInSync(), e.getCause());
        wrapped.setStackTrace(e.getStackTrace());
        return wrapped;
    }

    private static void closeUnclaimed(List<Fd> received, List<Fd> claimed) {
        Set<Fd> kept = Collections.newSetFromMap(new IdentityHashMap<>());
        kept.addAll(claimed);
        for (Fd fd : received) if (!kept.contains(fd)) fd.close();
    }

    private static EncodedMessage frame(Header header, Request request, byte[] payload, List<Fd> fds) {
        // The records guarantee this; a failure here is an encoder bug, caught before it reaches a peer.
        if (payload.length < request.minPayload()
                || payload.length > request.maxPayload()
                || fds.size() < request.minFds()
                || fds.size() > request.maxFds()) {
            throw new IllegalStateException("encoded " + request.describe() + " with " + payload.length + " bytes and "
                    + fds.size() + " fds, outside its limits");
        }
        return new EncodedMessage(header, payload, fds);
    }

    private static void checkReplyType(Request request, List<Class<? extends Reply>> allowed, Reply reply) {
        if (allowed.stream().noneMatch(c -> c.isInstance(reply))) {
            throw new IllegalArgumentException(
                    reply.getClass().getSimpleName() + " cannot answer " + request.describe() + " (expected one of "
                            + allowed.stream().map(Class::getSimpleName).toList() + ")");
        }
    }
}
