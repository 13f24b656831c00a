package io.jvhost.devices.fs;

import static io.jvhost.devices.fs.FuseHarness.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.passthrough.InodeFileHandles;
import io.jvhost.devices.fs.passthrough.PassthroughConfig;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.nativeio.Errno;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --inode-file-handles through the whole device: with this process's soft fd limit lowered
 * (prlimit, as a daemon started with a low limit would have it) below the number of files the
 * guest looks up, prefer and mandatory keep every inode as a file handle and serve them all
 * (LOOKUP, GETATTR, OPEN, READ), while never keeps one O_PATH descriptor per inode and so runs
 * into EMFILE, as before.
 */
class FileHandleInodesWireTest {
    private static final int FILES = 3000, HEADROOM = 400;
    private static final int ATTR = OUT_HEADER + 104, ENTRY = OUT_HEADER + 128, OPEN_OUT = OUT_HEADER + 16;

    @TempDir
    Path tmp;

    private PassthroughFs pfs;
    private FuseHarness h;
    /** Started before the limit is lowered, it puts the limit back: spawning one then could fail for want of descriptors. */
    private Process restorer;

    private void start(InodeFileHandles mode) throws Exception {
        Path share = Files.createDirectory(tmp.resolve("share"));
        for (int i = 0; i < FILES; i++) Files.writeString(share.resolve("f" + i), "file " + i);
        pfs = PassthroughFs.open(share, PassthroughConfig.defaults().withInodeFileHandles(mode));
        assertEquals(mode, pfs.inodeFileHandles(), "ext4 and tmpfs have file handles");
        h = FuseHarness.start(tmp, null, new FsDevice("myfs", 1, new FuseServer(pfs)), GuestDriver.Options.defaults(2));
        h.init().ok();
        // Warm up every path a request takes (classes, lazily opened files) before the limit is lowered.
        long warm = lookup("f0");
        getattr(warm).ok();
        assertEquals("file 0", read(warm));
        forget(warm, 3);
    }

    @AfterEach
    void stop() throws Exception {
        if (restorer != null) {
            restorer.getOutputStream().close(); // its read returns: it restores the limit
            assertEquals(0, restorer.waitFor(), "the fd limit is restored");
        }
        if (h != null) h.close();
        if (pfs != null) pfs.close();
    }

    /** Lowers the soft RLIMIT_NOFILE of this process to what is open now plus {@code HEADROOM}; returns it. */
    private long lowerLimit() throws Exception {
        String hard = prlimit("--nofile", "--output=HARD", "--noheadings").trim();
        restorer = new ProcessBuilder(
                        "sh", "-c", "read _; exec prlimit --pid " + pid() + " --nofile=" + hard + ":" + hard)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        long soft = ProcessFds.count() + HEADROOM;
        assertTrue(soft < FILES, "the lowered limit is below the number of files");
        prlimit("--nofile=" + soft + ":" + hard);
        return soft;
    }

    private static String pid() {
        return Long.toString(ProcessHandle.current().pid());
    }

    private static String prlimit(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("prlimit", "--pid", pid()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), () -> String.join(" ", cmd) + ": " + out);
        return out;
    }

    private Reply lookupReply(String name) throws Exception {
        return h.call(LOOKUP, 1, args().name(name), ENTRY);
    }

    private long lookup(String name) throws Exception {
        Reply r = lookupReply(name);
        r.ok();
        return nodeId(r);
    }

    private Reply getattr(long node) throws Exception {
        return h.call(GETATTR, node, args().u32(0).u32(0).u64(0), ATTR);
    }

    private String read(long node) throws Exception {
        Reply o = h.call(OPEN, node, args().u32(0).u32(0), OPEN_OUT);
        o.ok();
        long fh = o.body().getLong(0);
        Reply r = h.call(
                READ, node, args().u64(fh).u64(0).u32(100).u32(0).u64(0).u32(0).u32(0), OUT_HEADER + 100);
        r.ok();
        byte[] data = new byte[r.payload()];
        r.body().get(data);
        h.call(RELEASE, node, args().u64(fh).u32(0).u32(0).u64(0), OUT_HEADER).ok();
        return new String(data, StandardCharsets.UTF_8);
    }

    private void forget(long node, long count) throws Exception {
        h.send(
                1,
                FuseHarness.request(
                        FORGET, h.nextUnique(), node, args().u64(count).build()),
                0);
    }

    private void moreFilesThanTheFdLimit(InodeFileHandles mode) throws Exception {
        start(mode);
        long[] nodes = new long[FILES];
        long limit = lowerLimit();
        for (int i = 0; i < FILES; i++) nodes[i] = lookup("f" + i);
        for (int i = 0; i < FILES; i++) {
            Reply a = getattr(nodes[i]);
            a.ok();
            assertEquals(("file " + i).length(), a.body().getLong(16 + 8), "size of f" + i);
        }
        assertEquals("file " + (FILES - 1), read(nodes[FILES - 1]));
        assertEquals("file 7", read(nodes[7]));
        assertTrue(ProcessFds.count() < limit, "the files cost no descriptor each");
        assertEquals(FILES + 1, pfs.snapshot().inodes().size(), "every file is a node");
        for (long n : nodes) forget(n, 1);
        getattr(1).ok();
        assertEquals(1, pfs.snapshot().inodes().size(), "FORGET drops them all: only the root is left");
    }

    @Test
    void preferServesMoreLookedUpFilesThanTheFdLimit() throws Exception {
        moreFilesThanTheFdLimit(InodeFileHandles.PREFER);
    }

    @Test
    void mandatoryServesMoreLookedUpFilesThanTheFdLimit() throws Exception {
        moreFilesThanTheFdLimit(InodeFileHandles.MANDATORY);
    }

    @Test
    void neverKeepsADescriptorPerInodeAndRunsOutAsBefore() throws Exception {
        start(InodeFileHandles.NEVER);
        int before = ProcessFds.count();
        long first = lookup("f1");
        assertEquals(before + 1, ProcessFds.count(), "one O_PATH descriptor for the inode");
        lowerLimit();
        int held = ProcessFds.count();
        List<Long> nodes = new ArrayList<>();
        int failed = -1;
        for (int i = 2; i < FILES && failed < 0; i++) {
            Reply r = lookupReply("f" + i);
            if (r.error() != 0) {
                assertEquals(-Errno.EMFILE, r.error(), "f" + i);
                failed = i;
            } else {
                nodes.add(nodeId(r));
            }
        }
        assertTrue(failed > 0 && failed < FILES, "the lookups hit the fd limit");
        for (int i = 0; i < 8; i++) forget(nodes.removeLast(), 1); // room to count the descriptors
        getattr(1).ok();
        int full = ProcessFds.count();
        for (long n : nodes) forget(n, 1);
        getattr(1).ok();
        int after = ProcessFds.count();
        assertTrue(
                after <= held && full - after >= nodes.size(),
                "FORGET closes their descriptors: " + full + " -> " + after);
        assertEquals(0, lookupReply("f" + failed).error(), "the device goes on once descriptors are free again");
    }
}
