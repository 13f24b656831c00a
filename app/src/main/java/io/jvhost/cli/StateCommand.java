package io.jvhost.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jvhost state}: tools for device-state blobs (what a migration moves). */
@Command(
        name = "state",
        mixinStandardHelpOptions = true,
        description = "Look into device-state blobs (jvhost's or virtiofsd's).",
        subcommands = {StateCommand.Inspect.class})
final class StateCommand {
    @Command(
            name = "inspect",
            mixinStandardHelpOptions = true,
            description = {
                "Decode a device-state blob and print what it holds: format, version, sections, inode and handle"
                        + " counts, paths.",
                "Takes jvhost's format, virtiofsd's (postcard V1/V2), and either inside QEMU's framing of a"
                        + " device-state stream (be32-length chunks ending with a zero length)."
            })
    static final class Inspect implements Callable<Integer> {
        static final int SUMMARY_PATHS = 50;

        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "FILE|-", description = "the blob; - reads standard input")
        String file;

        @Option(names = "--json", description = "print everything, as JSON")
        boolean json;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            byte[] input;
            try (InputStream in = file.equals("-") ? System.in : Files.newInputStream(Path.of(file))) {
                input = in.readAllBytes();
            }
            try {
                StateInspection s = StateInspection.of(input);
                out.println(json ? s.json() : s.text(SUMMARY_PATHS).stripTrailing());
                out.flush();
                return 0;
            } catch (StateInspection.InspectException | IOException e) {
                spec.commandLine().getErr().println("jvhost state inspect: " + file + ": " + e.getMessage());
                return 1;
            }
        }
    }
}
