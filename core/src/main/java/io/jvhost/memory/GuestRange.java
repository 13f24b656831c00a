package io.jvhost.memory;

/** A guest-physical address range that lies within a single memory region. */
public record GuestRange(long guestPhysAddr, long length) {}
