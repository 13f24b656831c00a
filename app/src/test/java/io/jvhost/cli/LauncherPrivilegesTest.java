package io.jvhost.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jvhost.nativeio.Capability;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The launcher drops a daemon's privileges before the JVM starts (setpriv) with the sets it
 * spells itself; they must be the commands' own: a capability missing there is one the daemon
 * lacks, one too many costs the daemon's re-execution.
 */
class LauncherPrivilegesTest {
    /** The repository's launcher, from the module directory Maven runs the tests in. */
    private static final Path LAUNCHER = Path.of("..", "jvhost");

    @Test
    void fsKeepsFsCommandsCapabilities() throws IOException {
        assertEquals(names(FsCommand.CAPABILITIES), kept("FS_KEEP=([^\\s]*)"));
    }

    @Test
    void rngKeepsRngCommandsCapabilities() throws IOException {
        assertEquals(names(RngCommand.CAPABILITIES), kept("rng\\) privileges_argv \"([^\"]*)\""));
    }

    /** The setpriv spelling (",+chown,+setuid") the launcher has where {@code regex} matches. */
    private static Set<String> kept(String regex) throws IOException {
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(Files.readString(LAUNCHER));
        if (!m.find()) throw new AssertionError(LAUNCHER + " has no " + regex);
        String keep = m.group(1);
        if (keep.startsWith("\"$")) throw new AssertionError("indirect set: " + keep);
        return Arrays.stream(keep.split(","))
                .filter(s -> !s.isEmpty())
                .map(s -> s.startsWith("+") ? s.substring(1) : "missing + in " + s)
                .collect(Collectors.toSet());
    }

    private static Set<String> names(Set<Capability> caps) {
        return caps.stream().map(c -> c.name().toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
    }
}
