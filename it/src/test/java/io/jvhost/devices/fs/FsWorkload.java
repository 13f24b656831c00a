package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.testing.qemu.QemuGuest;
import io.jvhost.testing.qemu.TestRun;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.MatchResult;
import java.util.stream.Stream;

/**
 * The guest side of the "fs-workload" scenario (testkit/src/main/resources/guest/scenarios): boots a
 * guest that mounts a virtio-fs tag served by some back-end, runs the file workload, and returns
 * its report; plus the host's view of the same tree in the guest's WL-TREE format, so a test can
 * check that what the guest wrote is what landed on the host.
 */
final class FsWorkload {
    static final Duration BOOT = Duration.ofSeconds(150);
    static final Duration RUN = Duration.ofMinutes(4);
    static final String DIR = "wl";

    /** What the guest printed: the per-step lines and the final tree, times stripped. */
    record Report(List<String> steps, List<String> tree, int pass, int fail, String doneLine) {
        /** Every step and tree line, for a differential comparison between back-ends. */
        List<String> comparable() {
            List<String> all = new ArrayList<>(steps);
            all.addAll(tree);
            return all;
        }
    }

    private FsWorkload() {}

    /** Boots a guest on {@code socket} (a vhost-user-fs back-end sharing tag "myfs"), runs the workload. */
    static Report run(
            TestRun run,
            String name,
            Path socket,
            int bigMib,
            int entries,
            io.jvhost.testing.qemu.ManagedProcess backend)
            throws Exception {
        QemuGuest vm = QemuGuest.builder(run, name)
                .scenario("fs-workload")
                .kernelArg("vfs_tag", "myfs")
                .kernelArg("wl_dir", DIR)
                .kernelArg("wl_big_mib", bigMib)
                .kernelArg("wl_entries", entries)
                .memory("512M")
                .vhostUserFs(socket, "myfs")
                .watch(backend)
                .start();
        vm.awaitReady(BOOT);
        MatchResult mounted = vm.awaitSerialLine("^FS-(MOUNTED|FAIL) (.*)", RUN);
        assertEquals("MOUNTED", mounted.group(1), mounted::group);
        MatchResult done = vm.awaitSerialLine("^WL-DONE pass=(\\d+) fail=(\\d+)", RUN);
        assertEquals(0, vm.awaitExit(Duration.ofSeconds(60)), "QEMU exit code after the guest powered off");
        List<String> steps = new ArrayList<>();
        List<String> tree = new ArrayList<>();
        for (String line : vm.serialLines()) {
            if (line.startsWith("WL-TREE ")) tree.add(line);
            else if (line.startsWith("WL ")) steps.add(line);
        }
        return new Report(steps, tree, Integer.parseInt(done.group(1)), Integer.parseInt(done.group(2)), done.group());
    }

    /** Asserts every step passed, naming the ones that did not. */
    static void assertAllPassed(Report r) {
        List<String> failed =
                r.steps().stream().filter(s -> !s.matches("^WL \\S+ ok.*")).toList();
        assertTrue(failed.isEmpty(), () -> "failed steps: " + failed);
        assertEquals(0, r.fail(), r::doneLine);
        assertTrue(r.pass() >= 20, r::doneLine);
    }

    /**
     * The host's view of {@code shared/wl}, in the guest's WL-TREE format and order (paths
     * relative with "./", byte order, the many/ directory's entries left out).
     */
    static List<String> hostTree(Path shared) throws IOException {
        Path root = shared.resolve(DIR);
        List<Path> paths;
        try (Stream<Path> s = Files.walk(root)) {
            paths = s.filter(p -> !p.equals(root))
                    .filter(p -> !root.relativize(p).toString().startsWith("many/"))
                    .toList();
        }
        List<String[]> keyed = new ArrayList<>();
        for (Path p : paths) keyed.add(new String[] {"./" + root.relativize(p), line(root, p)});
        keyed.sort(
                (a, b) -> Arrays.compare(a[0].getBytes(StandardCharsets.UTF_8), b[0].getBytes(StandardCharsets.UTF_8)));
        return keyed.stream().map(k -> k[1]).toList();
    }

    private static String line(Path root, Path p) throws IOException {
        String rel = "./" + root.relativize(p);
        int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        String owner = Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS) + ":"
                + Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
        String perms = Integer.toOctalString(mode & 07777);
        if (Files.isSymbolicLink(p))
            return "WL-TREE symlink - " + owner + " - " + rel + " -> " + Files.readSymbolicLink(p);
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) return "WL-TREE dir " + perms + " " + owner + " - " + rel;
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            return "WL-TREE file " + perms + " " + owner + " " + Files.size(p) + " " + rel + " " + sha256(p);
        }
        String type = (mode & 0170000) == 0010000 ? "fifo" : "mode " + Integer.toOctalString(mode);
        return "WL-TREE other(" + type + ") " + perms + " " + owner + " - " + rel;
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
