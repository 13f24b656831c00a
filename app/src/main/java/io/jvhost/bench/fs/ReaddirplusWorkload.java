package io.jvhost.bench.fs;

import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.devices.fs.client.FuseClient.DirentPlus;
import io.jvhost.devices.fs.client.FuseClient.Reply;
import java.io.IOException;
import java.util.BitSet;

/**
 * Whole listings of the {@link Fixtures#LIST_ENTRIES}-entry directory with READDIRPLUS, each
 * stream on its own open handle, {@link #BUFFER} bytes per request (glibc's getdents buffer),
 * from offset 0 until an empty reply. One unit = one listing, counted when every name came
 * back exactly once.
 */
final class ReaddirplusWorkload extends Workload {
    static final int BUFFER = 32 * 1024;
    private final long[] offsets;
    private final BitSet[] seen;
    private final int[] entries;

    ReaddirplusWorkload(Target t, int depth) {
        super(t);
        offsets = new long[depth];
        seen = new BitSet[depth];
        entries = new int[depth];
        for (int i = 0; i < depth; i++) seen[i] = new BitSet(Fixtures.LIST_ENTRIES);
    }

    @Override
    void start(int slot) {
        target.fuse.submitReaddirplus(target.listHandles[slot], offsets[slot], BUFFER, slot);
    }

    @Override
    long complete(Reply r, boolean stopping) throws IOException {
        r.orThrow();
        int slot = slot(r);
        var list = FuseClient.direntplus(r);
        if (!list.isEmpty()) {
            for (DirentPlus e : list) {
                offsets[slot] = e.offset();
                if (e.name().equals(".") || e.name().equals("..")) continue;
                int i = index(e.name());
                if (i < 0 || seen[slot].get(i) || e.nodeId() == 0) throw wrong(target, "READDIRPLUS entry " + e);
                seen[slot].set(i);
                entries[slot]++;
            }
            start(slot); // a listing is never left half-way
            return 0;
        }
        if (entries[slot] != Fixtures.LIST_ENTRIES) {
            throw wrong(target, "READDIRPLUS listed " + entries[slot] + " of " + Fixtures.LIST_ENTRIES + " entries");
        }
        offsets[slot] = 0;
        entries[slot] = 0;
        seen[slot].clear();
        verified++;
        if (!stopping) start(slot);
        return 1;
    }

    private static int index(String name) {
        if (name.length() != 5 || name.charAt(0) != 'e') return -1;
        try {
            int i = Integer.parseInt(name.substring(1));
            return i < Fixtures.LIST_ENTRIES ? i : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
