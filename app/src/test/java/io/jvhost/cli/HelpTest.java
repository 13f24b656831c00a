package io.jvhost.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** Every command's help describes each of its options once (the daemon mixin's once listed --fd twice). */
class HelpTest {
    /** An option's entry in the list: its names start the line ("  -h, --help  Show ..."). */
    private static final Pattern ENTRY = Pattern.compile("^ {2}(?:-\\w, )? *(--[\\w-]+)");

    static List<String> commands() {
        return List.copyOf(Main.commandLine().getSubcommands().keySet());
    }

    @ParameterizedTest
    @MethodSource("commands")
    void listsEachOptionOnce(String command) {
        String help = Main.commandLine().getSubcommands().get(command).getUsageMessage(CommandLine.Help.Ansi.OFF);
        List<String> listed = help.lines()
                // not the synopsis, whose wrapped lines may start with an option too
                .dropWhile(l -> l.startsWith("Usage:") || l.startsWith(" "))
                .map(ENTRY::matcher)
                .filter(m -> m.find())
                .map(m -> m.group(1))
                .toList();
        assertFalse(listed.isEmpty(), help);
        assertTrue(listed.contains("--help"), help);
        Map<String, Long> counts =
                listed.stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
        counts.forEach((option, n) -> assertEquals(
                1L, n, () -> "jvhost " + command + " --help lists " + option + " " + n + " times:\n" + help));
    }
}
