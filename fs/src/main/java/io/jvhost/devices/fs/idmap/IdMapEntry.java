package io.jvhost.devices.fs.idmap;

/**
 * One {@code --translate-uid} / {@code --translate-gid} entry, as virtiofsd's: which ids of one
 * side (guest: the caller of a request, the owner a SETATTR asks for; host: the owner in a file's
 * attributes) it covers, and what they become on the other side. Ids are unsigned 32-bit values,
 * held as longs; a range never runs past 2^32 - 1 (checked by {@link IdMapSyntax}).
 */
public sealed interface IdMapEntry {
    /** guest:FROM:TO:COUNT, guest ids [FROM, FROM+COUNT) become host ids from TO on. */
    record Guest(long fromGuest, long toHost, long count) implements IdMapEntry {}

    /** host:FROM:TO:COUNT, host ids [FROM, FROM+COUNT) are shown to the guest as ids from TO on. */
    record Host(long fromHost, long toGuest, long count) implements IdMapEntry {}

    /** squash-guest:FROM:TO:COUNT, all of the guest ids [FROM, FROM+COUNT) become host id TO. */
    record SquashGuest(long fromGuest, long toHost, long count) implements IdMapEntry {}

    /** squash-host:FROM:TO:COUNT, all of the host ids [FROM, FROM+COUNT) are shown as guest id TO. */
    record SquashHost(long fromHost, long toGuest, long count) implements IdMapEntry {}

    /** map:GUEST:HOST:COUNT, both ways: guest:GUEST:HOST:COUNT and host:HOST:GUEST:COUNT. */
    record Bidirectional(long guest, long host, long count) implements IdMapEntry {}

    /** forbid-guest:FROM:COUNT, a request acting as, or giving a file, one of these guest ids fails with EPERM. */
    record ForbidGuest(long fromGuest, long count) implements IdMapEntry {}
}
