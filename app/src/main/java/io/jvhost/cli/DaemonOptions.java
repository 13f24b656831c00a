package io.jvhost.cli;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * The vhost-user "back-end program conventions" options shared by every daemon: where to
 * serve (--socket-path or an inherited listening --fd, exactly one) and logging.
 */
final class DaemonOptions {
    static final class Endpoint {
        @Option(names = "--socket-path", paramLabel = "PATH", description = "Listen on this Unix socket.")
        java.nio.file.Path socketPath;

        @Option(names = "--fd", paramLabel = "FDNUM", description = "Serve this inherited listening socket.")
        Integer fd;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Endpoint endpoint;

    @Option(names = "--print-capabilities", description = "Print the back-end's capabilities as JSON and exit.")
    boolean printCapabilities;

    @Option(
            names = "--socket-group",
            paramLabel = "GROUP",
            description = "Give the --socket-path socket to this group, which may then connect (mode 0770), "
                    + "as virtiofsd does with the option of this name.")
    String socketGroup;

    @Option(
            names = "--exit-on-disconnect",
            description = "Serve one front-end and exit when it disconnects, as virtiofsd does "
                    + "(default: serve the next front-end).")
    boolean exitOnDisconnect;

    /** SLF4J simple logger's levels, as virtiofsd's --log-level. */
    enum LogLevel {
        ERROR,
        WARN,
        INFO,
        DEBUG,
        TRACE,
        OFF
    }

    @Option(
            names = "--log-level",
            paramLabel = "LEVEL",
            defaultValue = "info",
            converter = Spelled.Level.class,
            completionCandidates = Spelled.Level.class,
            description = "${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    LogLevel logLevel;

    /**
     * Serves {@code device} on the chosen endpoint until the server is closed (a signal or the
     * JVM's shutdown closes it, see {@link SignalExit}) or, with --exit-on-disconnect, until the first front-end goes away,
     * after checking that an endpoint was given.
     */
    void serve(io.jvhost.backend.Device device, picocli.CommandLine.Model.CommandSpec spec) throws Exception {
        serve(device, spec, () -> {}, () -> {});
    }

    /** What a daemon does once it listens, before it serves anyone (the fs daemon's seccomp filter). */
    interface Listening {
        void run() throws java.io.IOException;
    }

    /**
     * As {@link #serve(io.jvhost.backend.Device, picocli.CommandLine.Model.CommandSpec)}, running
     * {@code listening} first and {@code afterListening} in the background once it listens.
     */
    void serve(
            io.jvhost.backend.Device device,
            picocli.CommandLine.Model.CommandSpec spec,
            Listening listening,
            Runnable afterListening)
            throws Exception {
        if (endpoint == null) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "one of --socket-path or --fd is required");
        }
        if (socketGroup != null && endpoint.socketPath == null) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "--socket-group needs --socket-path (an inherited --fd is not ours to change)");
        }
        // The socket main listened on before parsing (EarlyListener), if it is this one.
        java.util.Optional<io.jvhost.nativeio.UnixSocket> early =
                endpoint.socketPath != null ? EarlyListener.take(endpoint.socketPath) : java.util.Optional.empty();
        EarlyListener.discard(); // one for another path: this daemon listens where it was told
        try (io.jvhost.backend.BackendServer server = early.isPresent()
                ? io.jvhost.backend.BackendServer.adopt(early.get().fd().release(), device)
                : endpoint.socketPath != null
                        ? io.jvhost.backend.BackendServer.listen(endpoint.socketPath, device)
                        : io.jvhost.backend.BackendServer.adopt(endpoint.fd, device)) {
            if (socketGroup != null) giveSocketTo(socketGroup);
            // System.exit; an adopted socket's file is not the server's to remove (an --fd's never is).
            java.nio.file.Path adoptedFile = early.isPresent() ? endpoint.socketPath : null;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> closeAndRemove(server, adoptedFile)));
            SignalExit.install(endpoint.socketPath);
            // Listening: the downcalls not linked yet are linked now, before any request needs them;
            // then what else the command does once listening (it runs under the filter, if any).
            Thread.ofPlatform().daemon().name("jvhost-after-listening").start(() -> {
                org.slf4j.LoggerFactory.getLogger(DaemonOptions.class)
                        .debug("listening; linked {} more downcalls", io.jvhost.nativeio.Downcalls.linkAll());
                afterListening.run();
            });
            listening.run();
            if (!exitOnDisconnect) {
                server.serve();
            } else if (server.serveOne()) {
                org.slf4j.LoggerFactory.getLogger(DaemonOptions.class).info("front-end disconnected, shutting down");
            }
        }
    }

    private static void closeAndRemove(io.jvhost.backend.BackendServer server, java.nio.file.Path file) {
        server.close();
        if (file == null) return;
        try {
            java.nio.file.Files.deleteIfExists(file);
        } catch (java.io.IOException e) {
            // on the way out: nothing more to do
        }
    }

    /** chgrp and chmod 0770 of the socket file: the group's members may connect, others not. */
    private void giveSocketTo(String group) throws java.io.IOException {
        java.nio.file.Path socket = endpoint.socketPath;
        java.nio.file.attribute.GroupPrincipal principal;
        try {
            principal = socket.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
        } catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
            throw new java.io.IOException("--socket-group " + group + ": no such group", e);
        }
        java.nio.file.Files.getFileAttributeView(
                        socket,
                        java.nio.file.attribute.PosixFileAttributeView.class,
                        java.nio.file.LinkOption.NOFOLLOW_LINKS)
                .setGroup(principal);
        java.nio.file.Files.setPosixFilePermissions(
                socket, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwx---"));
    }

    /**
     * Drops what the daemon does not need (see {@link PrivilegeDrop}); the --fd socket survives.
     * After option parsing: --help and --print-capabilities never get here.
     */
    void reducePrivileges(java.util.Set<io.jvhost.nativeio.Capability> keep, picocli.CommandLine.Model.CommandSpec spec)
            throws java.io.IOException {
        if (endpoint == null) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "one of --socket-path or --fd is required");
        }
        PrivilegeDrop.reduceTo(keep, endpoint.fd);
    }

    @Option(
            names = "--syslog",
            description = "Log to the local syslog (/dev/log, facility user) instead of stderr, as virtiofsd's "
                    + "--syslog; without one, a warning and stderr.")
    boolean syslog;

    /** The log level, and the log's destination: before the first logger, which reads them once. */
    void applyLogLevel() {
        applyLogging(Spelled.spelling(logLevel), syslog);
    }

    static void applyLogging(String level, boolean syslog) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level);
        String failed = syslog ? SyslogOutput.redirect("jvhost") : null;
        if (failed != null)
            org.slf4j.LoggerFactory.getLogger(DaemonOptions.class).warn("can't enable syslog: {}", failed);
    }
}
