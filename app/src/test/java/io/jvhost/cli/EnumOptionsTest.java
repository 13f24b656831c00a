package io.jvhost.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.devices.fs.passthrough.CachePolicy;
import io.jvhost.devices.fs.passthrough.InodeFileHandles;
import io.jvhost.devices.fs.passthrough.MigrationMode;
import io.jvhost.devices.fs.passthrough.MigrationOnError;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * The options that take one of a fixed set of words: the help lists the words, a wrong word fails
 * at parsing with picocli's error naming the option and the words, and virtiofsd's spellings (any
 * case, {@code -} or {@code _}) still parse.
 */
class EnumOptionsTest {
    private static String help(String command) {
        return Main.commandLine().getSubcommands().get(command).getUsageMessage(CommandLine.Help.Ansi.OFF);
    }

    /** An option's entry in the help (its lines up to the next option's), on one line. */
    private static String entry(String command, String option) {
        for (String entry : help(command).split("\n(?= {2}-\\w, --| {6}--)")) {
            String line = entry.strip().replaceAll("\\s+", " ");
            if (line.startsWith(option + " ")) return line;
        }
        throw new AssertionError(option + " is not in the help of " + command + ":\n" + help(command));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            fs  | --cache=POLICY              | never, auto, always, metadata  | auto
            fs  | --migration-mode=MODE       | find-paths, file-handles       | find-paths
            fs  | --inode-file-handles=MODE   | never, prefer, mandatory       | prefer
            fs  | --migration-on-error=ACTION | abort, guest-error             | abort
            fs  | --migration-state-format=FORMAT | jvhost, virtiofsd          | jvhost
            fs  | --log-level=LEVEL           | error, warn, info, debug, trace, off | info
            rng | --log-level=LEVEL           | error, warn, info, debug, trace, off | info
            """)
    void theHelpListsTheWordsAndTheDefault(String command, String option, String words, String dflt) {
        String entry = entry(command, option);
        assertTrue(entry.contains(words), entry);
        assertTrue(entry.contains("default: " + dflt + ")"), entry);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            fs  | --cache              | sometimes  | never, auto, always, metadata
            fs  | --migration-mode     | find_inode | find-paths, file-handles
            fs  | --inode-file-handles | always     | never, prefer, mandatory
            fs  | --migration-on-error | ignore     | abort, guest-error
            fs  | --migration-state-format | qemu   | jvhost, virtiofsd
            fs  | --log-level          | loud       | error, warn, info, debug, trace, off
            rng | --log-level          | 3          | error, warn, info, debug, trace, off
            """)
    void aWrongWordFailsNamingTheOptionAndTheWords(String command, String option, String word, String words) {
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err, true));
        cl.setOut(new PrintWriter(new StringWriter(), true));
        // --print-capabilities would exit 0 before anything is served: only the wrong word can fail this.
        int exit = cl.execute(command, "--print-capabilities", option, word);
        assertEquals(2, exit, err::toString);
        String first = err.toString().lines().findFirst().orElse("");
        assertEquals(
                "Invalid value for option '" + option + "': expected one of " + words + " but was '" + word + "'",
                first,
                err::toString);
    }

    @ParameterizedTest
    @CsvSource({
        "fs,--cache,never,NEVER",
        "fs,--cache,AUTO,AUTO",
        "fs,--cache,Always,ALWAYS",
        "fs,--migration-mode,find-paths,FIND_PATHS",
        "fs,--migration-mode,file-handles,FILE_HANDLES",
        "fs,--migration-mode,FILE_HANDLES,FILE_HANDLES",
        "fs,--migration-mode,File-Handles,FILE_HANDLES",
        "fs,--inode-file-handles,never,NEVER",
        "fs,--inode-file-handles,Prefer,PREFER",
        "fs,--inode-file-handles,MANDATORY,MANDATORY",
        "fs,--migration-on-error,abort,ABORT",
        "fs,--migration-on-error,guest-error,GUEST_ERROR",
        "fs,--migration-on-error,guest_error,GUEST_ERROR",
        "fs,--migration-state-format,virtiofsd,VIRTIOFSD",
        "fs,--migration-state-format,JVHOST,JVHOST",
        "rng,--log-level,error,ERROR",
        "rng,--log-level,warn,WARN",
        "rng,--log-level,debug,DEBUG",
        "rng,--log-level,TRACE,TRACE",
        "rng,--log-level,off,OFF",
        "fs,--log-level,Info,INFO"
    })
    void theWordsParseInAnyCaseWithDashesOrUnderscores(String command, String option, String word, String constant) {
        CommandLine.ParseResult parsed =
                Main.commandLine().parseArgs(command, option, word).subcommand();
        assertEquals(constant, parsed.<Enum<?>>matchedOptionValue(option, null).name());
    }

    @Test
    void theDefaultsAreVirtiofsds() {
        FsCommand fs = new FsCommand();
        new CommandLine(fs).parseArgs();
        assertEquals(CachePolicy.AUTO, fs.cache);
        assertEquals(MigrationMode.FIND_PATHS, fs.migrationMode);
        assertEquals(MigrationOnError.ABORT, fs.migrationOnError);
        assertEquals(io.jvhost.devices.fs.StateFormat.JVHOST, fs.migrationStateFormat);
        assertEquals(InodeFileHandles.PREFER, fs.inodeFileHandles, "virtiofsd 1.13.3's default");
        assertEquals(DaemonOptions.LogLevel.INFO, fs.daemon.logLevel);
    }
}
