package io.jvhost.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** The command line for a sub-command holds that one alone, under the name its class declares. */
class MainTest {
    @ParameterizedTest
    @MethodSource("io.jvhost.cli.HelpTest#commands")
    void namedCommandIsTheOnlyOneBuilt(String name) {
        CommandLine cl = Main.commandLine(name, "--help");
        assertEquals(Set.of(name), cl.getSubcommands().keySet());
        Object command = cl.getSubcommands().get(name).getCommandSpec().userObject();
        assertEquals(
                name,
                command.getClass().getAnnotation(CommandLine.Command.class).name());
        assertTrue(cl.getSubcommands().get(name).getUsageMessage().contains("jvhost " + name));
    }

    @Test
    void anythingElseGetsEveryCommand() {
        assertEquals(
                Main.commandLine().getSubcommands().keySet(),
                Main.commandLine("--help").getSubcommands().keySet());
        assertEquals(11, Main.commandLine("no-such-command").getSubcommands().size());
    }
}
