package io.jvhost.testing.qemu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where the QEMU tests' external dependencies live, checked on first use.
 *
 * <ul>
 *   <li>repository root: the nearest directory at or above {@code user.dir} with a {@code pom.xml}
 *       and a {@code scripts/} directory (override: {@code -Djvhost.repo});</li>
 *   <li>{@code JVHOST_DEPS} (environment) or {@code -Djvhost.deps}: default {@code <repo>/.deps}, as
 *       filled by {@code scripts/install-test-deps.sh};</li>
 *   <li>QEMU: {@code QEMU_BIN} / {@code -Djvhost.qemu}, default {@code qemu-system-x86_64} on the
 *       {@code PATH}; version 10 or newer.</li>
 * </ul>
 *
 * <p>Every accessor that finds something missing throws {@link MissingTestDependencyException}
 * (a failure, not a skip), whose message says to run {@code scripts/install-test-deps.sh}.
 */
public final class TestDeps {
    /** The unpacked guest kernel. */
    public record GuestKernel(String release, Path vmlinuz, Path config, Path modulesDir) {}

    private static TestDeps instance;

    private final Path repoRoot;
    private final Path depsDir;
    private GuestKernel kernel;
    private Path qemu;
    private String qemuVersion;
    private List<String> virtiofsd;

    private TestDeps(Path repoRoot, Path depsDir) {
        this.repoRoot = repoRoot;
        this.depsDir = depsDir;
    }

    /** The process-wide instance (locations resolved once; each dependency checked on first use). */
    public static synchronized TestDeps get() {
        if (instance == null) {
            Path root = findRepoRoot();
            String deps = setting("JVHOST_DEPS", "jvhost.deps");
            Path depsDir = deps != null ? Path.of(deps).toAbsolutePath().normalize() : root.resolve(".deps");
            instance = new TestDeps(root, depsDir);
        }
        return instance;
    }

    /** An instance on explicit locations (for tests of this class). */
    static TestDeps at(Path repoRoot, Path depsDir) {
        return new TestDeps(repoRoot, depsDir);
    }

