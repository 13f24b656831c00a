package io.jvhost.devices.fs.api;

/**
 * Where READDIR/READDIRPLUS entries go: the guest's reply buffer. The file system adds entries
 * in order until {@code add} answers false (the buffer is full; that entry was not added and
 * must be offered again by the next call, from its offset).
 */
public interface DirSink {
    /** READDIR: adds a plain entry; false if it did not fit. */
    boolean add(DirEntry entry);

    /**
     * READDIRPLUS: adds an entry with its looked-up node. False if it did not fit; then the
     * file system must undo the lookup count it took for {@code node} (a FORGET of one), since
     * the guest never saw it. For "." and ".." the file system passes a node id 0 entry
     * ({@link Entry#negative}), which counts no lookup, as the kernel expects.
     */
    boolean addPlus(DirEntry entry, Entry node);
}
