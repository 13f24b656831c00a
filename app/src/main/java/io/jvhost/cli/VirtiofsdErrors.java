package io.jvhost.cli;

import picocli.CommandLine;

/**
 * Errors as virtiofsd reports them: one line on stderr, {@code error: ...}, exit status 2 for a
 * command line it cannot take (clap's) and 1 for a failure while starting (virtiofsd's), so the
 * line lands whole in the log libvirt shows.
 */
final class VirtiofsdErrors {
    static final int USAGE = 2, FAILURE = 1;

    private VirtiofsdErrors() {}

    static CommandLine install(CommandLine cl) {
        cl.setOverwrittenOptionsAllowed(true); // virtiofsd: a repeated flag's last value counts
        cl.setParameterExceptionHandler((e, args) -> {
            e.getCommandLine().getErr().println("error: " + e.getMessage());
            return USAGE;
        });
        cl.setExecutionExceptionHandler((e, command, parsed) -> {
            command.getErr().println("error: " + e.getMessage());
            return FAILURE;
        });
        return cl;
    }
}
