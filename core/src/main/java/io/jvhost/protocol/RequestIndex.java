package io.jvhost.protocol;

import java.util.Optional;

/** Request types of one direction by wire id (ids count from 1 without gaps, as in the spec). */
final class RequestIndex<R extends Request> {
    private final Object[] byId;
    private final String side;

    RequestIndex(R[] values, String side) {
        this.byId = new Object[values.length + 1];
        this.side = side;
        for (R r : values) byId[r.id()] = r;
    }

    @SuppressWarnings("unchecked")
    Optional<R> find(int id) {
        return id > 0 && id < byId.length ? Optional.of((R) byId[id]) : Optional.empty();
    }

    /** The request with this id, or a ProtocolException naming the unknown id. */
    R of(int id) throws ProtocolException {
        return find(id).orElseThrow(() -> new ProtocolException("unknown " + side + " request id "
                + Integer.toUnsignedString(id) + " (known: 1.." + (byId.length - 1) + ")", null));
    }

    /** "front-end request SET_MEM_TABLE (5)" or "front-end request 99 (unknown)". */
    String describe(int id) {
        return side + " request " + find(id).map(Request::describe).orElse(Integer.toUnsignedString(id) + " (unknown)");
    }
}
