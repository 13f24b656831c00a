package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;

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

    @Test
    void workloadOnVirtiofsd(TestRun run) throws Exception {
        Path shared = run.dir("shared-virtiofsd");
        Virtiofsd fsd = Virtiofsd.builder(run, "virtiofsd").sharedDir(shared).args("--xattr").start();
        FsWorkload.Report r = FsWorkload.run(run, "vm-virtiofsd", fsd.socket(), BIG_MIB, ENTRIES, fsd.process());
        FsWorkload.assertAllPassed(r);
        assertEquals(FsWorkload.hostTree(shared), r.tree(), "the host's tree is the guest's");
        run.note("virtiofsd: %s", r.doneLine());
    }
}