    private static String setting(String env, String property) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) v = System.getenv(env);
        return v == null || v.isBlank() ? null : v;
    }

    private static Path findRepoRoot() {
        String explicit = System.getProperty("jvhost.repo");
        if (explicit != null && !explicit.isBlank())
            return Path.of(explicit).toAbsolutePath().normalize();
        Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath().normalize();
        for (Path p = start; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("scripts"))) return p;
        }
        throw new MissingTestDependencyException(
                "the repository root (no pom.xml + scripts/ at or above " + start + "; set -Djvhost.repo)");
    }

    public Path repoRoot() {
        return repoRoot;
    }

    /** {@code JVHOST_DEPS}: where install-test-deps.sh put virtiofsd and the guest kernel. */
    public Path depsDir() {
        return depsDir;
    }

    /** {@code <repo>/target}, the build output directory (logs, cached initramfs images). */
    public Path targetDir() {
        return repoRoot.resolve("target");
    }

    /** {@code <repo>/target/qemu-tests}: per-test logs and the initramfs cache. */
    public Path qemuTestsDir() {
        return targetDir().resolve("qemu-tests");
    }

    /** The guest's /init and scenarios ({@code testkit/src/main/resources/guest}). */
    public Path guestResources() {
        Path p = repoRoot.resolve("testkit/src/main/resources/guest");
        if (!Files.isRegularFile(p.resolve("init.sh"))) {
            throw new IllegalStateException("guest init script missing: " + p.resolve("init.sh"));
        }
        return p;
    }

    /** {@code scripts/build-initramfs.sh}. */
    public Path buildInitramfsScript() {
        Path p = repoRoot.resolve("scripts/build-initramfs.sh");
        if (!Files.isRegularFile(p)) throw new IllegalStateException("missing " + p);
        return p;
    }

    /** The newest guest kernel under {@code <deps>/guest-kernel}, with its config and modules. */
    public synchronized GuestKernel guestKernel() {
        if (kernel != null) return kernel;
        Path root = depsDir.resolve("guest-kernel");
        Path boot = root.resolve("boot");
        List<Path> images = new ArrayList<>();
        if (Files.isDirectory(boot)) {
            try (Stream<Path> s = Files.list(boot)) {
                s.filter(p -> p.getFileName().toString().startsWith("vmlinuz-")).forEach(images::add);
            } catch (IOException e) {
                throw new MissingTestDependencyException("guest kernel (cannot list " + boot + ")", e);
            }
        }
        if (images.isEmpty()) throw new MissingTestDependencyException("guest kernel (no " + boot + "/vmlinuz-*)");
        images.sort(
                Comparator.comparing(p -> versionKey(p.getFileName().toString().substring(8))));
        Path vmlinuz = images.getLast();
        String release = vmlinuz.getFileName().toString().substring("vmlinuz-".length());
        Path config = boot.resolve("config-" + release);
        Path modules = root.resolve("lib/modules/" + release + "/kernel");
        if (!Files.isRegularFile(config)) throw new MissingTestDependencyException("guest kernel config " + config);
        if (!Files.isDirectory(modules)) throw new MissingTestDependencyException("guest kernel modules " + modules);
        kernel = new GuestKernel(release, vmlinuz, config, modules);
        return kernel;
    }

    /** Sort key for kernel releases: numbers compared numerically ("6.1.0-56" after "6.1.0-9"). */
    private static String versionKey(String release) {
        Matcher m = Pattern.compile("\\d+").matcher(release);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, String.format("%010d", Long.parseLong(m.group())));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** The QEMU binary (absolute path), checked to be QEMU 10 or newer. */
    public synchronized Path qemuBinary() {
        if (qemu != null) return qemu;
        String name = setting("QEMU_BIN", "jvhost.qemu");
        if (name == null) name = "qemu-system-x86_64";
        Path bin = name.contains("/") ? Path.of(name).toAbsolutePath() : findOnPath(name);
        if (bin == null || !Files.isExecutable(bin)) {
            throw new MissingTestDependencyException("QEMU (" + name + " not found or not executable)");
        }
        String out = run(List.of(bin.toString(), "--version"), "QEMU");
        Matcher m = Pattern.compile("QEMU emulator version (\\d+)\\.(\\d+)\\.(\\d+)")
                .matcher(out);
        if (!m.find())
            throw new MissingTestDependencyException("QEMU (" + bin + " --version said: " + out.strip() + ")");
        if (Integer.parseInt(m.group(1)) < 10) {
            throw new MissingTestDependencyException("QEMU 10 or newer (" + bin + " is " + m.group() + ")");
        }
        qemuVersion = m.group(1) + "." + m.group(2) + "." + m.group(3);
        qemu = bin;
        return qemu;
    }

    /** e.g. "10.0.2". */
    public synchronized String qemuVersion() {
        qemuBinary();
        return qemuVersion;
    }

    /**
     * The command that runs the unpacked virtiofsd through its own loader, as scripts/common.sh
     * does: {@code <root>/usr/lib64/ld-linux-x86-64.so.2 --library-path <root>/usr/lib/x86_64-linux-gnu
     * <root>/usr/libexec/virtiofsd}. Append virtiofsd's own arguments.
     */
    public synchronized List<String> virtiofsdArgv() {
        if (virtiofsd != null) return virtiofsd;
        Path root = depsDir.resolve("virtiofsd-root");
        Path loader = root.resolve("usr/lib64/ld-linux-x86-64.so.2");
        Path libs = root.resolve("usr/lib/x86_64-linux-gnu");
        Path bin = root.resolve("usr/libexec/virtiofsd");
        for (Path p : List.of(loader, bin)) {
            if (!Files.isRegularFile(p)) throw new MissingTestDependencyException("virtiofsd (no " + p + ")");
        }
        List<String> argv = List.of(loader.toString(), "--library-path", libs.toString(), bin.toString());
        List<String> version = new ArrayList<>(argv);
        version.add("--version");
        String out = run(version, "virtiofsd");
        if (!out.contains("virtiofsd")) {
            throw new MissingTestDependencyException(
                    "a working virtiofsd (" + bin + " --version said: " + out.strip() + ")");
        }
        virtiofsd = argv;
        return virtiofsd;
    }

    /**
     * An executable that runs virtiofsd as {@link #virtiofsdArgv()} does, for callers that take one
     * program path (libvirt's {@code <binary path>}): a shell script written into {@code dir}.
     */
    public Path virtiofsdExecutable(Path dir) {
        StringBuilder sh = new StringBuilder("#!/bin/sh\nexec");
        for (String a : virtiofsdArgv())
            sh.append(" '").append(a.replace("'", "'\\''")).append('\'');
        sh.append(" \"$@\"\n");
        Path script = dir.resolve("virtiofsd");
        try {
            Files.writeString(script, sh);
            Files.setPosixFilePermissions(script, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return script;
    }

    /** Static busybox (for the initramfs): {@code BUSYBOX} or busybox on the PATH. */
    public Path busybox() {
        String name = setting("BUSYBOX", "jvhost.busybox");
        Path p = name != null ? Path.of(name) : findOnPath("busybox");
        if (p == null || !Files.isExecutable(p))
            throw new MissingTestDependencyException("busybox-static (busybox not found)");
        if (findOnPath("cpio") == null) throw new MissingTestDependencyException("cpio");
        return p;
    }

    static Path findOnPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
        for (String dir : path.split(":")) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return p;
        }
        return null;
    }

    private static String run(List<String> argv, String what) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new MissingTestDependencyException(what + " (" + argv.getFirst() + " did not answer --version)");
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new MissingTestDependencyException(
                    what + " (cannot run " + argv.getFirst() + ": " + e.getMessage() + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** The environment that makes scripts/ (common.sh) use the same dependencies as this class. */
    Map<String, String> scriptEnvironment() {
        return Map.of(
                "JVHOST_DEPS",
                depsDir.toString(),
                "REPO_ROOT",
                repoRoot.toString(),
                "GUEST_KERNEL_ROOT",
                depsDir.resolve("guest-kernel").toString(),
                "VIRTIOFSD_ROOT",
                depsDir.resolve("virtiofsd-root").toString(),
                "BUSYBOX",
                busybox().toString());
    }

    @Override
    public String toString() {
        return "TestDeps[repo=" + repoRoot + ", deps=" + depsDir + "]";
    }
}
