package io.jvhost.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon started through the repository's launcher takes its command-line parser from the AOT
 * cache. picocli is built for Java 5, and the JDK skips class files that old when it records a
 * cache; the build rewrites them (scripts/RetargetClassFiles.java), which this holds: without
 * that, picocli's classes are loaded and verified from the jar at every start.
 */
class LauncherAotCacheTest {
    private static final Path LAUNCHER = Path.of("..", "jvhost");

    @Test
    void picocliComesFromTheAotCache(@TempDir Path tmp) throws Exception {
        Path log = tmp.resolve("classes.log");
        ProcessBuilder pb = new ProcessBuilder(LAUNCHER.toString(), "fs", "--print-capabilities")
                .redirectErrorStream(true)
                .redirectOutput(tmp.resolve("out").toFile());
        // The java launcher adds these options; class logging leaves the cache usable.
        pb.environment().put("JDK_JAVA_OPTIONS", "-Xlog:class+load=info:file=" + log);
        Process p = pb.start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "launcher did not finish");
        assertEquals(0, p.exitValue(), () -> read(tmp.resolve("out")));
        List<String> loads = Files.readAllLines(log);
        String commandLine = loads.stream()
                .filter(l -> l.contains(" picocli.CommandLine source:"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("picocli.CommandLine never loaded: " + read(tmp.resolve("out"))));
        assertTrue(commandLine.endsWith("source: shared objects file"), commandLine);
        long fromJar = loads.stream()
                .filter(l -> l.contains(" picocli.") && l.contains("picocli-"))
                .count();
        assertEquals(0, fromJar, "picocli classes loaded from the jar, not the cache");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
