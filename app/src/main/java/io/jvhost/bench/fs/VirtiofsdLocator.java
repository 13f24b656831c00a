package io.jvhost.bench.fs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds the reference virtiofsd as the test harness does: the tree
 * {@code scripts/install-test-deps.sh} unpacks ({@code <deps>/virtiofsd-root}, run through its
 * own loader and libc), where deps is {@code JVHOST_DEPS} / {@code -Djvhost.deps} or the
 * {@code .deps} of the repository at or above the working directory or the jar; else a
 * virtiofsd on the PATH or in /usr/libexec.
 */
public final class VirtiofsdLocator {
    private VirtiofsdLocator() {}

    /**
     * The command that runs virtiofsd: {@code spec} "auto" searches, anything else is a path
     * to a virtiofsd binary or to an unpacked root (a directory with usr/libexec/virtiofsd).
     */
    public static Optional<List<String>> find(String spec) {
        if (!"auto".equals(spec)) {
            Path p = Path.of(spec);
            return Files.isDirectory(p)
                    ? fromRoot(p)
                    : Files.isExecutable(p) ? Optional.of(List.of(p.toString())) : Optional.empty();
        }
        for (Path deps : depsCandidates()) {
            Optional<List<String>> found = fromRoot(deps.resolve("virtiofsd-root"));
            if (found.isPresent()) return found;
        }
        List<Path> plain = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) for (String d : path.split(":")) if (!d.isEmpty()) plain.add(Path.of(d, "virtiofsd"));
        plain.add(Path.of("/usr/libexec/virtiofsd"));
        plain.add(Path.of("/usr/lib/qemu/virtiofsd"));
        return plain.stream().filter(Files::isExecutable).findFirst().map(p -> List.of(p.toString()));
    }

    private static Optional<List<String>> fromRoot(Path root) {
        Path loader = root.resolve("usr/lib64/ld-linux-x86-64.so.2");
        Path libs = root.resolve("usr/lib/x86_64-linux-gnu");
        Path bin = root.resolve("usr/libexec/virtiofsd");
        if (!Files.isRegularFile(bin)) return Optional.empty();
        if (!Files.isRegularFile(loader)) return Optional.of(List.of(bin.toString()));
        return Optional.of(List.of(loader.toString(), "--library-path", libs.toString(), bin.toString()));
    }

    private static List<Path> depsCandidates() {
        List<Path> out = new ArrayList<>();
        String explicit = System.getProperty("jvhost.deps");
        if (explicit == null || explicit.isBlank()) explicit = System.getenv("JVHOST_DEPS");
        if (explicit != null && !explicit.isBlank()) out.add(Path.of(explicit));
        List<Path> starts =
                new ArrayList<>(List.of(Path.of(System.getProperty("user.dir")).toAbsolutePath()));
        try {
            starts.add(Path.of(VirtiofsdLocator.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI()));
        } catch (Exception e) {
            // no code source (unusual class loader): the working directory is enough
        }
        for (Path start : starts) {
            for (Path p = start.normalize(); p != null; p = p.getParent()) {
                if (Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve(".deps")))
                    out.add(p.resolve(".deps"));
            }
        }
        return out;
    }
}
