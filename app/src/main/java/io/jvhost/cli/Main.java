package io.jvhost.cli;

import java.util.LinkedHashMap;
import java.util.SequencedMap;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code jvhost} command. With no arguments it runs the demo. */
@Command(
        name = "jvhost",
        mixinStandardHelpOptions = true,
        version = "jvhost 0.1.0",
        description = "vhost-user devices and their live migration, in Java.")
public final class Main implements Runnable {
    /**
     * The sub-commands by name. picocli reflects over a command's class, options and annotations
     * when it is added, which took most of a daemon's start-up when every command was added for
     * any of them; {@link #commandLine} adds only the one named.
     */
    private static final SequencedMap<String, Supplier<Object>> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("demo", DemoCommand::new);
        COMMANDS.put("rng", RngCommand::new);
        COMMANDS.put("fs", FsCommand::new);
        COMMANDS.put("bench-stream", BenchStreamCommand::new);
        COMMANDS.put("bench-migration", BenchMigrationCommand::new);
        COMMANDS.put("bench-device-state", BenchDeviceStateCommand::new);
        COMMANDS.put("bench-fs", BenchFsCommand::new);
        COMMANDS.put("bench-startup", BenchStartupCommand::new);
        COMMANDS.put("migrate", MigrateCommand::new);
        COMMANDS.put("state", StateCommand::new);
        COMMANDS.put("virtiofsd", VirtiofsdCommand::new);
    }

    @Override
    public void run() {
        System.exit(new CommandLine(new DemoCommand()).execute());
    }

    /**
     * The command line for {@code args}: with the sub-command {@code args[0]} names, or with all
     * of them (for help, or to say what was wrong).
     */
    public static CommandLine commandLine(String... args) {
        CommandLine cl = new CommandLine(new Main());
        Supplier<Object> named = args.length > 0 ? COMMANDS.get(args[0]) : null;
        if (named != null) cl.addSubcommand(args[0], named.get());
        else COMMANDS.forEach((name, command) -> cl.addSubcommand(name, command.get()));
        return cl;
    }

    public static void main(String[] args) {
        EarlyListener.listen(args); // before picocli: see EarlyListener
        if (args.length > 0 && args[0].equals("virtiofsd")) {
            // A program of its own (jvhost-virtiofsd) with virtiofsd's error conventions.
            String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
            int status = VirtiofsdErrors.install(new CommandLine(new VirtiofsdCommand()))
                    .execute(rest);
            EarlyListener.discard();
            System.exit(status);
        }
        int status = commandLine(args).execute(args);
        EarlyListener.discard();
        System.exit(status);
    }
}
