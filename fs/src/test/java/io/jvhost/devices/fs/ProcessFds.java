package io.jvhost.devices.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** This process's open descriptors, as /proc/self/fd and /proc/self/fdinfo tell them. */
public final class ProcessFds {
    private static final Path FDS = Path.of("/proc/self/fd");
    private static final int O_PATH = 010000000;
    private static final int S_IFMT = 0170000, S_IFBLK = 060000, S_IFCHR = 020000, S_IFIFO = 010000;

    private ProcessFds() {}

    /** How many descriptors are open now. */
    public static int count() throws IOException {
        try (Stream<Path> s = Files.list(FDS)) {
            return (int) s.count();
        }
    }

    /**
     * Descriptors open for I/O (not O_PATH) on a device node or a FIFO, as "fd -> target": what
     * the daemon must never hold on the guest's behalf.
     */
    public static List<String> specialFilesOpenForIo() throws IOException {
        List<String> out = new ArrayList<>();
        List<Path> fds;
        try (Stream<Path> s = Files.list(FDS)) {
            fds = s.toList();
        }
        for (Path fd : fds) {
            try {
                int type = (Integer) Files.getAttribute(fd, "unix:mode") & S_IFMT;
                if (type != S_IFBLK && type != S_IFCHR && type != S_IFIFO) continue;
                if ((flags(fd.getFileName().toString()) & O_PATH) != 0) continue;
                String target = Files.readSymbolicLink(fd).toString();
                // Anonymous pipes ("pipe:[...]") and the host's own /dev are the JVM's, not the guest's.
                if (!target.startsWith("/") || target.startsWith("/dev/")) continue;
                out.add(fd.getFileName() + " -> " + target);
            } catch (IOException closedMeanwhile) {
                // the descriptor went away while we looked: not open
            }
        }
        return out;
    }

    private static int flags(String fd) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo", fd))) {
            if (line.startsWith("flags:"))
                return Integer.parseInt(line.substring(6).trim(), 8);
        }
        throw new IOException("no flags in fdinfo of " + fd);
    }
}
