package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.FileSystem;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The order a restore reopens nodes in, so that it can reopen many at once: in waves, where a
 * node found by path comes one wave after its parent directory (wave 0: no location, a location
 * in the root, or a parent the blob lacks), and within a wave in groups of one parent (one pin of
 * that parent's descriptor per group), at most {@link FsRestorer#CHUNK} nodes each.
 *
 * <p>Parent chains are the blob's word: they are walked with a loop, not recursion (any depth),
 * each node once; a chain that loops back marks the node where it closes ({@link #loops()}: it has
 * no path, only its handle), and the nodes below it follow it wave by wave.
 *
 * @param waves the groups of each wave, in the blob's order within a group
 * @param loops the nodes whose parent chain loops back to themselves (the records, by identity)
 */
record ReopenPlan(List<List<List<FsSnapshot.InodeState>>> waves, Set<FsSnapshot.InodeState> loops) {

    /*
     * Keyed by the records themselves, by identity: maps of boxed node ids allocated a Long and a
     * node per entry, a young collection's worth per 15,000 nodes inside the downtime.
     */
    static ReopenPlan of(List<FsSnapshot.InodeState> inodes, Map<Long, FsSnapshot.InodeState> byId) {
        Map<FsSnapshot.InodeState, Integer> wave = new IdentityHashMap<>(inodes.size());
        Set<FsSnapshot.InodeState> loops = Collections.newSetFromMap(new IdentityHashMap<>());
        List<FsSnapshot.InodeState> chain = new ArrayList<>();
        Set<FsSnapshot.InodeState> inChain = Collections.newSetFromMap(new IdentityHashMap<>());
        for (FsSnapshot.InodeState n : inodes) {
            if (n.nodeId() == FileSystem.ROOT_ID || wave.containsKey(n)) continue;
            chain.clear();
            inChain.clear();
            FsSnapshot.InodeState cur = n;
            int top; // the wave of the chain's last node
            while (true) {
                chain.add(cur);
                inChain.add(cur);
                Location loc = cur.location();
                FsSnapshot.InodeState parent =
                        loc == null || loc.parentId() == FileSystem.ROOT_ID ? null : byId.get(loc.parentId());
                if (parent == null) {
                    top = 0;
                    break;
                }
                Integer known = wave.get(parent);
                if (known != null) {
                    top = known + 1;
                    break;
                }
                if (inChain.contains(parent)) {
                    loops.add(cur);
                    top = 0;
                    break;
                }
                cur = parent;
            }
            for (int i = chain.size() - 1, w = top; i >= 0; i--, w++) wave.put(chain.get(i), w);
        }
        List<Map<Long, List<List<FsSnapshot.InodeState>>>> byWave = new ArrayList<>();
        for (FsSnapshot.InodeState n : inodes) {
            Integer w = wave.get(n);
            if (w == null) continue; // the root
            while (byWave.size() <= w) byWave.add(new LinkedHashMap<>());
            long parent = n.location() == null ? -1 : n.location().parentId();
            List<List<FsSnapshot.InodeState>> groups = byWave.get(w).computeIfAbsent(parent, p -> new ArrayList<>());
            if (groups.isEmpty() || groups.getLast().size() == FsRestorer.CHUNK) groups.add(new ArrayList<>());
            groups.getLast().add(n);
        }
        List<List<List<FsSnapshot.InodeState>>> waves = new ArrayList<>();
        for (Map<Long, List<List<FsSnapshot.InodeState>>> w : byWave) {
            List<List<FsSnapshot.InodeState>> groups = new ArrayList<>();
            w.values().forEach(groups::addAll);
            waves.add(groups);
        }
        return new ReopenPlan(waves, loops);
    }
}
