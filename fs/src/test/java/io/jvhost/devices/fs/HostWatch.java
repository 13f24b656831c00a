package io.jvhost.devices.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What a hostile guest must never achieve, seen from the host: the daemon runs in this JVM, so
 * its descriptors are this process's. Every descriptor opened since the baseline must be a
 * socket, pipe, anon inode (eventfd, epoll) or memfd, or a regular file, directory or symlink
 * inside the shared directory (any node there only as O_PATH: a device node or FIFO opened for
 * I/O is a host object); sentinel files beside the share keep their bytes and mtime; nothing new
 * appears beside the share; the fd count and the peak resident memory stay within a bound.
 */
final class HostWatch {
    private static final Path FDS = Path.of("/proc/self/fd");
    static final Path TMP = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath();
    static final String CASE_PREFIX = "jvhost-hostile";
    private static final int O_PATH = 010000000;
    /** How much one step may raise the process's peak resident memory (VmHWM) over what it had. */
    static final long STEP_MEMORY_BOUND = 256L << 20;

    private final Path share;
    private final Path outside;
    private final Set<Integer> baseline;
    private final Set<String> outsideListing;
    private final Map<Path, String> sentinels = new HashMap<>();
    private final Map<Path, FileTime> sentinelTimes = new HashMap<>();
    private final String javaHome = Path.of(System.getProperty("java.home")).toString();
    private long rssBeforeStep, allocatedBeforeStep;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    /** How much heap one step may allocate (all threads, garbage included). */
    static final long STEP_ALLOCATION_BOUND = 512L << 20;

    private HostWatch(Path share, Path outside, Set<Integer> baseline, Set<String> outsideListing) {
        this.share = share;
        this.outside = outside;
        this.baseline = baseline;
        this.outsideListing = outsideListing;
    }

    /** Places sentinels in {@code outside} (the share's parent) and takes the fd baseline. */
    static HostWatch start(Path share) throws IOException {
        Path outside = share.getParent();
        Files.writeString(outside.resolve("sentinel"), "outside the share: must stay as it is");
        Path dir = Files.createDirectories(outside.resolve("sentinel-dir"));
        Files.writeString(dir.resolve("inner"), "also outside");
        HostWatch w = new HostWatch(share.toRealPath(), outside, openFds(), listing(outside));
        for (Path p : List.of(outside.resolve("sentinel"), dir.resolve("inner"))) {
            w.sentinels.put(p, Files.readString(p));
            w.sentinelTimes.put(p, Files.getLastModifiedTime(p));
        }
        return w;
    }

    Path outside() {
        return outside;
    }

    static Set<Integer> openFds() throws IOException {
        try (Stream<Path> s = Files.list(FDS)) {
            Set<Integer> fds = new TreeSet<>();
            s.forEach(p -> fds.add(Integer.parseInt(p.getFileName().toString())));
            return fds;
        }
    }

    static int fdCount() throws IOException {
        return openFds().size();
    }

