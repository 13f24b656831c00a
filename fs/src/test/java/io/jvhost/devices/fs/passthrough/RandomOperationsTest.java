package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.api.Entry;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.FileCalls;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random sequences of operations on a small tree. A model predicts each outcome (success or
 * errno); after every step the host tree (java.nio's view) must equal the model, and the file
 * system's own view (lookup, getattr, readdir, read) must equal the host's. At the end every
 * lookup handed out is forgotten and only the root may remain.
 */
class RandomOperationsTest extends FsTestBase {
    private static final String[] NAMES = {"a", "b", "c"};
    private static final int[] KIND_BY_WEIGHT = {0, 0, 0, 1, 1, 1, 2, 3, 4, 4, 5};

    /** path → null for a directory, else the file's content. */
    private final TreeMap<String, byte[]> model = new TreeMap<>();

    private final Map<Long, Long> handedOut = new HashMap<>();
    private Random rnd;
    private final Map<Integer, Integer> succeeded = new HashMap<>();
    private int largestTree;

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4})
    void randomOperationsAgreeWithTheHostView(long seed) throws Exception {
        rnd = new Random(seed);
        for (int step = 0; step < 250; step++) {
            String op = step(step);
            try {
                compareWithHost();
            } catch (AssertionError e) {
                throw new AssertionError("seed " + seed + " step " + step + " after " + op + ": " + e.getMessage(), e);
            }
        }
        assertTrue(largestTree >= 6, "the tree grew: " + largestTree);
        for (int kind = 0; kind < 6; kind++)
            assertTrue(succeeded.getOrDefault(kind, 0) > 0, "op " + kind + " succeeded sometimes");
        handedOut.forEach(fs::forget);
        assertEquals(1, fs.snapshot().inodes().size(), "every counted lookup was given back");
    }

    private String randomPath() {
        int depth = 1 + rnd.nextInt(3);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < depth; i++) sb.append(i == 0 ? "" : "/").append(NAMES[rnd.nextInt(NAMES.length)]);
        return sb.toString();
    }

    private static String parentOf(String p) {
        int i = p.lastIndexOf('/');
        return i < 0 ? "" : p.substring(0, i);
    }

    private static String nameOf(String p) {
        return p.substring(p.lastIndexOf('/') + 1);
    }

    /** The errno resolving {@code p}'s parent gives in the model, or 0. */
    private int parentError(String p) {
        String parent = parentOf(p);
        if (parent.isEmpty()) return 0;
        String walked = "";
        for (String part : parent.split("/")) {
            walked = walked.isEmpty() ? part : walked + "/" + part;
            if (!model.containsKey(walked)) return Errno.ENOENT;
            if (model.get(walked) != null) return Errno.ENOTDIR;
        }
        return 0;
    }

    private boolean isDir(String p) {
        return model.containsKey(p) && model.get(p) == null;
    }

    private boolean hasChildren(String p) {
        String prefix = p + "/";
        String next = model.ceilingKey(prefix);
        return next != null && next.startsWith(prefix);
    }

    private long count(Entry e) {
        handedOut.merge(e.nodeId(), 1L, Long::sum);
        return e.nodeId();
    }

    private long resolveDir(String dir) throws FsException {
        long node = ROOT_ID;
        if (dir.isEmpty()) return node;
        for (String part : dir.split("/")) {
            Entry e = fs.lookup(ROOT, node, b(part));
            node = count(e);
            if ((e.attr().mode() & 0170000) != 0040000) throw new FsException(Errno.ENOTDIR);
        }
        return node;
    }

    private String step(int step) throws Exception {
        // Weighted so that the tree grows: mkdir and create 3, unlink 1, rmdir 1, rename 2, truncate 1.
        int kind = KIND_BY_WEIGHT[rnd.nextInt(KIND_BY_WEIGHT.length)];
        // Removing, renaming and truncating mostly pick a name that exists, the others mostly a new one.
        boolean existing = kind >= 2 && !model.isEmpty() && rnd.nextInt(4) != 0;
        String p = existing ? new ArrayList<>(model.keySet()).get(rnd.nextInt(model.size())) : randomPath();
        int expected = parentError(p);
        String desc;
        int got = 0;
        try {
            switch (kind) {
                case 0 -> {
                    desc = "mkdir " + p;
                    if (expected == 0 && model.containsKey(p)) expected = Errno.EEXIST;
                    count(fs.mkdir(ROOT, resolveDir(parentOf(p)), b(nameOf(p)), 0755, 0));
                    model.put(p, null);
                }
                case 1 -> {
                    byte[] data =
                            ("step " + step + " ").repeat(1 + rnd.nextInt(40)).getBytes();
                    desc = "create+write " + p;
                    if (expected == 0 && model.containsKey(p)) expected = Errno.EEXIST;
                    var c = fs.create(ROOT, resolveDir(parentOf(p)), b(nameOf(p)), 0644, O_RDWR | O_EXCL, 0);
                    count(c.entry());
                    fs.write(ROOT, c.entry().nodeId(), c.opened().fh(), 0, new MemorySource(data), 0);
                    fs.release(ROOT, c.entry().nodeId(), c.opened().fh(), 0);
                    model.put(p, data);
                }
                case 2 -> {
                    desc = "unlink " + p;
                    if (expected == 0) expected = !model.containsKey(p) ? Errno.ENOENT : isDir(p) ? Errno.EISDIR : 0;
                    fs.unlink(ROOT, resolveDir(parentOf(p)), b(nameOf(p)));
                    model.remove(p);
                }
                case 3 -> {
                    desc = "rmdir " + p;
                    if (expected == 0) {
                        expected = !model.containsKey(p)
                                ? Errno.ENOENT
                                : !isDir(p) ? Errno.ENOTDIR : hasChildren(p) ? Errno.ENOTEMPTY : 0;
                    }
                    fs.rmdir(ROOT, resolveDir(parentOf(p)), b(nameOf(p)));
                    model.remove(p);
                }
                case 4 -> {
                    String to = randomPath();
                    boolean noReplace = rnd.nextBoolean();
                    desc = "rename " + p + " -> " + to + (noReplace ? " NOREPLACE" : "");
                    expected = renameError(p, to, noReplace);
                    long from = resolveDir(parentOf(p));
                    long dst = resolveDir(parentOf(to));
                    fs.rename(ROOT, from, b(nameOf(p)), dst, b(nameOf(to)), noReplace ? FileCalls.RENAME_NOREPLACE : 0);
                    applyRename(p, to);
                }
                default -> {
                    long size = rnd.nextInt(64);
                    desc = "truncate " + p + " to " + size;
                    if (expected == 0) expected = !model.containsKey(p) ? Errno.ENOENT : isDir(p) ? Errno.EISDIR : 0;
                    long node = count(fs.lookup(ROOT, resolveDir(parentOf(p)), b(nameOf(p))));
                    fs.setattr(
                            ROOT,
                            node,
                            new io.jvhost.devices.fs.api.SetAttr(
                                    io.jvhost.devices.fs.api.SetAttr.SIZE, 0, size, 0, 0, 0, 0, 0, 0, 0));
                    model.put(p, Arrays.copyOf(model.get(p), (int) size));
                }
            }
        } catch (FsException e) {
            got = e.errno();
            desc = kind + " " + p;
        }
        assertEquals(expected, got, "step " + step + " op " + kind + " on " + p + " errno");
        if (got == 0) succeeded.merge(kind, 1, Integer::sum);
        largestTree = Math.max(largestTree, model.size());
        return desc;
    }

    private int renameError(String from, String to, boolean noReplace) {
        // The harness resolves both parents before asking for the rename.
        int e = parentError(from);
        if (e == 0) e = parentError(to);
        if (e != 0) return e;
        if (!model.containsKey(from)) return Errno.ENOENT;
        if (from.equals(to)) return noReplace ? Errno.EEXIST : 0;
        if (noReplace && model.containsKey(to)) return Errno.EEXIST; // the kernel checks this first
        if (to.startsWith(from + "/")) return Errno.EINVAL;
        if (model.containsKey(to)) {
            if (from.startsWith(to + "/")) return Errno.ENOTEMPTY;
            boolean srcDir = isDir(from), dstDir = isDir(to);
            if (srcDir && !dstDir) return Errno.ENOTDIR;
            if (!srcDir && dstDir) return Errno.EISDIR;
            if (dstDir && hasChildren(to)) return Errno.ENOTEMPTY;
        }
        return 0;
    }

    private void applyRename(String from, String to) {
        if (from.equals(to)) return;
        model.remove(to);
        List<String> moved =
                new ArrayList<>(model.subMap(from, true, from + "/\uffff", true).keySet());
        Map<String, byte[]> re = new HashMap<>();
        for (String k : moved) {
            if (k.equals(from) || k.startsWith(from + "/")) re.put(to + k.substring(from.length()), model.remove(k));
        }
        model.putAll(re);
    }

    private void compareWithHost() throws Exception {
        TreeMap<String, byte[]> host = new TreeMap<>();
        try (var walk = Files.walk(share)) {
            for (Path p : walk.toList()) {
                if (p.equals(share)) continue;
                String rel = share.relativize(p).toString();
                host.put(rel, Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? null : Files.readAllBytes(p));
            }
        }
        assertEquals(model.keySet(), host.keySet(), "names on the host");
        for (var e : model.entrySet()) assertArrayEquals(e.getValue(), host.get(e.getKey()), e.getKey());
        compareDir("", ROOT_ID);
    }

    /** The file system's view of one directory, recursively, against the host's. */
    private void compareDir(String dir, long node) throws Exception {
        long dfh = fs.opendir(ROOT, node, 0).fh();
        ListSink sink = new ListSink(1000);
        fs.readdir(ROOT, node, dfh, 0, sink);
        fs.releasedir(ROOT, node, dfh, 0);
        TreeSet<String> listed = new TreeSet<>(sink.names());
        listed.remove(".");
        listed.remove("..");
        Path hostDir = dir.isEmpty() ? share : share.resolve(dir);
        TreeSet<String> onHost = new TreeSet<>();
        try (var list = Files.list(hostDir)) {
            list.forEach(p -> onHost.add(p.getFileName().toString()));
        }
        assertEquals(onHost, listed, "readdir of /" + dir);
        for (String name : listed) {
            String path = dir.isEmpty() ? name : dir + "/" + name;
            Entry e = fs.lookup(ROOT, node, b(name));
            count(e);
            Path hp = share.resolve(path);
            assertEquals(
                    Files.getAttribute(hp, "unix:ino", LinkOption.NOFOLLOW_LINKS),
                    e.attr().ino(),
                    path);
            assertEquals(fs.getattr(ROOT, e.nodeId(), 0, false).attr(), e.attr(), "lookup and getattr agree");
            if (model.get(path) == null) {
                compareDir(path, e.nodeId());
            } else {
                assertEquals(Files.size(hp), e.attr().size(), path);
                long fh = fs.open(ROOT, e.nodeId(), O_RDONLY).fh();
                assertArrayEquals(Files.readAllBytes(hp), readAll(e.nodeId(), fh, 4096), path);
                fs.release(ROOT, e.nodeId(), fh, 0);
            }
        }
    }
}
