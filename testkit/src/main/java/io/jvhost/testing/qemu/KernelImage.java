package io.jvhost.testing.qemu;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

/**
 * The kernel image QEMU boots. Under TCG, SeaBIOS plus decompressing the 8 MiB bzImage takes
 * about 8 s of every boot; booting the uncompressed ELF {@code vmlinux} through its PVH entry point
 * ({@code CONFIG_PVH=y}, QEMU loads it directly) skips both and roughly halves boot-to-READY. So
 * {@link #forBoot()} extracts vmlinux from the bzImage once (xz through the {@code xz} tool, gzip
 * in Java), checks its PVH ELF note, and caches it as
 * {@code target/qemu-tests/kernel/vmlinux-<release>-<size>}. If anything is missing it falls back
 * to the bzImage. {@code -Djvhost.guest.pvh=false} forces the bzImage.
 */
public final class KernelImage {
    private static final byte[] XZ_MAGIC = {(byte) 0xfd, '7', 'z', 'X', 'Z', 0};
    private static final byte[] GZIP_MAGIC = {0x1f, (byte) 0x8b, 0x08};
    private static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;
    private static Path cached;
    private static String why;

    private KernelImage() {}

    /** The image {@link QemuGuest} boots by default: PVH vmlinux if possible, else the bzImage. */
    public static synchronized Path forBoot() {
        if (cached != null) return cached;
        TestDeps.GuestKernel k = TestDeps.get().guestKernel();
        if ("false".equalsIgnoreCase(System.getProperty("jvhost.guest.pvh", "true"))) {
            why = "bzImage (-Djvhost.guest.pvh=false)";
            return cached = k.vmlinuz();
        }
        try {
            cached = extract(k);
            why = "PVH vmlinux extracted from " + k.vmlinuz().getFileName();
        } catch (IOException | RuntimeException e) {
            why = "bzImage (no PVH vmlinux: " + e.getMessage() + ")";
            System.err.println(
                    "[qemu-test] booting the compressed " + k.vmlinuz() + ", which is slower: " + e.getMessage());
            cached = k.vmlinuz();
        }
        return cached;
    }

    /** Which image {@link #forBoot()} chose, and why. */
    public static synchronized String description() {
        forBoot();
        return why;
    }

    private static Path extract(TestDeps.GuestKernel k) throws IOException {
        String config = Files.readString(k.config());
        if (!config.contains("\nCONFIG_PVH=y\n")) throw new IOException("kernel lacks CONFIG_PVH=y");
        Path dir = TestDeps.get().qemuTestsDir().resolve("kernel");
        Path out = dir.resolve("vmlinux-" + k.release() + "-" + Files.size(k.vmlinuz()));
        Files.createDirectories(dir);
        try (FileChannel lockFile =
                        FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock _ = lockFile.lock()) {
            if (Files.isRegularFile(out) && hasPvhNote(out)) return out;
            byte[] bz = Files.readAllBytes(k.vmlinuz());
            Path tmp = Files.createTempFile(dir, "vmlinux", ".tmp");
            try {
                if (config.contains("\nCONFIG_KERNEL_XZ=y\n")) {
                    unxz(bz, indexOf(bz, XZ_MAGIC), tmp);
                } else if (config.contains("\nCONFIG_KERNEL_GZIP=y\n")) {
                    int at = indexOf(bz, GZIP_MAGIC);
                    try (InputStream in =
                                    new GZIPInputStream(new java.io.ByteArrayInputStream(bz, at, bz.length - at));
                            OutputStream o = Files.newOutputStream(tmp)) {
                        in.transferTo(o);
                    }
                } else {
                    throw new IOException("kernel compression not xz or gzip");
                }
                if (!hasPvhNote(tmp)) throw new IOException("extracted vmlinux has no PVH entry note");
                Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return out;
        }
    }

    private static void unxz(byte[] bz, int at, Path out) throws IOException {
        if (TestDeps.findOnPath("xz") == null) throw new IOException("xz (xz-utils) not installed");
        // --single-stream: stop after the kernel's stream and ignore the rest of the bzImage.
        Process p = new ProcessBuilder("xz", "-dc", "--single-stream")
                .redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(bz, at, bz.length - at);
        } catch (IOException e) {
            // xz may close its input once the stream ended; its exit status decides
        }
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("xz timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (p.exitValue() != 0) throw new IOException("xz -dc failed with " + p.exitValue());
    }

    private static int indexOf(byte[] hay, byte[] needle) throws IOException {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) continue outer;
            }
            return i;
        }
        throw new IOException("compressed kernel not found in the bzImage");
    }

    /** Whether an ELF64 file has a PT_NOTE with the Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY). */
    static boolean hasPvhNote(Path elf) {
        try (FileChannel ch = FileChannel.open(elf, StandardOpenOption.READ)) {
            ByteBuffer eh = read(ch, 0, 64);
            if (eh.getInt(0) != 0x464c457f || eh.get(4) != 2) return false; // "\x7fELF", ELFCLASS64
            long phoff = eh.getLong(32);
            int phentsize = Short.toUnsignedInt(eh.getShort(54));
            int phnum = Short.toUnsignedInt(eh.getShort(56));
            for (int i = 0; i < phnum; i++) {
                ByteBuffer ph = read(ch, phoff + (long) i * phentsize, 56);
                if (ph.getInt(0) != 4) continue; // PT_NOTE
                long off = ph.getLong(8);
                long size = ph.getLong(32);
                if (size > 1 << 20) continue;
                ByteBuffer notes = read(ch, off, (int) size);
                int pos = 0;
                while (pos + 12 <= size) {
                    int namesz = notes.getInt(pos);
                    int descsz = notes.getInt(pos + 4);
                    int type = notes.getInt(pos + 8);
                    String name = namesz > 0 && pos + 12 + namesz <= size
                            ? new String(
                                    notes.array(),
                                    pos + 12,
                                    Math.max(0, namesz - 1),
                                    java.nio.charset.StandardCharsets.US_ASCII)
                            : "";
                    if (name.equals("Xen") && type == XEN_ELFNOTE_PHYS32_ENTRY) return true;
                    pos += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3);
                }
            }
            return false;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static ByteBuffer read(FileChannel ch, long pos, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) throw new IOException("short ELF");
        }
        return b.flip().order(ByteOrder.LITTLE_ENDIAN);
    }
}
