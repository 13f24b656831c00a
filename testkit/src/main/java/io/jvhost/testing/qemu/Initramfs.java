package io.jvhost.testing.qemu;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The guest initramfs, built by {@code scripts/build-initramfs.sh} and cached as
 * {@code target/qemu-tests/initramfs/initramfs-<key>.img}, where the key hashes every input: the
 * script (and common.sh), /init, the scenario scripts, the extra modules, the kernel release and
 * config, and busybox. Editing a scenario therefore rebuilds on the next test; a build takes well
 * under a second.
 */
public final class Initramfs {
    private static final Map<String, Path> BUILT = new ConcurrentHashMap<>();

    private Initramfs() {}

    /** /init and scenarios from {@code testkit/src/main/resources/guest}, the standard modules. */
    public static Path standard() {
        return build(List.of());
    }

    /**
     * The standard guest plus extra modules, each {@code CONFIG_OPTION:path/under/kernel.ko}
     * (e.g. {@code CONFIG_VIRTIO_BLK:drivers/block/virtio_blk.ko}); loaded after the standard ones,
     * in the given order.
     */
    public static Path build(List<String> extraModules) {
        Path guest = TestDeps.get().guestResources();
        return build(guest.resolve("init.sh"), guest.resolve("scenarios"), extraModules);
    }

    /** Builds (or reuses) an initramfs with the given /init, scenarios directory and extra modules. */
    public static Path build(Path initScript, Path scenariosDir, List<String> extraModules) {
        TestDeps deps = TestDeps.get();
        TestDeps.GuestKernel kernel = deps.guestKernel();
        Path script = deps.buildInitramfsScript();
        Path busybox = deps.busybox();
        String key = cacheKey(script, initScript, scenariosDir, extraModules, kernel, busybox);
        return BUILT.computeIfAbsent(key, k -> buildLocked(k, script, initScript, scenariosDir, extraModules));
    }

    private static synchronized Path buildLocked(
            String key, Path script, Path init, Path scenarios, List<String> extra) {
        TestDeps deps = TestDeps.get();
        Path dir = deps.qemuTestsDir().resolve("initramfs");
        Path out = dir.resolve("initramfs-" + key + ".img");
        Path log = dir.resolve("initramfs-" + key + ".log");
        try {
            Files.createDirectories(dir);
            // Several test JVMs (forks) may build the same image: one builds, the others wait.
            try (FileChannel lockFile = FileChannel.open(
                            dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock _ = lockFile.lock()) {
                if (Files.isRegularFile(out) && Files.size(out) > 0) return out;
                List<String> argv = new ArrayList<>(List.of("bash", script.toString()));
                if (scenarios != null && Files.isDirectory(scenarios)) {
                    argv.addAll(List.of("--scenarios", scenarios.toString()));
                }
                argv.add(out.toString());
                argv.add(init.toString());
                argv.addAll(extra);
                ProcessBuilder pb =
                        new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(log.toFile());
                pb.environment().putAll(deps.scriptEnvironment());
                Process p = pb.start();
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException("build-initramfs.sh timed out; see " + log);
                }
                String output = Files.readString(log);
                if (p.exitValue() != 0 || !Files.isRegularFile(out)) {
                    String msg = "build-initramfs.sh failed (exit " + p.exitValue() + "): " + output.strip();
                    if (output.contains("install-test-deps.sh")) throw new MissingTestDependencyException(msg);
                    throw new IllegalStateException(msg);
                }
                return out;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build the initramfs in " + dir, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static String cacheKey(
            Path script, Path init, Path scenarios, List<String> extra, TestDeps.GuestKernel kernel, Path busybox) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            add(md, "script", Files.readAllBytes(script));
            Path common = script.resolveSibling("common.sh");
            if (Files.isRegularFile(common)) add(md, "common", Files.readAllBytes(common));
            add(md, "init", Files.readAllBytes(init));
            if (scenarios != null && Files.isDirectory(scenarios)) {
                try (Stream<Path> s = Files.list(scenarios)) {
                    for (Path f : s.filter(Files::isRegularFile).sorted().toList()) {
                        add(md, "scenario " + f.getFileName(), Files.readAllBytes(f));
                    }
                }
            }
            add(md, "extra", String.join("\n", extra).getBytes(StandardCharsets.UTF_8));
            add(md, "kernel", kernel.release().getBytes(StandardCharsets.UTF_8));
            add(md, "config", Files.readAllBytes(kernel.config()));
            add(
                    md,
                    "busybox",
                    (busybox.toRealPath() + " " + Files.size(busybox) + " " + Files.getLastModifiedTime(busybox))
                            .getBytes(StandardCharsets.UTF_8));
            for (String tool : List.of("setfattr", "getfattr")) { // GUEST_TOOLS in the script
                for (String dir : List.of("/usr/bin", "/bin")) {
                    Path t = Path.of(dir, tool);
                    if (Files.isRegularFile(t)) {
                        add(
                                md,
                                "tool " + tool,
                                (t.toRealPath() + " " + Files.size(t)).getBytes(StandardCharsets.UTF_8));
                        break;
                    }
                }
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the initramfs inputs", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void add(MessageDigest md, String label, byte[] data) {
        md.update(label.getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
        md.update(Long.toString(data.length).getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
        md.update(data);
    }
}
