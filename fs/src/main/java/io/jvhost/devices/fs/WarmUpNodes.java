package io.jvhost.devices.fs;

import io.jvhost.devices.fs.api.DirEntry;
import io.jvhost.devices.fs.api.DirSink;
import io.jvhost.devices.fs.api.Entry;
import io.jvhost.devices.fs.api.FileSystem;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.api.RequestContext;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The nodes of the state-path warm-up: up to a given number of the shared directory's existing
 * entries, looked up breadth-first through READDIRPLUS as a guest's {@code ls -R} would, and some
 * of its regular files opened read-only (nothing is read, written, created or changed). A state of
 * real nodes and open files is what a migration's load reopens; a state of the root alone, or of
 * nodes without handles, leaves that code cold (measured: 1,500 handles reopened in 35-46 ms on a
 * destination whose warm-up had opened none, 23-30 µs each).
 */
final class WarmUpNodes {
    /** Entries taken per READDIRPLUS, as a guest's 4 KiB-page reply holds a few dozen. */
    private static final int BATCH = 64;
    /** d_type of a directory and of a regular file (dirent.h). */
    private static final int DT_DIR = 4, DT_REG = 8;

    /** What the warm-up holds: the nodes looked up, and the regular files among them it may open. */
    record Found(int nodes, long[] files) {}

    private WarmUpNodes() {}

    /**
     * Looks up at most {@code max} entries below the root of {@code fs}, and notes at most {@code
     * maxFiles} of the regular files among them.
     */
    static Found lookUp(FileSystem fs, int max, int maxFiles) {
        RequestContext ctx = RequestContext.ROOT;
        Deque<Long> directories = new ArrayDeque<>();
        directories.add(FileSystem.ROOT_ID);
        long[] files = new long[maxFiles];
        int found = 0, fileCount = 0;
        while (!directories.isEmpty() && found < max) {
            long dir = directories.poll();
            long fh;
            try {
                fh = fs.opendir(ctx, dir, 0).fh();
            } catch (FsException e) {
                continue; // not readable to us: the warm-up does without it
            }
            try {
                long offset = 0;
                while (found < max) {
                    Sink sink = new Sink(Math.min(BATCH, max - found));
                    fs.readdirplus(ctx, dir, fh, offset, sink);
                    if (sink.added == 0) break;
                    found += sink.nodes;
                    offset = sink.next;
                    for (int i = 0; i < sink.directoryCount; i++) directories.add(sink.directories[i]);
                    for (int i = 0; i < sink.fileCount && fileCount < maxFiles; i++) files[fileCount++] = sink.files[i];
                }
            } catch (FsException e) {
                // a directory that changed under us: what was found so far is enough
            } finally {
                try {
                    fs.releasedir(ctx, dir, fh, 0);
                } catch (FsException e) {
                    // releasing our own handle cannot matter to the warm-up
                }
            }
        }
        return new Found(found, java.util.Arrays.copyOf(files, fileCount));
    }

    /** One READDIRPLUS reply's worth: counts the nodes, remembers the directories and regular files among them. */
    private static final class Sink implements DirSink {
        private final int capacity;
        private final long[] directories, files;
        int added, nodes, directoryCount, fileCount;
        long next;

        Sink(int capacity) {
            this.capacity = capacity;
            this.directories = new long[capacity];
            this.files = new long[capacity];
        }

        @Override
        public boolean add(DirEntry entry) {
            return false; // READDIRPLUS only
        }

        @Override
        public boolean addPlus(DirEntry entry, Entry node) {
            if (nodes == capacity) return false;
            added++;
            next = entry.nextOffset();
            if (node.nodeId() == 0) return true; // "." and "..": no lookup counted
            nodes++;
            if (entry.type() == DT_DIR) directories[directoryCount++] = node.nodeId();
            else if (entry.type() == DT_REG) files[fileCount++] = node.nodeId();
            return true;
        }
    }
}