    private static Set<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            Set<String> names = new TreeSet<>();
            s.forEach(p -> names.add(p.getFileName().toString()));
            return names;
        }
    }

    /** Escapes visible now: host objects the daemon holds open, sentinels changed, files created outside. */
    List<String> escapes() throws IOException {
        List<String> found = new ArrayList<>();
        for (int fd : openFds()) {
            if (baseline.contains(fd)) continue;
            String why = judge(fd);
            if (why != null && found.size() < 5) found.add("fd " + fd + ": " + why);
        }
        for (var e : sentinels.entrySet()) {
            Path p = e.getKey();
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                found.add("sentinel " + p + " is gone");
            } else if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
                    || !Files.readString(p).equals(e.getValue())) {
                found.add("sentinel " + p + " changed");
            } else if (!Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).equals(sentinelTimes.get(p))) {
                found.add("sentinel " + p + " mtime changed");
            }
        }
        Set<String> now = listing(outside);
        for (String n : now) {
            if (!outsideListing.contains(n) && !n.endsWith(".sock")) found.add("new file beside the share: " + n);
        }
        return found;
    }

    /** Why descriptor {@code fd} is a host object the guest reached; null if it is not. */
    private String judge(int fd) throws IOException {
        Path link = FDS.resolve(Integer.toString(fd));
        String target;
        try {
            target = Files.readSymbolicLink(link).toString();
        } catch (NoSuchFileException e) {
            return null; // closed meanwhile
        } catch (java.nio.file.FileSystemException e) {
            // ENAMETOOLONG: a path longer than PATH_MAX, which only a deep chain in the share makes;
            // judged by what it is and how it is open.
            return specialOpenForIo(fd, link, "(a path longer than PATH_MAX)");
        }
        if (target.startsWith("socket:")
                || target.startsWith("pipe:")
                || target.startsWith("anon_inode:")
                || target.startsWith("/memfd:")) {
            return null;
        }
        if (target.startsWith(javaHome)
                || target.endsWith(".jar")
                || target.startsWith("/dev/urandom")
                || target.startsWith("/dev/random")
                || target.startsWith("/proc/self/")
                || target.contains("/proc/")) {
            return null; // the JVM's own lazy opens, and this watcher's
        }
        String path = target.endsWith(" (deleted)") ? target.substring(0, target.length() - 10) : target;
        if (!Path.of(path).startsWith(share)) {
            // A wedged daemon of an earlier case still holds its own share: that case reported it.
            if (Path.of(path).startsWith(TMP)
                    && Path.of(path).getName(TMP.getNameCount()).toString().startsWith(CASE_PREFIX)
                    && !Path.of(path).startsWith(outside)) {
                return null;
            }
            return "opened outside the shared directory: " + target;
        }
        return specialOpenForIo(fd, link, target);
    }

    /** Null unless the fd is a node other than a regular file or directory, open for I/O (not O_PATH). */
    private static String specialOpenForIo(int fd, Path link, String target) throws IOException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(link, BasicFileAttributes.class); // follows the magic link: the fd's object
        } catch (IOException e) {
            return null;
        }
        if (a.isRegularFile() || a.isDirectory()) return null;
        if ((flags(fd) & O_PATH) != 0) return null;
        return "a special node opened for I/O: " + target
                + (a.isSymbolicLink() ? " (symlink)" : " (device/FIFO/socket)");
    }

    private static int flags(int fd) throws IOException {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
                if (line.startsWith("flags:"))
                    return Integer.parseInt(line.substring(6).trim(), 8);
            }
        } catch (NoSuchFileException e) {
            return O_PATH;
        }
        return 0;
    }

    /**
     * Descriptors opened since the baseline that are still open (after everything was closed:
     * leaks); with {@code ownPathsOnly}, only those naming something in this case's directory.
     */
    List<String> leaked(boolean ownPathsOnly) throws IOException {
        List<String> out = new ArrayList<>();
        for (int fd : openFds()) {
            if (baseline.contains(fd)) continue;
            try {
                String t = Files.readSymbolicLink(FDS.resolve(Integer.toString(fd)))
                        .toString();
                if (t.startsWith(javaHome) || t.endsWith(".jar") || t.contains("/proc/")) continue;
                if (Path.of(t).startsWith(TMP) && !t.startsWith(outside.toString()) && t.contains(CASE_PREFIX))
                    continue;
                if (ownPathsOnly && !t.startsWith(outside.toString())) continue;
                out.add(fd + " -> " + t);
            } catch (NoSuchFileException e) {
                // closed meanwhile
            } catch (java.nio.file.FileSystemException e) {
                out.add(fd + " -> (a path longer than PATH_MAX)");
            }
        }
        return out;
    }

    int newFds() throws IOException {
        int n = 0;
        for (int fd : openFds()) if (!baseline.contains(fd)) n++;
        return n;
    }

    /** Starts a step: resets the peak (VmHWM) to the current resident size, notes the heap allocated so far. */
    void beginStep() throws IOException {
        Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        rssBeforeStep = status("VmRSS:");
        allocatedBeforeStep = THREADS.getTotalThreadAllocatedBytes();
    }

    /**
     * Heap allocated by every thread during the step. Resident memory alone misses an allocation
     * once the heap has grown that far before (its pages stay resident), so both are bounded.
     */
    long stepAllocated() {
        return THREADS.getTotalThreadAllocatedBytes() - allocatedBeforeStep;
    }

    /** How far the step raised the peak resident memory above where it started. */
    long stepPeakGrowth() throws IOException {
        return status("VmHWM:") - rssBeforeStep;
    }

    static long status(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(key))
                return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]) * 1024;
        }
        throw new IOException(key + " not in /proc/self/status");
    }
}
