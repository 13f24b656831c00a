package io.jvhost.protocol;

import io.jvhost.nativeio.Fd;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Which way requests travel: {@link #FRONTEND} for front-end requests on the main socket,
 * {@link #BACKEND} for back-end requests on the channel set up by SET_BACKEND_REQ_FD. Both ends of
 * a channel use the same direction (one sends its requests, the other receives them and replies),
 * so {@link Connection} and {@link MessageCodec} are written once and take a direction, as
 * rust-vmm's {@code Endpoint<R>} is one endpoint for both roles. A direction knows its request
 * table, by wire id and by message record, and its payload layouts.
 */
public final class Direction<R extends Enum<R> & Request, M extends Message<R>> {
    public static final Direction<FrontendRequest, FrontendMessage> FRONTEND =
            new Direction<>("front-end", FrontendRequest.class, FrontendMessage.class, FrontendMessageCodec::decode);
    public static final Direction<BackendRequest, BackendMessage> BACKEND =
            new Direction<>("back-end", BackendRequest.class, BackendMessage.class, BackendMessageCodec::decode);

    /** Parses a payload whose size and fd count are already within the request's limits. */
    @FunctionalInterface
    interface PayloadDecoder<R, M> {
        M decode(R request, PayloadReader r, int size, List<Fd> fds, Header header) throws ProtocolException;
    }

    private final String side;
    /** Request types by wire id; ids count from 1 without gaps, as in the spec. */
    private final List<R> byId;
    /** Request types by their message record: the inverse of {@link Request#messageType()}. */
    private final Map<Class<?>, R> byMessageType;

    private final PayloadDecoder<R, M> decoder;

    private Direction(String side, Class<R> requests, Class<M> messages, PayloadDecoder<R, M> decoder) {
        this.side = side;
        this.byId = List.of(requests.getEnumConstants());
        this.decoder = Objects.requireNonNull(decoder, "decoder");
        Map<Class<?>, R> byType = new HashMap<>();
        for (int i = 0; i < byId.size(); i++) {
            R request = byId.get(i);
            if (request.id() != i + 1) throw new IllegalStateException(side + " request ids have a gap at " + (i + 1));
            if (byType.put(request.messageType(), request) != null) {
                throw new IllegalStateException(request.messageType().getSimpleName() + " named by two requests");
            }
        }
        // Every record of the sealed hierarchy has exactly one request: checked once, here, so
        // requestOf can never miss.
        Set<Class<?>> records = new HashSet<>();
        collectRecords(messages, records);
        if (!records.equals(byType.keySet())) {
            throw new IllegalStateException(
                    side + " message records " + records + " do not match the request table " + byType.keySet());
        }
        this.byMessageType = Map.copyOf(byType);
    }

    private static void collectRecords(Class<?> type, Set<Class<?>> into) {
        if (type.isRecord()) {
            into.add(type);
        } else {
            for (Class<?> sub : type.getPermittedSubclasses()) collectRecords(sub, into);
        }
    }

    public Optional<R> find(int id) {
        return id > 0 && id <= byId.size() ? Optional.of(byId.get(id - 1)) : Optional.empty();
    }

    /** The request with this id, or a ProtocolException naming the unknown id. */
    public R of(int id) throws ProtocolException {
        return find(id).orElseThrow(() -> new ProtocolException(
                "unknown " + side + " request id " + Integer.toUnsignedString(id) + " (known: 1.." + byId.size() + ")",
                null));
    }

    /** "front-end request SET_MEM_TABLE (5)" or "back-end request 99 (unknown)". */
    public String describe(int id) {
        return side + " request " + find(id).map(Request::describe).orElse(Integer.toUnsignedString(id) + " (unknown)");
    }

    /** The request type {@code message} is a record of. */
    public R requestOf(M message) {
        return byMessageType.get(message.getClass());
    }

    M decodePayload(R request, PayloadReader r, int size, List<Fd> fds, Header header) throws ProtocolException {
        return decoder.decode(request, r, size, fds, header);
    }

    @Override
    public String toString() {
        return side + " requests";
    }
}
