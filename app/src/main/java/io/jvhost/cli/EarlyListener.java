package io.jvhost.cli;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.UnixSocket;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
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
 *
 * <p>It listens through the JDK's own Unix-domain {@link ServerSocketChannel}, not through
 * {@code nativeio}: the JDK's channel is native code the AOT cache already holds, while linking the
 * FFM downcalls for socket, bind, listen and link spun ~240 hidden classes, most of what a start
 * spent before the socket appeared. The daemon wants a file descriptor ({@code BackendServer}),
 * which the JDK keeps to itself: {@link #take} reads it through {@code sun.nio.ch.SelChImpl}
 * ({@code --add-exports java.base/sun.nio.ch=io.jvhost.app} in scripts/jvm.options), dups it and
 * closes the channel. Without that export it listens through {@code nativeio} as before.
 */
final class EarlyListener {
    /** Longest sun_path, with its terminating NUL (sockaddr_un on Linux). */
    private static final int SUN_PATH_MAX = 108;

    private static Path path;
    /** The early socket: the JDK's channel, or a nativeio socket where the JDK's fd is out of reach. */
    private static ServerSocketChannel channel;

    private static UnixSocket socket;

    private EarlyListener() {}

    /**
     * The socket path {@code args} ({@code main}'s) would have the fs daemon listen on, if it
     * names one plainly: "fs" with exactly one --socket-path, or "virtiofsd" (which runs "fs"
     * with its --socket-path) with exactly one --socket-path or (deprecated) --socket; no --fd
     * and nothing that only prints (help, version, capabilities).
     */
    static Optional<Path> socketPathOf(List<String> args) {
        if (args.isEmpty()) return Optional.empty();
        boolean virtiofsd = args.getFirst().equals("virtiofsd");
        if (!virtiofsd && !args.getFirst().equals("fs")) return Optional.empty();
        String found = null;
        int seen = 0;
        for (int i = 1; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "-h", "--help", "-V", "--version", "--print-capabilities", "--" -> {
                    return Optional.empty();
                }
                case "--socket-path", "--socket" -> {
                    if (!virtiofsd && a.equals("--socket")) continue;
                    if (i + 1 == args.size()) return Optional.empty();
                    found = args.get(++i);
                    seen++;
                }
                default -> {
                    if (a.startsWith("--socket-path=")) {
                        found = a.substring("--socket-path=".length());
                        seen++;
                    } else if (virtiofsd && a.startsWith("--socket=")) {
                        found = a.substring("--socket=".length());
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
            if (jdkFdReachable()) channel = jdkListen(target);
            else socket = UnixSocket.listen(target, 1);
            path = target;
        } catch (IOException | RuntimeException e) {
            // The daemon's own listen, after parsing, tries again and says what is wrong.
        }
    }

    /** Whether the JDK lets this module read a channel's file descriptor (see the class comment). */
    private static boolean jdkFdReachable() {
        return Object.class.getModule().isExported("sun.nio.ch", EarlyListener.class.getModule());
    }

    /**
     * As {@code UnixSocket.listen}: bound and listening under a staging name, then linked into
     * place, so that the path appears only once a connect to it is queued, and a path that exists
     * meanwhile is not replaced.
     */
    private static ServerSocketChannel jdkListen(Path target) throws IOException {
        Path staging = target.resolveSibling(
                "." + target.getFileName() + "." + ProcessHandle.current().pid() + "~");
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            if (staging.toString().getBytes(StandardCharsets.UTF_8).length >= SUN_PATH_MAX) {
                ch.bind(UnixDomainSocketAddress.of(target), 1); // binds and listens in one call
                return ch;
            }
            Files.deleteIfExists(staging); // left by a process of the same pid that died right there
            ch.bind(UnixDomainSocketAddress.of(staging), 1);
            try {
                Files.createLink(target, staging);
            } finally {
                Files.deleteIfExists(staging);
            }
            return ch;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** The early socket if it listens on {@code target}, handed over (once); else none. */
    static synchronized Optional<UnixSocket> take(Path target) {
        if ((socket == null && channel == null) || !path.equals(target)) return Optional.empty();
        UnixSocket s = socket;
        if (channel != null) {
            try {
                Fd borrowed = Fd.adopt(fdOf(channel));
                try {
                    s = UnixSocket.adopt(borrowed.dup());
                } finally {
                    borrowed.release(); // the channel's, closed with it
                }
            } catch (ReflectiveOperationException | NativeException e) {
                return Optional.empty(); // left to discard: the daemon listens on its own
            }
            closeQuietly(channel);
        }
        socket = null;
        channel = null;
        path = null;
        return Optional.of(s);
    }

    /** The channel's file descriptor (still the channel's). */
    private static int fdOf(ServerSocketChannel ch) throws ReflectiveOperationException {
        return (int) Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal").invoke(ch);
    }

    private static void closeQuietly(ServerSocketChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // the dup (or nothing) is what is left of it
        }
    }

    /** Closes a socket nobody took and removes its file. */
    static synchronized void discard() {
        if (socket == null && channel == null) return;
        if (socket != null) socket.close();
        if (channel != null) closeQuietly(channel);
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // nothing more to do on the way out
        }
        socket = null;
        channel = null;
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
