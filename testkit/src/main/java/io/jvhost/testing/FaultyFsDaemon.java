package io.jvhost.testing;

import io.jvhost.cli.FsCommand;
import io.jvhost.testing.qemu.JvhostDaemon;
import io.jvhost.testing.qemu.ManagedProcess;
import io.jvhost.testing.qemu.TestRun;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * {@code jvhost fs} whose device-state transfers a test can damage: {@code FaultyFsDaemon
 * FAULT_FILE [jvhost fs options...]} serves the same daemon as {@code jvhost fs} (its own
 * command, options, checks and privileges), its device wrapped in a {@link FaultInjectingDevice}
 * reading FAULT_FILE. A test-classpath main class, so that no production binary carries it.
 */
public final class FaultyFsDaemon {
    private FaultyFsDaemon() {}

    public static void main(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: FaultyFsDaemon FAULT_FILE [jvhost fs options...]");
            System.exit(2);
        }
        Path faultFile = Path.of(args[0]);
        String[] fsArgs = Arrays.copyOfRange(args, 1, args.length);
        System.exit(FsCommand.commandLine(device -> new FaultInjectingDevice(device, faultFile))
                .execute(fsArgs));
    }

    /** Starts it as its own process, like {@link JvhostDaemon#start}, and waits for the socket. */
    public static ManagedProcess start(TestRun run, String name, Path socket, Path faultFile, String... fsArgs) {
        String[] args = new String[fsArgs.length + 1];
        args[0] = faultFile.toString();
        System.arraycopy(fsArgs, 0, args, 1, fsArgs.length);
        return JvhostDaemon.start(run, name, socket, FaultyFsDaemon.class, args);
    }
}
