package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jvhost.testing.qemu.JvhostDaemon;
import io.jvhost.testing.qemu.ManagedProcess;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.Virtiofsd;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A Linux guest under QEMU 10 lives on a virtio-fs mount: the fs-workload scenario (create,
 * write, append, rename, links, chmod/chown, truncate, times, fsync, fifo, fallocate, xattrs,
 * a directory of 1000 entries, a 64 MiB file with its checksum) must pass every step, and the
 * host must hold exactly the tree the guest reports.
 */
@QemuTest
@Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES)
class FsWorkloadQemuTest {
    static final int BIG_MIB = 64;
    static final int ENTRIES = 1000;

    /**
     * The workload on jvhost, then on virtiofsd (the reference) over an identical empty
     * directory: every step passes on jvhost, the host holds what the guest reports, and both
     * back-ends give the guest exactly the same results (a differential check).
     */
    @Test
    void workloadOnJvhostMatchesVirtiofsd(TestRun run) throws Exception {
        Path mine = run.dir("shared-jvhost");
        Path sock = run.socket("jvhost-fs");
        ManagedProcess jvhost =
                JvhostDaemon.start(run, "jvhost-fs", sock, "fs", "--shared-dir", mine.toString(), "--xattr");
        long t0 = System.nanoTime();
        FsWorkload.Report ours = FsWorkload.run(run, "vm-jvhost", sock, BIG_MIB, ENTRIES, jvhost);
        long jvhostNanos = System.nanoTime() - t0;
        FsWorkload.assertAllPassed(ours);
        assertEquals(FsWorkload.hostTree(mine), ours.tree(), "the host's tree is the guest's (jvhost)");

        Path theirs = run.dir("shared-virtiofsd");
        Virtiofsd fsd = Virtiofsd.builder(run, "virtiofsd")
                .sharedDir(theirs)
                .args("--xattr")
                .start();
        t0 = System.nanoTime();
        FsWorkload.Report reference =
                FsWorkload.run(run, "vm-virtiofsd", fsd.socket(), BIG_MIB, ENTRIES, fsd.process());
        long virtiofsdNanos = System.nanoTime() - t0;
        FsWorkload.assertAllPassed(reference);
        assertEquals(FsWorkload.hostTree(theirs), reference.tree(), "the host's tree is the guest's (virtiofsd)");
        assertEquals(reference.comparable(), ours.comparable(), "jvhost answers the guest as virtiofsd does");
        run.note(
                "jvhost: %s in %.1f s; virtiofsd: %s in %.1f s (boot + workload, TCG)",
                ours.doneLine(), jvhostNanos / 1e9, reference.doneLine(), virtiofsdNanos / 1e9);
    }
}
