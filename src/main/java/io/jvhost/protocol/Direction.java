package io.jvhost.protocol;

import io.jvhost.nativeio.Fd;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Which way requests travel: {@link #FRONTEND} for front-end requests on the main socket,
 * {@link #BACKEND} for back-end requests on the channel set up by SET_BACKEND_REQ_FD. Both ends of
 * a channel use the same direction (one sends its requests, the other receives them and replies),
 * so {@link Connection} and {@link MessageCodec} are written once and take a direction, as
 * rust-vmm's {@code Endpoint<R>} is one endpoint for both roles. A direction knows its request
 * table by wire id and its payload layouts.
 */
public final class Direction<R extends Enum<R> & Request, M extends Message<R>> {
    public static final Direction<FrontendRequest, FrontendMessage> FRONTEND =
            new Direction<>("front-end", FrontendRequest.class, FrontendMessageCodec::decode);
    public static final Direction<BackendRequest, BackendMessage> BACKEND =
            new Direction<>("back-end", BackendRequest.class, BackendMessageCodec::decode);

    /** Parses a payload whose size and fd count are already within the request's limits. */
    @FunctionalInterface
    interface PayloadDecoder<R, M> {
        M decode(R request, PayloadReader r, int size, List<Fd> fds, Header header) throws ProtocolException;
    }

    private final String side;
    /** Request types by wire id; ids count from 1 without gaps, as in the spec. */
    private final List<R> byId;
    private final PayloadDecoder<R, M> decoder;

    private Direction(String side, Class<R> requests, PayloadDecoder<R, M> decoder) {
        this.side = side;
        this.byId = List.of(requests.getEnumConstants());
        this.decoder = Objects.requireNonNull(decoder, "decoder");
        for (int i = 0; i < byId.size(); i++) {
            if (byId.get(i).id() != i + 1) throw new IllegalStateException(side + " request ids have a gap at " + (i + 1));
        }
    }

    public Optional<R> find(int id) {
        return id > 0 && id <= byId.size() ? Optional.of(byId.get(id - 1)) : Optional.empty();
    }

    /** The request with this id, or a ProtocolException naming the unknown id. */
    public R of(int id) throws ProtocolException {
        return find(id).orElseThrow(() -> new ProtocolException("unknown " + side + " request id "
                + Integer.toUnsignedString(id) + " (known: 1.." + byId.size() + ")", null));
    }

    /** "front-end request SET_MEM_TABLE (5)" or "back-end request 99 (unknown)". */
    public String describe(int id) {
        return side + " request " + find(id).map(Request::describe).orElse(Integer.toUnsignedString(id) + " (unknown)");
    }

    M decodePayload(R request, PayloadReader r, int size, List<Fd> fds, Header header) throws ProtocolException {
        return decoder.decode(request, r, size, fds, header);
    }

    @Override
    public String toString() {
        return side + " requests";
    }
}
