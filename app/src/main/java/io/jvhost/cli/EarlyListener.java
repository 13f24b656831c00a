package io.jvhost.cli;

import io.jvhost.nativeio.UnixSocket;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Optional;

/**
 * The fs daemon's --socket-path socket, bound and listening as the first thing {@code main}
 * does, before picocli builds the command and the daemon opens its directory: a front-end (QEMU,
 * libvirt) that waits for the file may connect from then on and its connection waits in the
 * backlog until the daemon accepts it. {@link DaemonOptions#serve} takes it when the parsed
 * command asks for the same path; a command that never gets there (bad options, an error before
 * serving) leaves it to {@link #discard}, which removes the file again.
 *
 * <p>Only where the daemon will not re-execute itself to drop privileges (it would bind the path
 * again in the new image): no_new_privs already set, as the launcher's setpriv does, and not in
 * that re-executed image.
 */
final class EarlyListener {
    private static Path path;
    private static UnixSocket socket;

    private EarlyListener() {}

    /**
     * The socket path {@code args} ({@code main}'s) would have the fs daemon listen on, if it
     * names one plainly: "fs" with exactly one --socket-path, no --fd and nothing that only
     * prints (help, version, capabilities).
     */
    static Optional<Path> socketPathOf(List<String> args) {
        if (args.isEmpty() || !args.getFirst().equals("fs")) return Optional.empty();
        String found = null;
        int seen = 0;
        for (int i = 1; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "-h", "--help", "-V", "--version", "--print-capabilities", "--" -> {
                    return Optional.empty();
                }
                case "--socket-path" -> {
                    if (i + 1 == args.size()) return Optional.empty();
                    found = args.get(++i);
                    seen++;
                }
                default -> {
                    if (a.startsWith("--socket-path=")) {
                        found = a.substring("--socket-path=".length());
                        seen++;
                    } else if (a.equals("--fd") || a.startsWith("--fd=")) {
                        return Optional.empty();
                    }
                }
            }
        }
        if (seen != 1 || found.isEmpty() || found.startsWith("-")) return Optional.empty();
        return Optional.of(Path.of(found));
    }

    /**
     * Listens on the path {@code args} names (see {@link #socketPathOf}) when the daemon will not
     * restart itself; a failure is left to the daemon, which tries again and says what is wrong.
     */
    static void listen(String[] args) {
        Optional<Path> p = socketPathOf(List.of(args));
        if (p.isEmpty() || System.getenv(PrivilegeDrop.RESTARTED) != null || !noNewPrivs()) return;
        listenOn(p.get());
    }

    /** Listens on {@code target}; a failure is left to the daemon's own listen to report. */
    static synchronized void listenOn(Path target) {
        try {
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                // As BackendServer.listen: a socket left by a dead process is replaced, nothing else.
                if (!Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                        .isOther()) return;
                Files.delete(target);
            }
            socket = UnixSocket.listen(target, 1);
            path = target;
        } catch (IOException | RuntimeException e) {
            // The daemon's own listen, after parsing, tries again and says what is wrong.
        }
    }

    /** The early socket if it listens on {@code target}, handed over (once); else none. */
    static synchronized Optional<UnixSocket> take(Path target) {
        if (socket == null || !path.equals(target)) return Optional.empty();
        UnixSocket s = socket;
        socket = null;
        path = null;
        return Optional.of(s);
    }

    /** Closes a socket nobody took and removes its file. */
    static synchronized void discard() {
        if (socket == null) return;
        socket.close();
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // nothing more to do on the way out
        }
        socket = null;
        path = null;
    }

    /** Whether this thread has no_new_privs (the launcher's setpriv set it before the JVM started). */
    private static boolean noNewPrivs() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/thread-self/status")))
                if (line.startsWith("NoNewPrivs:")) return line.endsWith("1");
        } catch (IOException e) {
            return false;
        }
        return false;
    }
}
