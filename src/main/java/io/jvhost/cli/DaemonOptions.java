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

    @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "info",
            description = "error, warn, info, debug or trace (default: ${DEFAULT-VALUE}).")
    String logLevel;

    void applyLogLevel() {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", logLevel);
    }
}
