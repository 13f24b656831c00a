package io.jvhost.devices.fs.idmap;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * virtiofsd's in-daemon ("soft") translation of one kind of id, uids or gids, between the guest
 * and the host: the guest-to-host and host-to-guest directions are independent (a map need not
 * be invertible), and an id no entry covers stays as it is. Entries of one direction must not
 * overlap. Immutable; ids are the 32-bit values FUSE and stat carry, taken unsigned.
 */
public final class IdTranslation {
    public static final IdTranslation IDENTITY = new IdTranslation(List.of(), List.of());

    /** A source range [from, from+count) and what it becomes: to + (id - from), or to alone, or refused. */
    private record Span(long from, long count, long to, Kind kind, IdMapEntry entry) {
        boolean covers(long id) {
            return id >= from && id - from < count;
        }
    }

    private enum Kind {
        RANGE,
        SQUASH,
        FORBID
    }

    /** Thrown for a guest id a forbid-guest entry covers. */
    public static final class ForbiddenId extends Exception {
        ForbiddenId(long id) {
            super("guest id " + id + " is forbidden (forbid-guest)", null, false, false);
        }
    }

    private final List<Span> guestToHost;
    private final List<Span> hostToGuest;

    private IdTranslation(List<Span> guestToHost, List<Span> hostToGuest) {
        this.guestToHost = guestToHost;
        this.hostToGuest = hostToGuest;
    }

    /** The translation the entries describe; IllegalArgumentException naming two entries that overlap. */
    public static IdTranslation of(List<IdMapEntry> entries) {
        List<Span> toHost = new ArrayList<>(), toGuest = new ArrayList<>();
        for (IdMapEntry e : entries) {
            switch (e) {
                case IdMapEntry.Guest(long from, long to, long count) ->
                    add(toHost, new Span(from, count, to, Kind.RANGE, e));
                case IdMapEntry.Host(long from, long to, long count) ->
                    add(toGuest, new Span(from, count, to, Kind.RANGE, e));
                case IdMapEntry.SquashGuest(long from, long to, long count) ->
                    add(toHost, new Span(from, count, to, Kind.SQUASH, e));
                case IdMapEntry.SquashHost(long from, long to, long count) ->
                    add(toGuest, new Span(from, count, to, Kind.SQUASH, e));
                case IdMapEntry.Bidirectional(long guest, long host, long count) -> {
                    add(toHost, new Span(guest, count, host, Kind.RANGE, e));
                    add(toGuest, new Span(host, count, guest, Kind.RANGE, e));
                }
                case IdMapEntry.ForbidGuest(long from, long count) ->
                    add(toHost, new Span(from, count, 0, Kind.FORBID, e));
            }
        }
        if (toHost.isEmpty() && toGuest.isEmpty()) return IDENTITY;
        toHost.sort(Comparator.comparingLong(Span::from));
        toGuest.sort(Comparator.comparingLong(Span::from));
        return new IdTranslation(List.copyOf(toHost), List.copyOf(toGuest));
    }

    private static void add(List<Span> spans, Span s) {
        for (Span other : spans) {
            if (s.from < other.from + other.count && other.from < s.from + s.count)
                throw new IllegalArgumentException(
                        "'" + IdMapSyntax.spelling(s.entry) + "' overlaps '" + IdMapSyntax.spelling(other.entry) + "'");
        }
        spans.add(s);
    }

    public boolean isIdentity() {
        return this == IDENTITY;
    }

    /** The host id for guest id {@code guestId} (the caller of a request, an owner SETATTR gives). */
    public int toHost(int guestId) throws ForbiddenId {
        long id = Integer.toUnsignedLong(guestId);
        Span s = find(guestToHost, id);
        if (s == null) return guestId;
        return switch (s.kind) {
            case RANGE -> (int) (s.to + (id - s.from));
            case SQUASH -> (int) s.to;
            case FORBID -> throw new ForbiddenId(id);
        };
    }

    /** The id the guest is shown for host id {@code hostId} (a file's owner). */
    public int toGuest(int hostId) {
        long id = Integer.toUnsignedLong(hostId);
        Span s = find(hostToGuest, id);
        if (s == null) return hostId;
        return switch (s.kind) {
            case RANGE -> (int) (s.to + (id - s.from));
            case SQUASH -> (int) s.to;
            case FORBID -> throw new IllegalStateException("no host id is forbidden");
        };
    }

    /** The span covering {@code id} in spans sorted by start and not overlapping, or null. */
    private static Span find(List<Span> spans, long id) {
        int lo = 0, hi = spans.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Span s = spans.get(mid);
            if (s.covers(id)) return s;
            if (id < s.from) hi = mid - 1;
            else lo = mid + 1;
        }
        return null;
    }
}
