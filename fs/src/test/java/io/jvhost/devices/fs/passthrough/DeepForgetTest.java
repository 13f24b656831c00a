package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jvhost.devices.fs.ProcessFds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Row 5 of issue 14: a guest builds 15,000 nested directories, forgets every ancestor first (each
 * stays, its child's location holds it) and then the deepest, so that one FORGET releases the
 * whole chain. The release must not recurse (the ring worker died of a StackOverflowError) and
 * must close every descriptor.
 */
class DeepForgetTest extends FsTestBase {
    private static final int DEPTH = 15_000;
    private static final Duration BOUND = Duration.ofMinutes(3);

    /** O_PATH inodes: the descriptors counted below (handle inodes hold none between requests: FileHandleInodesTest). */
    @Override
    PassthroughConfig config() {
        return PassthroughConfig.defaults().withInodeFileHandles(InodeFileHandles.NEVER);
    }

    /** Creates the chain as the guest would (MKDIR, one lookup per level); returns the node ids, outermost first. */
    private long[] mkdirChain(String name, int depth) throws Exception {
        long[] ids = new long[depth];
        long parent = ROOT_ID;
        for (int i = 0; i < depth; i++) {
            ids[i] = fs.mkdir(ROOT, parent, b(name), 0755, 0).nodeId();
            parent = ids[i];
        }
        return ids;
    }

    private void forgetAncestorsThenDeepest(long[] ids) {
        for (long id : ids) fs.forget(id, 1);
    }

    @Test
    void forgettingTheDeepestOfAChainReleasesItWithoutRecursion() throws Throwable {
        // Warm up (classes, lazily opened files) on a short chain, so that the count below is the file system's alone.
        SmallStack.call(BOUND, () -> {
            forgetAncestorsThenDeepest(mkdirChain("warm-up", 10));
            return null;
        });
        int baseline = ProcessFds.count();
        try {
            SmallStack.call(BOUND, () -> {
                long[] ids = mkdirChain("d", DEPTH);
                assertEquals(baseline + DEPTH, ProcessFds.count(), "one O_PATH descriptor per level");
                forgetAncestorsThenDeepest(ids);
                return null;
            });
            assertEquals(1, fs.snapshot().inodes().size(), "only the root is left");
            assertEquals(baseline, ProcessFds.count(), "every level's descriptor is closed");
            fs.getattr(ROOT, ROOT_ID, 0, false);
        } finally {
            flatten(share.resolve("d"));
        }
    }

    /** Removes a chain d/d/d/... too deep for path-based deletion (its paths exceed PATH_MAX). */
    private void flatten(Path top) throws Exception {
        Path spare = share.resolve("spare");
        while (Files.exists(top)) {
            Path child = top.resolve("d");
            if (Files.exists(child)) Files.move(child, spare);
            Files.delete(top);
            if (Files.exists(spare)) Files.move(spare, top);
        }
    }
}
