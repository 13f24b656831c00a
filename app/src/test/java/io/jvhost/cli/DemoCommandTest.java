package io.jvhost.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The demo migrates with open files, every continuity check holds, and it leaves no temp directory. */
class DemoCommandTest {
    @Test
    void migratesWithOpenHandlesAndCleansUp() {
        StringWriter out = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        int exit = cl.execute("demo", "--data-size", "300000", "--channels", "3");
        String text = out.toString();
        assertEquals(0, exit, text);
        assertFalse(text.contains("FAIL"), text);
        assertEquals(
                7,
                Pattern.compile("^  ok ", Pattern.MULTILINE)
                        .matcher(text)
                        .results()
                        .count(),
                text);
        assertTrue(text.contains("over 3 channel(s), packets per channel"), text);
        Matcher removed = Pattern.compile("temp directory (\\S+) removed").matcher(text);
        assertTrue(removed.find(), text);
        assertFalse(Files.exists(Path.of(removed.group(1))), "the demo removed its temp directory");
    }
}
