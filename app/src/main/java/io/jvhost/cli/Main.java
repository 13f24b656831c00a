package io.jvhost.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code jvhost} command. With no arguments it runs the demo. */
@Command(
        name = "jvhost",
        mixinStandardHelpOptions = true,
        version = "jvhost 0.1.0",
        description = "vhost-user devices and their live migration, in Java.",
        subcommands = {
            DemoCommand.class,
            RngCommand.class,
            FsCommand.class,
            BenchStreamCommand.class,
            BenchMigrationCommand.class,
            BenchDeviceStateCommand.class,
            BenchFsCommand.class,
            MigrateCommand.class,
            StateCommand.class,
            VirtiofsdCommand.class
        })
public final class Main implements Runnable {
    @Override
    public void run() {
        System.exit(new CommandLine(new DemoCommand()).execute());
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("virtiofsd")) {
            // A program of its own (jvhost-virtiofsd) with virtiofsd's error conventions.
            String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
            System.exit(VirtiofsdErrors.install(new CommandLine(new VirtiofsdCommand()))
                    .execute(rest));
        }
        System.exit(new CommandLine(new Main()).execute(args));
    }
}
