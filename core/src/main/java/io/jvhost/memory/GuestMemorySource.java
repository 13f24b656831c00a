package io.jvhost.memory;

/**
 * Where the data path gets the guest memory to use right now. A {@link MemoryTable} answers with
 * its latest published snapshot (one volatile read); a {@link GuestMemory} answers with itself.
 */
@FunctionalInterface
public interface GuestMemorySource {
    GuestMemory current();
}
