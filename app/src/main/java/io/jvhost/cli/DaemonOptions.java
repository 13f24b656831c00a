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
     * Serves {@code device} on the chosen endpoint until the server is closed (the JVM's
     * shutdown closes it), after checking that an endpoint was given.
     */
    void serve(io.jvhost.backend.Device device, picocli.CommandLine.Model.CommandSpec spec) throws Exception {
        if (endpoint == null) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "one of --socket-path or --fd is required");
        }
        try (io.jvhost.backend.BackendServer server = endpoint.socketPath != null
                ? io.jvhost.backend.BackendServer.listen(endpoint.socketPath, device)
                : io.jvhost.backend.BackendServer.adopt(endpoint.fd, device)) {
            Runtime.getRuntime().addShutdownHook(new Thread(server::close));
            // Listening: the downcalls not linked yet are linked now, before any request needs them.
            Thread.ofPlatform()
                    .daemon()
                    .name("jvhost-link-downcalls")
                    .start(() -> org.slf4j.LoggerFactory.getLogger(DaemonOptions.class)
                            .debug("listening; linked {} more downcalls", io.jvhost.nativeio.Downcalls.linkAll()));
            server.serve();
        }
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

    void applyLogLevel() {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", Spelled.spelling(logLevel));
    }
}
