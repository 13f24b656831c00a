package io.jvhost.devices.fs;

import static io.jvhost.devices.fs.FuseHarness.*;
import static org.junit.jupiter.api.Assertions.fail;

import io.jvhost.devices.fs.HostileGuest.Desc;
import io.jvhost.devices.fs.HostileGuest.ExtraRegion;
import io.jvhost.devices.fs.HostileGuest.Log;
import io.jvhost.devices.fs.HostileGuest.Setup;
import io.jvhost.devices.fs.passthrough.CraftedDeviceState;
import io.jvhost.devices.fs.passthrough.FsSnapshot;
import io.jvhost.devices.fs.passthrough.Location;
import io.jvhost.devices.fs.passthrough.MigrationMode;
import io.jvhost.frontend.DeviceStateTransfer;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.virtqueue.GuestBuffer;
import io.jvhost.virtqueue.UsedElement;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A hostile guest, generated: jvhost's virtio-fs device over the real passthrough file system,
 * behind a real vhost-user socket, in this JVM, fed by {@link HostileGuest}. Four generator
 * families, each a parameterized test run without a request executor and with one of two threads:
 * <ul>
 * <li><b>FUSE sequences</b>: valid-ish and mutated requests with random and extreme arguments;
 *     names with "..", "/", NUL, 4 KiB; MKNOD of FIFOs, sockets, char and block devices followed
 *     by CREATE/OPEN/READ/WRITE; deep MKDIR chains then FORGET in either order; BATCH_FORGET whose
 *     count claims far more than it carries; SETATTR/SETXATTR; RENAME/LINK games; symlinks out.</li>
 * <li><b>descriptor layouts</b>: a request and its reply room split over descriptors in every
 *     way (zero-length pieces, indirect tables, the reply room over the request, one buffer
 *     repeated across the chain) and invalid chains (addresses outside memory, wrapping, huge
 *     lengths, loops, nested indirect tables, writable before readable).</li>
 * <li><b>memory tables</b>: raw SET_MEM_TABLE / ADD_MEM_REG with regions larger than their memfd,
 *     at offsets past its end, and SET_LOG_BASE with a log larger than its memfd, then requests
 *     and replies in those parts.</li>
 * <li><b>device-state blobs</b>: a real saved state mutated or truncated, and crafted states with
 *     deep parent chains and handles on special nodes, loaded through SET_DEVICE_STATE_FD and
 *     CHECK_DEVICE_STATE, then used.</li>
 * </ul>
 * After every step ({@link HostWatch}; the daemon is in this JVM, so its descriptors and threads
 * are ours to see):
 * <ul>
 * <li><b>escape</b>: every descriptor opened since the case began is a socket, pipe, anon inode or
 *     memfd, or names something inside the share, and a node there that is not a regular file or
 *     directory is held only as O_PATH (a device or FIFO opened for I/O is a host object, whatever
 *     its path); sentinels beside the share keep content and mtime; nothing new appears there;</li>
 * <li><b>hang</b>: the step's requests and a fresh GETATTR of the root answer within
 *     {@link #STEP_MILLIS} (a ring that rightly dropped an invalid chain may instead hand over to a
 *     new guest, which must be served); a state transfer ends within {@link #STATE_MILLIS}; no
 *     daemon thread outlives its daemon;</li>
 * <li><b>crash</b>: no thread of the JVM ended by an uncaught throwable, no request failed
 *     unexpectedly in the FUSE server;</li>
 * <li><b>fd and memory bounds</b>: the descriptors stay within 64 plus two per entry and handle the
 *     guest was given; one step raises the peak resident memory (VmHWM, reset per step) by at most
 *     {@link HostWatch#STEP_MEMORY_BOUND} and allocates at most {@link HostWatch#STEP_ALLOCATION_BOUND}
 *     of heap; at the end of a case every descriptor it opened is closed again (fd leak).</li>
 * </ul>
 * Counts (cases, crashes, hangs, escapes, fd leaks, memory, other) are printed per family at
 * the end. After a hang, the wedged threads of that case may still act later: from then on only
 * descriptors naming a case's own directory count as its leaks.
 *
 * <p>Cases are drawn by {@link Gen}, a {@link SplittableRandom} seeded per case from the base
 * seed, the family and the case's index ({@link #caseSeed}): the same family draws the same
 * cases with and without a pool, and one case can be run again alone. A failure names the
 * seed, the case and the command that reruns it, and prints the case as drawn (no shrinking).
 * Bounded for CI by each family's default number of cases and a fixed base seed
 * ({@value #DEFAULT_SEED}). On demand: {@code -Djvhost.fuzz.tries=N} (cases in every family),
 * {@code -Djvhost.fuzz.seed=random} (printed) or another base seed, {@code -Djvhost.fuzz.case=N}
 * (only case N), e.g.
 * {@code mvn test -Dtest=HostileGuestPropertyTest -Djvhost.fuzz.tries=5000 -Djvhost.fuzz.seed=random}.
 * {@code -Djvhost.fuzz.deep=N} sets the deepest MKDIR chain (default 15000: deep enough to
 * overflow a 2 MiB stack by recursion, and under the 20000 descriptors a process may have here).
 * Not covered: supplementary groups and capabilities (row 9 of issue 14): the daemon runs in
 * this JVM, with its credentials.
 */
class HostileGuestPropertyTest {
    static final long STEP_MILLIS = 3000;
    static final long STATE_MILLIS = 8000;
    static final String DEFAULT_SEED = "20261201";
    static final long BASE_SEED = baseSeed(System.getProperty("jvhost.fuzz.seed", DEFAULT_SEED));
    static final int DEEP = Integer.getInteger("jvhost.fuzz.deep", 15_000);
    static final int ENTRY = OUT_HEADER + 128, ATTR = OUT_HEADER + 104, OPEN_OUT = OUT_HEADER + 16;
    static final int O_WRONLY = 1,
            O_RDWR = 2,
            O_CREAT = 0100,
            O_EXCL = 0200,
            O_TRUNC = 01000,
            O_APPEND = 02000,
            O_NONBLOCK = 04000,
            O_DIRECTORY = 0200000,
            O_NOFOLLOW = 0400000,
            O_PATH = 010000000;
    static final int S_IFIFO = 0010000,
            S_IFCHR = 0020000,
            S_IFDIR = 0040000,
            S_IFBLK = 0060000,
            S_IFREG = 0100000,
            S_IFSOCK = 0140000;

    // ------------------------------------------------------------------ cases, seeds, counts

    static long baseSeed(String property) {
        return property.equals("random") ? new SplittableRandom().nextLong() : Long.parseLong(property);
    }

    /** A case's own seed: a function of the base seed, the family and the index only. */
    static long caseSeed(long base, String family, int index) {
        return mix(mix(base ^ family.hashCode()) + index);
    }

    /** The finaliser of SplitMix64: neighbouring inputs give unrelated seeds. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }

    /** The draws of one case. */
    static final class Gen {
        private final SplittableRandom random;

        Gen(long seed) {
            random = new SplittableRandom(seed);
        }

        /** Inclusive bounds. */
        int between(int min, int max) {
            return random.nextInt(min, max + 1);
        }

        long between(long min, long max) {
            return random.nextLong(min, max + 1);
        }

        int anyInt() {
            return random.nextInt();
        }

        boolean bool() {
            return random.nextBoolean();
        }

        @SafeVarargs
        final <T> T of(T... values) {
            return values[random.nextInt(values.length)];
        }

        <E extends Enum<E>> E any(Class<E> type) {
            return of(type.getEnumConstants());
        }

        /** {@code min} to {@code max} elements (the size uniform), each drawn by {@code element}. */
        <T> List<T> list(int min, int max, Supplier<? extends T> element) {
            int n = between(min, max);
            List<T> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) out.add(element.get());
            return out;
        }

        /** One of the choices, each as likely as its weight says. */
        @SafeVarargs
        final <T> T weighted(Weighted<? extends T>... choices) {
            int total = 0; // a loop, not a stream: the varargs array of a generic type stays in this method
            for (Weighted<? extends T> c : choices) total += c.weight();
            int at = random.nextInt(total);
            for (Weighted<? extends T> c : choices) {
                if ((at -= c.weight()) < 0) return c.draw().get();
            }
            throw new AssertionError("unreachable");
        }
    }

    record Weighted<T>(int weight, Supplier<T> draw) {}

    static <T> Weighted<T> w(int weight, Supplier<T> draw) {
        return new Weighted<>(weight, draw);
    }

    interface CaseRun<T> {
        void run(T drawn) throws Exception;
    }

    /**
     * Draws and runs the family's cases (or only {@code -Djvhost.fuzz.case=N}) one after another;
     * fails at the end with every case that failed, its seed and how to run it again.
     */
    static <T> void forEachCase(
            String family, String method, int pool, int defaultCases, Function<Gen, T> draw, CaseRun<T> run) {
        Integer only = Integer.getInteger("jvhost.fuzz.case");
        int cases = Integer.getInteger("jvhost.fuzz.tries", defaultCases);
        int first = only == null ? 0 : only, end = only == null ? cases : only + 1;
        List<String> failures = new ArrayList<>();
        for (int i = first; i < end; i++) {
            long seed = caseSeed(BASE_SEED, family, i);
            T drawn = draw.apply(new Gen(seed));
            try {
                run.run(drawn);
            } catch (Exception | AssertionError e) {
                if (!(e instanceof Finding)) {
                    COUNTS.computeIfAbsent(family + "/pool " + pool, k -> new Counts())
                            .other
                            .incrementAndGet();
                    e.printStackTrace();
                }
                String failure = family + " (pool " + pool + ") case " + i + " (seed " + seed + "): " + readable(e)
                        + "\n    again: mvn test -Dtest='"
                        + HostileGuestPropertyTest.class.getSimpleName() + "#" + method + "' -Djvhost.fuzz.seed="
                        + BASE_SEED + " -Djvhost.fuzz.case=" + i + "\n    case: " + readable(drawn);
                System.out.println("hostile-guest failure: " + failure);
                failures.add(failure);
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + (end - first) + " case(s) failed (base seed " + BASE_SEED + "):\n"
                    + String.join("\n", failures.subList(0, Math.min(5, failures.size()))));
        }
    }

    /** A case or finding as it prints, long repeats shortened ("n×4096", "(c/)×15000") and NUL shown. */
    static String readable(Object drawn) {
        String s = java.util.regex.Pattern.compile("(.{1,4}?)\\1{15,}")
                .matcher(String.valueOf(drawn))
                .replaceAll(m -> java.util.regex.Matcher.quoteReplacement(
                        (m.group(1).length() == 1 ? m.group(1) : "(" + m.group(1) + ")") + "×"
                                + m.group().length() / m.group(1).length()));
        s = s.replace("\0", "\\0");
        return s.length() > 4000 ? s.substring(0, 4000) + "..." : s;
    }

    /** What one family found, over every case it ran. */
    static final class Counts {
        final AtomicLong cases = new AtomicLong(),
                crashes = new AtomicLong(),
                hangs = new AtomicLong(),
                escapes = new AtomicLong(),
                fdLeaks = new AtomicLong(),
                memory = new AtomicLong(),
                other = new AtomicLong(),
                millis = new AtomicLong();

        @Override
        public String toString() {
            return "cases " + cases + ", crashes " + crashes + ", hangs " + hangs + ", escapes " + escapes
                    + ", fd leaks " + fdLeaks + ", memory " + memory + ", other " + other + " (" + millis
                    + " ms in cases)";
        }
    }

    static final Map<String, Counts> COUNTS = new ConcurrentHashMap<>();
    static final AtomicLong UNCAUGHT = new AtomicLong();
    /**
     * Set by the first hang: the wedged threads of that case may still open and close descriptors
     * later, so from then on only descriptors naming a case's own directory count as its leaks.
     */
    static final java.util.concurrent.atomic.AtomicBoolean TAINTED = new java.util.concurrent.atomic.AtomicBoolean();

    /** Where the daemon's threads are, for the report of a hang. */
    static void dumpDaemonThreads(String what) {
        StringBuilder b = new StringBuilder("threads at HANG (" + what + "):\n");
        Thread.getAllStackTraces().forEach((t, frames) -> {
            if (!t.getName().startsWith("jvhost") && !t.getName().startsWith("fuzz")) return;
            b.append("  ").append(t.getName()).append(' ').append(t.getState()).append('\n');
            for (int i = 0; i < Math.min(12, frames.length); i++)
                b.append("      at ").append(frames[i]).append('\n');
        });
        System.err.print(b);
    }

    static volatile String lastUncaught = "";
    private static Thread.UncaughtExceptionHandler previousHandler;

    @BeforeAll
    static void countUncaught() {
        System.out.println("hostile-guest fuzz: base seed " + BASE_SEED);
        previousHandler = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> {
            UNCAUGHT.incrementAndGet();
            lastUncaught = t.getName() + ": " + e;
            System.err.println("uncaught in " + t.getName() + ": " + e);
            e.printStackTrace();
        });
    }

    @AfterAll
    static void report() {
        Thread.setDefaultUncaughtExceptionHandler(previousHandler);
        Counts total = new Counts();
        COUNTS.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            System.out.println("hostile-guest fuzz [" + e.getKey() + "]: " + e.getValue());
            total.cases.addAndGet(e.getValue().cases.get());
            total.crashes.addAndGet(e.getValue().crashes.get());
            total.hangs.addAndGet(e.getValue().hangs.get());
            total.escapes.addAndGet(e.getValue().escapes.get());
            total.fdLeaks.addAndGet(e.getValue().fdLeaks.get());
            total.memory.addAndGet(e.getValue().memory.get());
            total.other.addAndGet(e.getValue().other.get());
            total.millis.addAndGet(e.getValue().millis.get());
        });
        System.out.println("hostile-guest fuzz [total]: " + total);
        try {
            System.out.println(
                    "hostile-guest fuzz: " + HostWatch.fdCount() + " descriptors open in this JVM at the end");
        } catch (IOException e) {
            System.out.println("hostile-guest fuzz: cannot count descriptors: " + e);
        }
    }

    /** A finding: counted, then the case fails with it ({@link #forEachCase} adds the case and its seed). */
    static final class Finding extends AssertionError {
        Finding(String kind, String what) {
            super(kind + ": " + what);
            String line = kind + ": " + what;
            System.out.println(
                    "hostile-guest finding: " + (line.length() > 600 ? line.substring(0, 600) + "..." : line));
        }
    }

    // ------------------------------------------------------------------ one case

    /** One generated case: a fresh share, sentinels, daemon and guest; findings counted in {@code counts}. */
    static final class Case implements AutoCloseable {
        final Counts counts;
        final Path tmp, share;
        final HostWatch watch;
        final int pool;
        long uncaughtAtStart = UNCAUGHT.get();
        final long startedAt = System.nanoTime();
        final java.util.Set<Thread> threadsAtStart = Thread.getAllStackTraces().keySet();
        final List<FrontendClient> alsoClose = new ArrayList<>();
        FsDaemon daemon;
        HostileGuest guest;
        final List<Long> nodes = new ArrayList<>(List.of(1L));
        final List<long[]> handles = new ArrayList<>(); // {fh, node}
        long granted; // entries and handles the guest was given: what may hold descriptors
        boolean hung;
        private long unique = 1;

        Case(String family, int pool) throws IOException {
            this.counts = COUNTS.computeIfAbsent(family + "/pool " + pool, k -> new Counts());
            counts.cases.incrementAndGet();
            this.pool = pool;
            uncaughtAtStart = UNCAUGHT.get();
            tmp = Files.createTempDirectory(HostWatch.CASE_PREFIX);
            share = Files.createDirectory(tmp.resolve("share"));
            Files.writeString(share.resolve("f"), "inside the share: 0123456789".repeat(40));
            Files.createDirectory(share.resolve("d"));
            watch = HostWatch.start(share);
            watch.beginStep();
        }

        FsDaemon startDaemon(String name) throws IOException {
            return FsDaemon.start(share, tmp.resolve(name + ".sock"), pool);
        }

        void start(Setup setup) throws Exception {
            daemon = startDaemon("fs");
            guest = HostileGuest.connect(daemon.socket, setup);
            init().ok();
        }

        Reply init() throws Exception {
            byte[] body = Arrays.copyOf(
                    args().u32(7)
                            .u32(41)
                            .u32(128 * 1024)
                            .u32(LINUX_6_FLAGS & 0xFFFF_FFFFL)
                            .u32(LINUX_6_FLAGS >>> 32)
                            .build(),
                    64);
            return require(call(INIT, 0, body, OUT_HEADER + 64), "INIT");
        }

        long nextUnique() {
            return unique++;
        }

        /** A request laid out as Linux does (one readable, one writable buffer); null if no answer in time. */
        Reply call(int opcode, long node, byte[] args, int room) throws Exception {
            return send(guest, request(opcode, nextUnique(), node, args), room);
        }

        static Reply send(HostileGuest g, byte[] request, int room) throws Exception {
            GuestBuffer in = g.put(request, 0);
            GuestBuffer out = room > 0 ? g.room(room) : null;
            List<Desc> chain = out == null
                    ? List.of(new Desc(in.guestPhysAddr(), request.length, 0, 0))
                    : List.of(
                            new Desc(in.guestPhysAddr(), request.length, HostileGuest.F_NEXT, 1),
                            new Desc(out.guestPhysAddr(), room, HostileGuest.F_WRITE, 0));
            long deadline = System.nanoTime() + STEP_MILLIS * 1_000_000;
            while (!g.hasRoom(1, chain.size())) {
                g.await(1, -1, 20); // collects completions, freeing their slots
                if (System.nanoTime() > deadline) return null;
            }
            int head = g.post(1, chain);
            UsedElement e = g.await(1, head, STEP_MILLIS);
            if (e == null) return null; // buffers stay with the device
            byte[] written = new byte[Math.min(e.length(), room)];
            if (out != null)
                java.lang.foreign.MemorySegment.copy(
                        out.segment(), java.lang.foreign.ValueLayout.JAVA_BYTE, 0, written, 0, written.length);
            g.free(in);
            if (out != null) g.free(out);
            return Reply.parse(written, e.length());
        }

        /** A request that has no reply (FORGET, BATCH_FORGET): posted, not awaited. */
        void post(int opcode, long node, byte[] args) throws Exception {
            byte[] request = request(opcode, nextUnique(), node, args);
            long deadline = System.nanoTime() + STEP_MILLIS * 1_000_000;
            while (!guest.hasRoom(1, 1)) {
                guest.await(1, -1, 20); // collects completions, freeing their slots
                if (System.nanoTime() > deadline) hang("the ring stayed full for " + STEP_MILLIS + " ms");
            }
            GuestBuffer in = guest.put(request, 0);
            guest.post(1, List.of(new Desc(in.guestPhysAddr(), request.length, 0, 0)));
        }

        /** Waits until the device completed every chain posted so far. */
        void drain(String step) throws Exception {
            long deadline = System.nanoTime() + STEP_MILLIS * 1_000_000;
            while (!guest.hasRoom(1, guest.queueSize())) {
                guest.await(1, -1, 20);
                if (System.nanoTime() > deadline)
                    hang("posted chains not completed " + STEP_MILLIS + " ms after " + step);
            }
        }

        Reply require(Reply r, String what) {
            if (r == null) hang(what + " got no answer within " + STEP_MILLIS + " ms");
            return r;
        }

        void hang(String what) {
            hung = true;
            counts.hangs.incrementAndGet();
            unblockFifos();
            long uncaught = UNCAUGHT.get() - uncaughtAtStart;
            if (uncaught > 0) {
                counts.crashes.incrementAndGet();
                what += " (and " + uncaught + " uncaught throwable(s), last: " + lastUncaught + ")";
            }
            TAINTED.set(true);
            dumpDaemonThreads(what);
            throw new Finding("HANG", what);
        }

        /** A daemon stuck opening a FIFO is released by opening it here (O_RDWR does not block). */
        void unblockFifos() {
            try (Stream<Path> s = Files.walk(share)) {
                for (Path p : s.toList()) {
                    try {
                        if (Files.readAttributes(p, PosixFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                                        .isOther()
                                && isFifo(p)) {
                            try (FileChannel _ =
                                    FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                                // opened and closed: a blocked open on the other side returns
                            }
                        }
                    } catch (IOException e) {
                        // not openable: not a FIFO we can help with
                    }
                }
            } catch (IOException | RuntimeException e) {
                // the share may be half gone
            }
        }

        private static boolean isFifo(Path p) throws IOException {
            int mode = (Integer) Files.getAttribute(p, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            return (mode & 0170000) == S_IFIFO;
        }

        /** The checks after every step. */
        void check(String step) throws Exception {
            long uncaught = UNCAUGHT.get() - uncaughtAtStart;
            long unexpected = daemon == null ? 0 : daemon.unexpectedFailures();
            if (uncaught > 0 || unexpected > 0) {
                counts.crashes.incrementAndGet();
                throw new Finding(
                        "CRASH",
                        "after " + step + ": " + uncaught + " uncaught throwable(s) (last: " + lastUncaught + "), "
                                + unexpected + " unexpected request failure(s)");
            }
            List<String> escapes = watch.escapes();
            if (!escapes.isEmpty()) {
                counts.escapes.incrementAndGet();
                throw new Finding("ESCAPE", "after " + step + ": " + escapes);
            }
            int fds = watch.newFds();
            if (fds > 64 + 2 * granted) {
                counts.fdLeaks.incrementAndGet();
                throw new Finding(
                        "FD BOUND",
                        "after " + step + ": " + fds + " new descriptors for " + granted
                                + " entries and handles given to the guest");
            }
            long allocated = watch.stepAllocated();
            if (allocated > HostWatch.STEP_ALLOCATION_BOUND) {
                counts.memory.incrementAndGet();
                throw new Finding(
                        "MEMORY", "after " + step + ": " + (allocated >> 20) + " MiB of heap allocated in one step");
            }
            long peak = watch.stepPeakGrowth();
            if (peak > HostWatch.STEP_MEMORY_BOUND) {
                counts.memory.incrementAndGet();
                throw new Finding(
                        "MEMORY",
                        "after " + step + ": the peak resident memory grew by " + (peak >> 20) + " MiB in one step");
            }
        }

        /** A fresh GETATTR of the root on {@code g} answers within the timeout. */
        static boolean rootAnswers(HostileGuest g, long unique) throws Exception {
            Reply r = send(
                    g, request(GETATTR, unique, 1, args().u32(0).u32(0).u64(0).build()), ATTR);
            return r != null && r.error() == 0;
        }

        void probe(String step) throws Exception {
            if (!rootAnswers(guest, nextUnique())) hang("GETATTR of the root after " + step);
        }

        /**
         * For steps after which the guest's own ring may rightly be dead (an invalid chain, a
         * refused memory table): the root must answer on the guest's ring or, else, to a new guest.
         */
        void probeOrReconnect(String step) throws Exception {
            if (guest != null) {
                try {
                    if (rootAnswers(guest, nextUnique())) return;
                } catch (IOException | IllegalStateException e) {
                    // the connection is gone: a new guest must be served
                }
                guest.close();
                guest = null;
            }
            HostileGuest fresh = connectFresh(step);
            guest = fresh;
        }

        HostileGuest connectFresh(String step) throws Exception {
            CompletableFuture<HostileGuest> f = async("fresh-guest", () -> {
                HostileGuest g = HostileGuest.connect(daemon.socket, Setup.plain(8 << 20));
                guest = g;
                init().ok();
                return g;
            });
            try {
                HostileGuest g = f.get(STEP_MILLIS * 2, TimeUnit.MILLISECONDS);
                if (!rootAnswers(g, nextUnique())) hang("GETATTR of the root from a new guest after " + step);
                return g;
            } catch (TimeoutException e) {
                f.thenAccept(HostileGuest::close); // if it ever connects
                hang("a new guest was not served after " + step);
                return null;
            } catch (java.util.concurrent.ExecutionException e) {
                hang("a new guest could not start after " + step + ": " + e.getCause());
                return null;
            }
        }

        @Override
        public void close() throws IOException {
            try {
                for (FrontendClient a : alsoClose) a.close();
                if (guest != null) guest.close();
                boolean stopped = daemon == null || daemon.close(hung ? 2000 : 10_000);
                if (!stopped && !hung) {
                    hung = true;
                    counts.hangs.incrementAndGet();
                    unblockFifos();
                    throw new Finding("HANG", "the daemon did not stop when the guest left");
                }
                List<String> stuck = outlivers();
                if (!stuck.isEmpty() && !hung) {
                    hung = true;
                    counts.hangs.incrementAndGet();
                    unblockFifos(); // release them, so that they do not act on descriptors of later cases
                    TAINTED.set(true);
                    throw new Finding("HANG", "daemon threads outlived their daemon: " + stuck);
                }
                if (!hung) {
                    List<String> leaked = watch.leaked(TAINTED.get());
                    if (!leaked.isEmpty()) {
                        counts.fdLeaks.incrementAndGet();
                        throw new Finding(
                                "FD LEAK",
                                leaked.size() + " descriptor(s) still open after the case: "
                                        + leaked.subList(0, Math.min(5, leaked.size())));
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while the case closed", e);
            } finally {
                unblockFifos();
                deleteTree(tmp);
                counts.millis.addAndGet((System.nanoTime() - startedAt) / 1_000_000);
            }
        }

        /**
         * The daemon's threads started during this case that are still alive after it closed
         * (waited for up to a few seconds).
         */
        List<String> outlivers() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (true) {
                List<String> busy = new ArrayList<>();
                Thread.getAllStackTraces().forEach((t, frames) -> {
                    if (threadsAtStart.contains(t)
                            || !t.isAlive()
                            || !t.getName().startsWith("jvhost-")) return;
                    String top = Arrays.stream(frames)
                            .filter(f -> f.getClassName().startsWith("io.jvhost"))
                            .limit(3)
                            .map(StackTraceElement::toString)
                            .toList()
                            .toString();
                    busy.add(t.getName() + " in " + top);
                });
                if (busy.isEmpty() || System.nanoTime() > deadline) return busy;
                Thread.sleep(50);
            }
        }

        void node(Reply r) {
            if (r != null && r.error() == 0 && r.payload() >= 8) {
                nodes.add(nodeId(r));
                granted++;
            }
        }

        long nodeRef(long ref) {
            if (ref == Long.MIN_VALUE) return 0;
            if (ref < 0 || ref >= 1000) return ref;
            return nodes.get((int) (ref % nodes.size()));
        }

        long[] handleRef(long ref) {
            if (handles.isEmpty() || ref < 0 || ref >= 1000) return new long[] {ref < 0 || ref >= 1000 ? ref : 77, 1};
            return handles.get((int) (ref % handles.size()));
        }
    }

    /**
     * Runs {@code task} on a thread of its own: a task that never returns (a hang) must not hold
     * up later ones, as it would in a shared pool.
     */
    static <T> CompletableFuture<T> async(String name, java.util.concurrent.Callable<T> task) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("fuzz-" + name).start(() -> {
            try {
                f.complete(task.call());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    /**
     * rm -rf: a case's tree may be deeper than any path can name (a MKDIR chain of {@link #DEEP}
     * levels is 30000 bytes of path, PATH_MAX is 4096), which Files.walk cannot delete; rm walks by
     * descriptor.
     */
    static void deleteTree(Path dir) {
        try {
            Process rm = new ProcessBuilder("rm", "-rf", "--", dir.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!rm.waitFor(60, TimeUnit.SECONDS)) rm.destroyForcibly();
        } catch (IOException e) {
            System.out.println("hostile-guest fuzz: " + dir + " left behind: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------ family 1: FUSE request sequences

    enum Special {
        REGULAR(S_IFREG, 0),
        FIFO(S_IFIFO, 0),
        SOCKET(S_IFSOCK, 0),
        DEV_NULL(S_IFCHR, (1 << 8) | 3),
        DEV_ZERO(S_IFCHR, (1 << 8) | 5),
        DEV_FULL(S_IFCHR, (1 << 8) | 7),
        BLOCK_NONE(S_IFBLK, 240 << 8);
        final int type, rdev;

        Special(int type, int rdev) {
            this.type = type;
            this.rdev = rdev;
        }
    }

    /** One step of a FUSE sequence. Node and handle references are indexes into what the guest got, or raw ids. */
    sealed interface Op {}

    record Lookup(long parent, String name) implements Op {}

    record Mkdir(long parent, String name, int mode) implements Op {}

    record Mknod(long parent, String name, Special kind, int perm) implements Op {}

    record Create(long parent, String name, int flags) implements Op {}

    record Open(long node, int flags) implements Op {}

    record Read(long handle, long offset, int size) implements Op {}

    record Write(long handle, long offset, int size) implements Op {}

    record Release(long handle) implements Op {}

    record Forget(long node, long count) implements Op {}

    record BatchForget(long claimed, List<Long> nodes) implements Op {}

    record Setattr(long node, int valid, int mode, long size, int uid, int gid) implements Op {}

    record Setxattr(long node, String name, int size, int flags) implements Op {}

    record Rename(long parent, String from, long newParent, String to, int flags) implements Op {}

    record Link(long node, long newParent, String name) implements Op {}

    record Symlink(long parent, String name, String target) implements Op {}

    record Remove(long parent, String name, boolean dir) implements Op {}

    record ReadDir(long node, int size) implements Op {}

    record DeepChain(int depth, boolean ancestorsFirst) implements Op {}

    /** MKNOD a special node, then CREATE it (no O_EXCL unless the flags say so) or LOOKUP+OPEN it, then READ/WRITE. */
    record SpecialThenIo(Special kind, boolean viaCreate, int flags) implements Op {}

    @ParameterizedTest(name = "pool {0}")
    @ValueSource(ints = {0, 2})
    void fuseSequences(int pool) {
        forEachCase(
                "fuse-sequences",
                "fuseSequences",
                pool,
                100,
                HostileGuestPropertyTest::fuseSequence,
                ops -> runSequence(ops, pool));
    }

    static void runSequence(List<Op> ops, int pool) throws Exception {
        try (Case c = new Case("fuse-sequences", pool)) {
            c.start(Setup.plain(16 << 20));
            for (Op op : ops) {
                c.watch.beginStep();
                run(c, op);
                c.probe(op.toString());
                c.check(op + " and the GETATTR after it");
            }
            c.drain("the last step");
            c.check("the last step");
        }
    }

    static void run(Case c, Op op) throws Exception {
        switch (op) {
            case Lookup l ->
                c.node(c.call(
                        LOOKUP, c.nodeRef(l.parent()), args().name(l.name()).build(), ENTRY));
            case Mkdir m ->
                c.node(c.require(
                        c.call(
                                MKDIR,
                                c.nodeRef(m.parent()),
                                args().u32(m.mode()).u32(0).name(m.name()).build(),
                                ENTRY),
                        op.toString()));
            case Mknod m ->
                c.node(c.require(
                        c.call(
                                MKNOD,
                                c.nodeRef(m.parent()),
                                args().u32(m.kind().type | m.perm())
                                        .u32(m.kind().rdev)
                                        .u32(0)
                                        .u32(0)
                                        .name(m.name())
                                        .build(),
                                ENTRY),
                        op.toString()));
            case Create cr -> {
                Reply r = c.require(
                        c.call(
                                CREATE,
                                c.nodeRef(cr.parent()),
                                args().u32(cr.flags())
                                        .u32(S_IFREG | 0644)
                                        .u32(0)
                                        .u32(0)
                                        .name(cr.name())
                                        .build(),
                                ENTRY + 16),
                        op.toString());
                if (r.error() == 0 && r.payload() >= 144) {
                    long node = nodeId(r);
                    c.nodes.add(node);
                    c.handles.add(new long[] {r.body().getLong(128), node});
                    c.granted += 2;
                }
            }
            case Open o -> {
                long node = c.nodeRef(o.node());
                Reply r = c.require(
                        c.call(OPEN, node, args().u32(o.flags()).u32(0).build(), OPEN_OUT), op.toString());
                if (r.error() == 0 && r.payload() >= 8) {
                    c.handles.add(new long[] {r.body().getLong(0), node});
                    c.granted++;
                }
            }
            case Read rd -> {
                long[] h = c.handleRef(rd.handle());
                c.require(
                        c.call(
                                READ,
                                h[1],
                                args().u64(h[0])
                                        .u64(rd.offset())
                                        .u32(rd.size())
                                        .u32(0)
                                        .u64(0)
                                        .u32(0)
                                        .u32(0)
                                        .build(),
                                OUT_HEADER + (int) Math.min(Integer.toUnsignedLong(rd.size()), 1 << 16)),
                        op.toString());
            }
            case Write w -> {
                long[] h = c.handleRef(w.handle());
                byte[] data = new byte[(int) Math.min(Integer.toUnsignedLong(w.size()), 1 << 16)];
                Arrays.fill(data, (byte) 'w');
                c.require(
                        c.call(
                                WRITE,
                                h[1],
                                args().u64(h[0])
                                        .u64(w.offset())
                                        .u32(w.size())
                                        .u32(0)
                                        .u64(0)
                                        .u32(0)
                                        .u32(0)
                                        .bytes(data)
                                        .build(),
                                OUT_HEADER + 8),
                        op.toString());
            }
            case Release rl -> {
                long[] h = c.handleRef(rl.handle());
                c.require(
                        c.call(
                                RELEASE,
                                h[1],
                                args().u64(h[0]).u32(0).u32(0).u64(0).build(),
                                OUT_HEADER),
                        op.toString());
            }
            case Forget f ->
                c.post(FORGET, c.nodeRef(f.node()), args().u64(f.count()).build());
            case BatchForget b -> {
                Args a = args().u32(b.claimed()).u32(0);
                for (long n : b.nodes()) a.u64(c.nodeRef(n)).u64(1);
                c.post(BATCH_FORGET, 0, a.build());
            }
            case Setattr s ->
                c.require(
                        c.call(
                                SETATTR,
                                c.nodeRef(s.node()),
                                args().u32(s.valid())
                                        .u32(0)
                                        .u64(0)
                                        .u64(s.size())
                                        .u64(0)
                                        .u64(0)
                                        .u64(0)
                                        .u64(0)
                                        .u32(0)
                                        .u32(0)
                                        .u32(0)
                                        .u32(s.mode())
                                        .u32(0)
                                        .u32(s.uid())
                                        .u32(s.gid())
                                        .u32(0)
                                        .build(),
                                ATTR),
                        op.toString());
            case Setxattr x -> {
                byte[] value = new byte[(int) Math.min(Integer.toUnsignedLong(x.size()), 1 << 16)];
                c.require(
                        c.call(
                                SETXATTR,
                                c.nodeRef(x.node()),
                                args().u32(x.size())
                                        .u32(x.flags())
                                        .u32(0)
                                        .u32(0)
                                        .name(x.name())
                                        .bytes(value)
                                        .build(),
                                OUT_HEADER),
                        op.toString());
            }
            case Rename r -> {
                Args a = r.flags() == 0
                        ? args().u64(c.nodeRef(r.newParent()))
                        : args().u64(c.nodeRef(r.newParent())).u32(r.flags()).u32(0);
                c.require(
                        c.call(
                                r.flags() == 0 ? RENAME : RENAME2,
                                c.nodeRef(r.parent()),
                                a.name(r.from()).name(r.to()).build(),
                                OUT_HEADER),
                        op.toString());
            }
            case Link l ->
                c.node(c.require(
                        c.call(
                                LINK,
                                c.nodeRef(l.newParent()),
                                args().u64(c.nodeRef(l.node())).name(l.name()).build(),
                                ENTRY),
                        op.toString()));
            case Symlink s ->
                c.node(c.require(
                        c.call(
                                SYMLINK,
                                c.nodeRef(s.parent()),
                                args().name(s.name()).name(s.target()).build(),
                                ENTRY),
                        op.toString()));
            case Remove r ->
                c.require(
                        c.call(
                                r.dir() ? RMDIR : UNLINK,
                                c.nodeRef(r.parent()),
                                args().name(r.name()).build(),
                                OUT_HEADER),
                        op.toString());
            case ReadDir rd -> {
                long node = c.nodeRef(rd.node());
                Reply o = c.require(c.call(OPENDIR, node, args().u32(0).u32(0).build(), OPEN_OUT), op.toString());
                if (o.error() == 0) {
                    long dh = o.body().getLong(0);
                    c.require(
                            c.call(
                                    READDIRPLUS,
                                    node,
                                    args().u64(dh)
                                            .u64(0)
                                            .u32(rd.size())
                                            .u32(0)
                                            .u64(0)
                                            .u32(0)
                                            .u32(0)
                                            .build(),
                                    OUT_HEADER + Math.min(rd.size(), 1 << 16)),
                            op.toString());
                    c.require(
                            c.call(
                                    RELEASEDIR,
                                    node,
                                    args().u64(dh).u32(0).u32(0).u64(0).build(),
                                    OUT_HEADER),
                            op.toString());
                }
            }
            case DeepChain d -> deepChain(c, d);
            case SpecialThenIo x -> specialThenIo(c, x);
        }
    }

    static void specialThenIo(Case c, SpecialThenIo x) throws Exception {
        String name = "s-" + x.kind().name();
        c.node(c.require(
                c.call(
                        MKNOD,
                        1,
                        args().u32(x.kind().type | 0666)
                                .u32(x.kind().rdev)
                                .u32(0)
                                .u32(0)
                                .name(name)
                                .build(),
                        ENTRY),
                "MKNOD " + x));
        long node, fh;
        if (x.viaCreate()) {
            Reply r = c.require(
                    c.call(
                            CREATE,
                            1,
                            args().u32(x.flags())
                                    .u32(S_IFREG | 0644)
                                    .u32(0)
                                    .u32(0)
                                    .name(name)
                                    .build(),
                            ENTRY + 16),
                    x.toString());
            if (r.error() != 0 || r.payload() < 144) return;
            node = nodeId(r);
            fh = r.body().getLong(128);
            c.granted += 2;
        } else {
            Reply l = c.require(c.call(LOOKUP, 1, args().name(name).build(), ENTRY), "LOOKUP " + x);
            if (l.error() != 0) return;
            node = nodeId(l);
            c.granted++;
            Reply o = c.require(c.call(OPEN, node, args().u32(x.flags()).u32(0).build(), OPEN_OUT), x.toString());
            if (o.error() != 0) return;
            fh = o.body().getLong(0);
            c.granted++;
        }
        c.handles.add(new long[] {fh, node});
        c.check(x + ", opened");
        c.require(
                c.call(
                        READ,
                        node,
                        args().u64(fh)
                                .u64(0)
                                .u32(64)
                                .u32(0)
                                .u64(0)
                                .u32(0)
                                .u32(0)
                                .build(),
                        OUT_HEADER + 64),
                "READ " + x);
        c.require(
                c.call(
                        WRITE,
                        node,
                        args().u64(fh)
                                .u64(0)
                                .u32(4)
                                .u32(0)
                                .u64(0)
                                .u32(0)
                                .u32(0)
                                .bytes(new byte[] {'h', 'o', 's', 't'})
                                .build(),
                        OUT_HEADER + 8),
                "WRITE " + x);
    }

    /** MKDIR "c" inside "c" inside ... {@code depth} times, then every lookup forgotten, ancestors first or last. */
    static void deepChain(Case c, DeepChain d) throws Exception {
        long parent = 1;
        long[] chain = new long[d.depth()];
        int made = 0;
        for (; made < d.depth(); made++) {
            Reply r = c.require(
                    c.call(MKDIR, parent, args().u32(0755).u32(0).name("c").build(), ENTRY), d + " at " + made);
            if (r.error() != 0)
                r = c.require(c.call(LOOKUP, parent, args().name("c").build(), ENTRY), d + " at " + made);
            if (r.error() != 0) break;
            parent = chain[made] = nodeId(r);
            c.granted++;
        }
        if (d.ancestorsFirst()) {
            for (int i = 0; i < made - 1; i++)
                c.post(FORGET, chain[i], args().u64(1).build());
            if (made > 0) c.post(FORGET, chain[made - 1], args().u64(1).build());
        } else {
            for (int i = made - 1; i >= 0; i--)
                c.post(FORGET, chain[i], args().u64(1).build());
        }
        c.granted -= made;
        c.drain(d.toString());
    }

    static List<Op> fuseSequence(Gen g) {
        return g.list(1, 30, () -> op(g));
    }

    static Op op(Gen g) {
        Supplier<Long> node = () -> g.weighted(
                w(12, () -> g.between(0L, 31L)),
                w(1, () -> g.of(Long.MIN_VALUE, -1L, 1L << 40, Long.MAX_VALUE, 1_000_000L)));
        Supplier<Long> handle = node;
        Supplier<String> name = () -> g.weighted(
                w(10, () -> g.of("a", "b", "c", "dev", "fifo", "f", "d")),
                w(
                        3,
                        () -> g.of(
                                "..",
                                ".",
                                "",
                                "/",
                                "a/b",
                                "../sentinel",
                                "x\0y",
                                "sentinel",
                                "n".repeat(255),
                                "n".repeat(256),
                                "n".repeat(4096))));
        Supplier<Integer> openFlags = () -> g.weighted(
                w(
                        8,
                        () -> g.of(
                                0,
                                O_WRONLY,
                                O_RDWR,
                                O_RDWR | O_TRUNC,
                                O_WRONLY | O_APPEND,
                                O_RDWR | O_CREAT,
                                O_RDWR | O_NONBLOCK,
                                O_RDWR | O_NOFOLLOW)),
                w(2, () -> g.of(O_RDWR | O_CREAT | O_EXCL, O_PATH, O_DIRECTORY, O_RDWR | O_DIRECTORY)),
                w(1, g::anyInt));
        Supplier<Integer> size = () -> g.weighted(
                w(6, () -> g.of(0, 1, 16, 4096, 65536)), w(1, () -> g.of(-1, Integer.MAX_VALUE, 1 << 20, 0x8000_0000)));
        Supplier<Long> offset = () -> g.weighted(
                w(6, () -> g.of(0L, 1L, 4096L)),
                w(1, () -> g.of(-1L, Long.MAX_VALUE, 1L << 40, 0x7FFF_FFFF_FFFF_F000L)));
        return g.<Op>weighted(
                w(4, () -> new Lookup(node.get(), name.get())),
                w(3, () -> new Mkdir(node.get(), name.get(), g.of(0755, 07777, 0))),
                w(4, () -> new Mknod(node.get(), name.get(), g.any(Special.class), g.of(0644, 0666, 04755, 0))),
                w(3, () -> new Mknod(node.get(), g.of("fifo", "dev", "z"), g.any(Special.class), 0666)),
                w(5, () -> new Create(node.get(), name.get(), openFlags.get())),
                w(4, () -> new Open(node.get(), openFlags.get())),
                w(4, () -> new Read(handle.get(), offset.get(), size.get())),
                w(4, () -> new Write(handle.get(), offset.get(), size.get())),
                w(1, () -> new Release(handle.get())),
                w(2, () -> new Forget(node.get(), g.of(1L, 2L, 0L, -1L, Long.MAX_VALUE))),
                w(
                        2,
                        () -> new BatchForget(
                                g.weighted(
                                        w(3, () -> g.between(0L, 4L)),
                                        w(2, () -> g.of(33_554_432L, 0xFFFF_FFFFL, 1L << 20, 4097L))),
                                g.list(0, 4, node))),
                w(
                        2,
                        () -> new Setattr(
                                node.get(),
                                g.of(1, 8, 2 | 4, 1 | 8 | 16 | 32, -1),
                                g.of(0644, 04755, 02755, S_IFCHR | 0666, 07777),
                                g.of(0L, 3L, -1L, 1L << 40),
                                g.of(0, 1000, -1),
                                g.of(0, 1000, -1))),
                w(
                        2,
                        () -> new Setxattr(
                                node.get(),
                                g.of(
                                        "user.x",
                                        "trusted.x",
                                        "security.capability",
                                        "system.posix_acl_access",
                                        "",
                                        "user."),
                                g.of(0, 3, 65536, 1 << 20, -1),
                                g.of(0, 1, 2, -1))),
                w(2, () -> new Rename(node.get(), name.get(), node.get(), name.get(), g.of(0, 0, 1, 2, 4, -1))),
                w(2, () -> new Link(node.get(), node.get(), name.get())),
                w(
                        2,
                        () -> new Symlink(
                                node.get(),
                                name.get(),
                                g.of(
                                        "../sentinel",
                                        "/etc/passwd",
                                        "../../..",
                                        "a/../../sentinel-dir/inner",
                                        "/",
                                        "t".repeat(4095)))),
                w(1, () -> new Remove(node.get(), name.get(), g.bool())),
                w(1, () -> new ReadDir(node.get(), g.of(0, 80, 4096, 65536))),
                w(1, () -> new DeepChain(g.weighted(w(12, () -> g.between(1, 64)), w(1, () -> DEEP)), g.bool())),
                w(
                        8,
                        () -> new SpecialThenIo(
                                g.any(Special.class),
                                g.bool(),
                                g.of(
                                        0,
                                        O_WRONLY,
                                        O_RDWR,
                                        O_RDWR | O_NONBLOCK,
                                        O_RDWR | O_CREAT | O_EXCL,
                                        O_RDWR | O_TRUNC))));
    }

    // ------------------------------------------------------------------ family 2: descriptor layouts

    /** What the chain carries: a request the device understands, built against the case's file. */
    enum Template {
        GETATTR_ROOT,
        LOOKUP_F,
        READ_F,
        READ_HUGE,
        WRITE_F,
        WRITE_BIG,
        BATCH_FORGET_FILL,
        BATCH_FORGET_HUGE,
        READDIRPLUS_ROOT,
        SETXATTR_F
    }

    /** How the readable part is shared out: the request itself, or it plus one buffer repeated. */
    enum Alias {
        NONE,
        REPLY_OVER_REQUEST,
        ONE_REPLY_BUFFER_TWICE,
        REPEATED_READABLE
    }

    /** A chain the virtio spec forbids; the device may drop it but must go on serving. */
    enum Wild {
        NONE,
        ADDRESS_OUTSIDE_MEMORY,
        ADDRESS_WRAPS,
        HUGE_LENGTH,
        LOOP,
        NEXT_OUT_OF_RANGE,
        NESTED_INDIRECT,
        INDIRECT_BAD_LENGTH,
        READABLE_AFTER_WRITABLE,
        EMPTY_INDIRECT
    }

    /**
     * @param pieces         the request cut into this many readable descriptors
     * @param zeroLength     zero-length descriptors put between them
     * @param rooms          writable descriptors' lengths
     * @param repeatedSize   REPEATED_READABLE: the size of the buffer repeated {@code repeats} times
     */
    record Layout(
            int pieces,
            int zeroLength,
            List<Integer> rooms,
            boolean indirect,
            Alias alias,
            int repeatedSize,
            int repeats,
            Wild wild) {}

    record LayoutStep(Template template, Layout layout) {}

    @ParameterizedTest(name = "pool {0}")
    @ValueSource(ints = {0, 2})
    void descriptorLayouts(int pool) {
        forEachCase(
                "descriptor-layouts",
                "descriptorLayouts",
                pool,
                80,
                HostileGuestPropertyTest::layoutSteps,
                steps -> runLayouts(steps, pool));
    }

    static final long LAYOUT_RAM = 64L << 20;

    static void runLayouts(List<LayoutStep> steps, int pool) throws Exception {
        try (Case c = new Case("descriptor-layouts", pool)) {
            c.start(new Setup(2, 1024, LAYOUT_RAM, List.of(), false, null));
            long[] file = openFile(c);
            for (LayoutStep step : steps) {
                c.watch.beginStep();
                boolean answered = runLayout(c, step, file);
                if (!mayBeDropped(step.layout()) && !answered) {
                    c.check(step.toString());
                    c.hang("a valid chain got no completion: " + step);
                }
                if (!mayBeDropped(step.layout())) {
                    c.probe(step.toString());
                } else {
                    HostileGuest before = c.guest;
                    c.probeOrReconnect(step.toString());
                    if (c.guest != before) file = openFile(c);
                }
                c.check(step + " and the GETATTR after it"); // the probe waited for the step's work too
            }
        }
    }

    /** LOOKUP and OPEN of "f" (read-write): {node, fh}. */
    static long[] openFile(Case c) throws Exception {
        long node = nodeId(c.require(c.call(LOOKUP, 1, args().name("f").build(), ENTRY), "LOOKUP f"));
        Reply o = c.require(c.call(OPEN, node, args().u32(O_RDWR).u32(0).build(), OPEN_OUT), "OPEN f");
        o.ok();
        c.granted += 2;
        return new long[] {node, o.body().getLong(0)};
    }

    static byte[] templateRequest(Case c, Template t, long[] file, long readableBytes) {
        long u = c.nextUnique();
        return switch (t) {
            case GETATTR_ROOT ->
                request(GETATTR, u, 1, args().u32(0).u32(0).u64(0).build());
            case LOOKUP_F -> request(LOOKUP, u, 1, args().name("f").build());
            case READ_F ->
                request(
                        READ,
                        u,
                        file[0],
                        args().u64(file[1])
                                .u64(0)
                                .u32(4096)
                                .u32(0)
                                .u64(0)
                                .u32(0)
                                .u32(0)
                                .build());
            case READ_HUGE ->
                request(
                        READ,
                        u,
                        file[0],
                        args().u64(file[1])
                                .u64(0)
                                .u32(-1)
                                .u32(0)
                                .u64(0)
                                .u32(0)
                                .u32(0)
                                .build());
            case WRITE_F ->
                request(
                        WRITE,
                        u,
                        file[0],
                        args().u64(file[1])
                                .u64(5)
                                .u32(10)
                                .u32(0)
                                .u64(0)
                                .u32(0)
                                .u32(0)
                                .bytes("0123456789".getBytes(StandardCharsets.US_ASCII))
                                .build());
            case WRITE_BIG ->
                request(
                        WRITE,
                        u,
                        file[0],
                        args().u64(file[1])
                                .u64(0)
                                .u32(1 << 20)
                                .u32(0)
                                .u64(0)
                                .u32(0)
                                .u32(0)
                                .build()); // the data are the descriptors that follow
            case BATCH_FORGET_FILL -> { // the header's len and the count both claim every readable byte
                byte[] r = request(
                        BATCH_FORGET,
                        u,
                        0,
                        args().u32(Math.max(0, (readableBytes - IN_HEADER - 8) / 16))
                                .u32(0)
                                .u64(4242)
                                .u64(1)
                                .build());
                ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN).putInt(0, (int) Math.max(r.length, readableBytes));
                yield r;
            }
            case BATCH_FORGET_HUGE ->
                request(
                        BATCH_FORGET,
                        u,
                        0,
                        args().u32(33_554_432).u32(0).u64(4242).u64(1).build());
            case READDIRPLUS_ROOT ->
                request(
                        READDIRPLUS,
                        u,
                        1,
                        args().u64(0)
                                .u64(0)
                                .u32(65536)
                                .u32(0)
                                .u64(0)
                                .u32(0)
                                .u32(0)
                                .build());
            case SETXATTR_F ->
                request(
                        SETXATTR,
                        u,
                        file[0],
                        args().u32(1 << 20)
                                .u32(0)
                                .u32(0)
                                .u32(0)
                                .name("user.big")
                                .build()); // the value is what follows
        };
    }

    /**
     * Whether the device may rightly drop the chain without completing it: the spec forbids it,
     * or it is larger than any request (a back-end may refuse such a chain as a whole).
     */
    static boolean mayBeDropped(Layout l) {
        return l.wild() != Wild.NONE
                || l.alias() == Alias.REPEATED_READABLE && (long) l.repeatedSize() * l.repeats() > 16 << 20;
    }

    /** Posts the step's chain; whether its completion came (chains that may be dropped: within a short wait). */
    static boolean runLayout(Case c, LayoutStep step, long[] file) throws Exception {
        Layout l = step.layout();
        HostileGuest g = c.guest;
        long repeatedBytes = l.alias() == Alias.REPEATED_READABLE ? (long) l.repeatedSize() * l.repeats() : 0;
        byte[] req = templateRequest(c, step.template(), file, 0);
        req = templateRequest(c, step.template(), file, req.length + repeatedBytes);
        List<GuestBuffer> owned = new ArrayList<>();
        List<Desc> readable = new ArrayList<>();
        // The request, cut into pieces (each its own buffer), with zero-length descriptors among them.
        int pieces = Math.max(1, Math.min(l.pieces(), req.length));
        int at = 0;
        for (int i = 0; i < pieces; i++) {
            int end = i == pieces - 1 ? req.length : at + req.length / pieces;
            GuestBuffer b = g.put(Arrays.copyOfRange(req, at, end), 0);
            owned.add(b);
            readable.add(new Desc(b.guestPhysAddr(), end - at, 0, 0));
            if (i < l.zeroLength()) readable.add(new Desc(b.guestPhysAddr(), 0, 0, 0));
            at = end;
        }
        if (l.alias() == Alias.REPEATED_READABLE) {
            GuestBuffer big = g.scratch(); // one buffer, repeated: the chain claims far more than the guest has
            for (int i = 0; i < l.repeats(); i++) readable.add(new Desc(big.guestPhysAddr(), l.repeatedSize(), 0, 0));
        }
        List<Desc> writable = new ArrayList<>();
        GuestBuffer shared = null;
        for (int room : l.rooms()) {
            GuestBuffer b;
            if (l.alias() == Alias.REPLY_OVER_REQUEST) {
                b = owned.getFirst();
                room = Math.min(room, (int) b.length());
            } else if (l.alias() == Alias.ONE_REPLY_BUFFER_TWICE) {
                if (shared == null) owned.add(shared = g.room(Math.max(room, 4096)));
                b = shared;
                room = Math.min(room, (int) b.length());
            } else {
                owned.add(b = g.room(room));
            }
            writable.add(new Desc(b.guestPhysAddr(), room, HostileGuest.F_WRITE, 0));
        }
        List<Desc> chain = new ArrayList<>(readable);
        chain.addAll(writable);
        if (l.wild() == Wild.READABLE_AFTER_WRITABLE && !writable.isEmpty()) {
            chain = new ArrayList<>(writable);
            chain.addAll(readable);
        }
        chain = wild(chain, l.wild(), g);
        List<Desc> linked = link(chain);
        List<Desc> posted;
        if (l.indirect()
                || l.wild() == Wild.NESTED_INDIRECT
                || l.wild() == Wild.INDIRECT_BAD_LENGTH
                || l.wild() == Wild.EMPTY_INDIRECT) {
            List<Desc> inTable = linked;
            if (l.wild() == Wild.NESTED_INDIRECT) {
                GuestBuffer inner = g.indirectTable(linked);
                owned.add(inner);
                inTable = List.of(new Desc(inner.guestPhysAddr(), 16 * linked.size(), HostileGuest.F_INDIRECT, 0));
            }
            GuestBuffer table = g.indirectTable(inTable);
            owned.add(table);
            int len = switch (l.wild()) {
                case INDIRECT_BAD_LENGTH -> 16 * inTable.size() - 7;
                case EMPTY_INDIRECT -> 0;
                default -> 16 * inTable.size();
            };
            posted = List.of(new Desc(table.guestPhysAddr(), len, HostileGuest.F_INDIRECT, 0));
        } else {
            posted = linked;
        }
        if (!g.hasRoom(1, posted.size())) c.drain("a full ring");
        int head = g.post(1, posted);
        UsedElement e = g.await(1, head, l.wild() != Wild.NONE ? 500 : STEP_MILLIS);
        if (e == null) return false; // its buffers stay with the device
        long room = l.rooms().stream().mapToLong(Integer::longValue).sum();
        if (l.wild() == Wild.NONE
                && l.alias() != Alias.REPLY_OVER_REQUEST
                && l.alias() != Alias.ONE_REPLY_BUFFER_TWICE
                && Integer.toUnsignedLong(e.length()) > room) {
            c.counts.other.incrementAndGet();
            throw new Finding("USED LENGTH", e.length() + " reported for " + room + " bytes of reply room: " + step);
        }
        owned.forEach(g::free);
        return true;
    }

    /** Links {@code chain} in order (next = index + 1) unless a descriptor already says otherwise (LOOP). */
    static List<Desc> link(List<Desc> chain) {
        List<Desc> out = new ArrayList<>();
        for (int i = 0; i < chain.size(); i++) {
            Desc d = chain.get(i);
            boolean last = i == chain.size() - 1;
            if ((d.flags() & HostileGuest.F_NEXT) != 0) {
                out.add(d); // a wild next already set
            } else {
                out.add(new Desc(d.addr(), d.len(), d.flags() | (last ? 0 : HostileGuest.F_NEXT), last ? 0 : i + 1));
            }
        }
        return out;
    }

    static List<Desc> wild(List<Desc> chain, Wild w, HostileGuest g) {
        List<Desc> out = new ArrayList<>(chain);
        int i = out.size() - 1;
        Desc d = out.get(i);
        switch (w) {
            case NONE, READABLE_AFTER_WRITABLE, NESTED_INDIRECT, INDIRECT_BAD_LENGTH, EMPTY_INDIRECT -> {}
            case ADDRESS_OUTSIDE_MEMORY ->
                out.set(i, new Desc(HostileGuest.RAM_GPA + g.ram.size() - 8, 4096, d.flags(), 0));
            case ADDRESS_WRAPS -> out.set(i, new Desc(-16, 4096, d.flags(), 0));
            case HUGE_LENGTH -> out.set(i, new Desc(d.addr(), -1, d.flags(), 0));
            case LOOP -> out.set(i, new Desc(d.addr(), d.len(), d.flags() | HostileGuest.F_NEXT, 0));
            case NEXT_OUT_OF_RANGE -> out.set(i, new Desc(d.addr(), d.len(), d.flags() | HostileGuest.F_NEXT, 0xFFFF));
        }
        return out;
    }

    static List<LayoutStep> layoutSteps(Gen g) {
        return g.list(
                1,
                10,
                () -> g.<LayoutStep>weighted(
                        w(4, () -> new LayoutStep(g.any(Template.class), layout(g))),
                        // Chains that claim far more than the guest has: one buffer repeated, a count that fills it
                        // all.
                        w(
                                1,
                                () -> new LayoutStep(
                                        g.of(
                                                Template.BATCH_FORGET_FILL,
                                                Template.BATCH_FORGET_HUGE,
                                                Template.WRITE_BIG,
                                                Template.SETXATTR_F),
                                        new Layout(
                                                1,
                                                0,
                                                g.of(List.<Integer>of(), List.of(OUT_HEADER)),
                                                g.bool(),
                                                Alias.REPEATED_READABLE,
                                                g.of(1 << 20, 16 << 20),
                                                g.of(8, 33),
                                                Wild.NONE)))));
    }

    static Layout layout(Gen g) {
        List<Integer> rooms = g.list(
                0,
                4,
                () -> g.weighted(
                        w(6, () -> g.of(OUT_HEADER + 128, OUT_HEADER + 104, 4096 + OUT_HEADER, 65536)),
                        w(2, () -> g.of(0, 1, 15, OUT_HEADER, 1 << 20))));
        return new Layout(
                g.between(1, 6),
                g.between(0, 2),
                rooms,
                g.bool(),
                g.weighted(
                        w(4, () -> Alias.NONE),
                        w(
                                3,
                                () -> g.of(
                                        Alias.REPLY_OVER_REQUEST,
                                        Alias.ONE_REPLY_BUFFER_TWICE,
                                        Alias.REPEATED_READABLE))),
                g.of(4096, 1 << 20, 16 << 20),
                g.of(1, 2, 8, 33),
                g.weighted(w(5, () -> Wild.NONE), w(3, () -> g.any(Wild.class))));
    }

    // ------------------------------------------------------------------ family 3: memory tables

    /** Where in an extra region a request's buffer lies. */
    enum Where {
        START,
        LAST_PAGE,
        AT_FD_END,
        PAST_FD_END,
        MIDDLE
    }

    /** @param region an index into the extra regions; {@code reply}: the reply room lies there (else the request) */
    record Access(int region, Where where, boolean reply) {}

    record RegionSpec(long size, long fdDelta, long mmapOffset) {
        ExtraRegion at(long gpa) {
            return new ExtraRegion(gpa, size, Math.max(0, size + fdDelta), mmapOffset);
        }
    }

    record MemoryCase(List<RegionSpec> regions, boolean addMemReg, Log log, List<Access> accesses) {}

    @ParameterizedTest(name = "pool {0}")
    @ValueSource(ints = {0, 2})
    void memoryTables(int pool) {
        forEachCase(
                "memory-tables",
                "memoryTables",
                pool,
                80,
                HostileGuestPropertyTest::memoryCase,
                m -> runMemory(m, pool));
    }

    static final long EXTRA_GPA = 0x2_0000_0000L, EXTRA_STRIDE = 0x1_0000_0000L;

    static void runMemory(MemoryCase m, int pool) throws Exception {
        try (Case c = new Case("memory-tables", pool)) {
            c.daemon = c.startDaemon("fs");
            List<ExtraRegion> extra = new ArrayList<>();
            for (int i = 0; i < m.regions().size(); i++)
                extra.add(m.regions().get(i).at(EXTRA_GPA + i * EXTRA_STRIDE));
            c.watch.beginStep();
            try {
                c.guest = connectWithin(c, new Setup(2, 256, 8 << 20, extra, m.addMemReg(), m.log()));
                c.init();
            } catch (IOException | IllegalStateException refused) {
                // refused at SET_MEM_TABLE / ADD_MEM_REG / SET_LOG_BASE: what a checking back-end does
                c.check("the memory table " + m);
                c.probeOrReconnect("a refused memory table " + m);
                return;
            }
            c.check("the memory table " + m);
            for (Access a : m.accesses()) {
                c.watch.beginStep();
                if (a.region() < extra.size()) access(c, extra.get(a.region()), a);
                c.check(a + " in " + m);
                c.probeOrReconnect(a + " in " + m);
            }
        }
    }

    static HostileGuest connectWithin(Case c, Setup setup) throws Exception {
        CompletableFuture<HostileGuest> f = async("handshake", () -> HostileGuest.connect(c.daemon.socket, setup));
        try {
            return f.get(STEP_MILLIS * 2, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.thenAccept(HostileGuest::close); // if it ever connects
            c.hang("the handshake with " + setup + " got no answer");
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof IOException io) throw io;
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw e;
        }
    }

    /** A GETATTR of the root whose request or reply room lies at {@code a} in region {@code r}. */
    static void access(Case c, ExtraRegion r, Access a) throws Exception {
        long page = 4096;
        long fdSize = r.fdSize();
        long off = switch (a.where()) {
            case START -> 0;
            case LAST_PAGE -> r.size() - page;
            case AT_FD_END -> Math.max(0, Math.min(fdSize, r.size()) - page);
            case PAST_FD_END -> Math.min(fdSize, r.size() - page);
            case MIDDLE -> r.size() / 2 & ~(page - 1);
        };
        long gpa = r.gpa() + Math.max(0, off);
        byte[] req =
                request(GETATTR, c.nextUnique(), 1, args().u32(0).u32(0).u64(0).build());
        GuestBuffer in = c.guest.put(req, 0);
        GuestBuffer out = c.guest.room(ATTR);
        List<Desc> chain = a.reply()
                ? List.of(
                        new Desc(in.guestPhysAddr(), req.length, HostileGuest.F_NEXT, 1),
                        new Desc(gpa, ATTR, HostileGuest.F_WRITE, 0))
                : List.of(
                        new Desc(gpa, req.length, HostileGuest.F_NEXT, 1),
                        new Desc(out.guestPhysAddr(), ATTR, HostileGuest.F_WRITE, 0));
        int head = c.guest.post(1, chain);
        c.guest.await(1, head, 500); // the bytes there are not ours to see: only what it does to the daemon counts
    }

    static MemoryCase memoryCase(Gen g) {
        List<RegionSpec> regions = g.list(
                0,
                3,
                () -> new RegionSpec(
                        g.of(4096L, 65536L, 1L << 20, (2L << 20) + 4096),
                        g.weighted(w(2, () -> 0L), w(3, () -> g.of(-4096L, -65536L, Long.MIN_VALUE / 2, 4096L))),
                        g.weighted(w(3, () -> 0L), w(1, () -> g.of(4096L, 1L << 20)))));
        boolean addMemReg = g.bool();
        Log log = g.bool()
                ? null
                : new Log(g.of(4096L, 0x21000L, 0x40000L), g.of(0L, 4096L, 0x21000L, 0x40000L), g.of(0L, 4096L));
        List<Access> accesses = g.list(1, 4, () -> new Access(g.between(0, 2), g.any(Where.class), g.bool()));
        return new MemoryCase(regions, addMemReg, log, accesses);
    }

    // ------------------------------------------------------------------ family 4: device-state blobs

    enum BlobKind {
        REAL,
        MUTATED,
        SPECIAL_HANDLE,
        DEEP_CHAIN
    }

    /** A change to a saved blob at {@code permille} of its length: flip, overwrite with 0xFF, insert, cut. */
    record Mutation(int permille, int kind, int value) {}

    /**
     * @param sourceChain a directory chain the source really has (MKDIR through the ring), in the real state
     * @param craftedDepth DEEP_CHAIN: a chain of that many directories that exist nowhere, parents first or last
     */
    record StateCase(
            BlobKind kind,
            int sourceChain,
            List<Mutation> mutations,
            Special special,
            int handleFlags,
            int craftedDepth,
            boolean leafFirst,
            MigrationMode mode) {}

    @ParameterizedTest(name = "pool {0}")
    @ValueSource(ints = {0, 2})
    void deviceState(int pool) {
        forEachCase(
                "device-state", "deviceState", pool, 25, HostileGuestPropertyTest::stateCase, s -> runState(s, pool));
    }

    static void runState(StateCase s, int pool) throws Exception {
        try (Case c = new Case("device-state", pool)) {
            c.start(Setup.plain(16 << 20));
            Map<String, Long> named = new java.util.HashMap<>();
            for (Special k :
                    List.of(Special.FIFO, Special.DEV_ZERO, Special.DEV_NULL, Special.BLOCK_NONE, Special.SOCKET)) {
                Reply r = c.require(
                        c.call(
                                MKNOD,
                                1,
                                args().u32(k.type | 0666)
                                        .u32(k.rdev)
                                        .u32(0)
                                        .u32(0)
                                        .name(k.name())
                                        .build(),
                                ENTRY),
                        "MKNOD " + k);
                if (r.error() == 0) named.put(k.name(), nodeId(r));
            }
            long[] file = openFile(c);
            long parent = 1;
            for (int i = 0; i < s.sourceChain(); i++) {
                parent = nodeId(c.require(
                        c.call(MKDIR, parent, args().u32(0755).u32(0).name("c").build(), ENTRY), "MKDIR chain " + i));
            }
            c.granted += s.sourceChain();
            c.check("the source's setup");
            for (int q = 0; q < 2; q++) c.guest.client.setVringEnable(q, false);
            for (int q = 0; q < 2; q++) c.guest.client.getVringBase(q);
            ByteArrayOutputStream saved = new ByteArrayOutputStream();
            new DeviceStateTransfer(c.guest.client, Duration.ofSeconds(10)).save(saved);
            FsSnapshot snap = c.daemon.fs.snapshot();
            long initFlags = c.daemon.device.server().session().orElseThrow().flags();
            byte[] blob = blob(c, s, saved.toByteArray(), snap, named, initFlags, file);
            // The source goes away (its descriptors too), as after a migration.
            c.guest.close();
            c.guest = null;
            if (!c.daemon.close(10_000)) c.hang("the source daemon did not stop");
            c.daemon = c.startDaemon("dst");
            c.watch.beginStep();
            FrontendClient dst = FrontendClient.connect(c.daemon.socket);
            c.alsoClose.add(dst);
            GuestDriver.connectDevice(dst, 2);
            boolean loaded = load(c, dst, blob, s);
            c.check("loading " + s);
            if (!loaded) {
                dst.close();
                c.probeOrReconnect("a refused state " + s);
                return;
            }
            c.guest = HostileGuest.attach(dst, Setup.plain(16 << 20));
            c.granted += snap.inodes().size() + snap.handles().size() + s.craftedDepth() + 2;
            c.probe("the loaded state " + s);
            for (FsSnapshot.HandleState h : handles(s, snap, named)) {
                c.watch.beginStep();
                if (h.directory()) {
                    c.require(
                            c.call(
                                    READDIRPLUS,
                                    h.nodeId(),
                                    args().u64(h.fh())
                                            .u64(0)
                                            .u32(4096)
                                            .u32(0)
                                            .u64(0)
                                            .u32(0)
                                            .u32(0)
                                            .build(),
                                    OUT_HEADER + 4096),
                            "READDIRPLUS " + h);
                } else {
                    c.require(
                            c.call(
                                    READ,
                                    h.nodeId(),
                                    args().u64(h.fh())
                                            .u64(0)
                                            .u32(64)
                                            .u32(0)
                                            .u64(0)
                                            .u32(0)
                                            .u32(0)
                                            .build(),
                                    OUT_HEADER + 64),
                            "READ " + h);
                    c.require(
                            c.call(
                                    WRITE,
                                    h.nodeId(),
                                    args().u64(h.fh())
                                            .u64(0)
                                            .u32(4)
                                            .u32(0)
                                            .u64(0)
                                            .u32(0)
                                            .u32(0)
                                            .bytes(new byte[] {'h', 'o', 's', 't'})
                                            .build(),
                                    OUT_HEADER + 8),
                            "WRITE " + h);
                }
                c.check("I/O on " + h + " after loading " + s);
                c.probe("I/O on " + h);
            }
        }
    }

    /** LOAD then CHECK; false if the back-end refused the state, a hang if either never answers. */
    static boolean load(Case c, FrontendClient dst, byte[] blob, StateCase s) throws Exception {
        CompletableFuture<Boolean> f = async("load", () -> {
            try {
                new DeviceStateTransfer(dst, Duration.ofSeconds(5)).load(new ByteArrayInputStream(blob));
                return true;
            } catch (IOException refused) {
                return false;
            }
        });
        try {
            return f.get(STATE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            c.hang("LOAD/CHECK_DEVICE_STATE got no answer within " + STATE_MILLIS + " ms: " + s);
            return false;
        }
    }

    static List<FsSnapshot.HandleState> handles(StateCase s, FsSnapshot snap, Map<String, Long> named) {
        List<FsSnapshot.HandleState> out = new ArrayList<>(snap.handles());
        if (s.kind() == BlobKind.SPECIAL_HANDLE && named.containsKey(s.special().name())) {
            out.add(new FsSnapshot.HandleState(
                    snap.nextFh(), named.get(s.special().name()), s.handleFlags(), false));
        }
        return out;
    }

    static byte[] blob(
            Case c, StateCase s, byte[] real, FsSnapshot snap, Map<String, Long> named, long initFlags, long[] file)
            throws IOException {
        return switch (s.kind()) {
            case REAL -> real;
            case MUTATED -> mutate(real, s.mutations());
            case SPECIAL_HANDLE ->
                CraftedDeviceState.blob(
                        c.share,
                        new FsSnapshot(
                                snap.nextNodeId(),
                                snap.nextFh() + 1,
                                snap.initFlags(),
                                snap.inodes(),
                                handles(s, snap, named)),
                        s.mode(),
                        initFlags);
            case DEEP_CHAIN -> {
                FsSnapshot.InodeState root = snap.inode(1);
                List<FsSnapshot.InodeState> chain = new ArrayList<>();
                long first = snap.nextNodeId();
                // Leaf first: the deepest directory has the lowest id (a state's records are in id order).
                int depth = s.craftedDepth();
                java.util.function.IntToLongFunction id = i -> first + (s.leafFirst() ? depth - 1 - i : i);
                for (int i = 0; i < depth; i++) {
                    chain.add(new FsSnapshot.InodeState(
                            id.applyAsLong(i),
                            1,
                            root.dev(),
                            0x7000_0000L + i,
                            root.mountId(),
                            S_IFDIR,
                            new Location(i == 0 ? 1 : id.applyAsLong(i - 1), "c".getBytes(StandardCharsets.US_ASCII)),
                            null));
                }
                if (s.leafFirst()) java.util.Collections.reverse(chain);
                List<FsSnapshot.InodeState> inodes = new ArrayList<>(snap.inodes());
                inodes.addAll(chain);
                yield CraftedDeviceState.blob(
                        c.share,
                        new FsSnapshot(
                                first + s.craftedDepth(), snap.nextFh(), snap.initFlags(), inodes, snap.handles()),
                        s.mode(),
                        initFlags);
            }
        };
    }

    static byte[] mutate(byte[] blob, List<Mutation> mutations) {
        byte[] b = blob.clone();
        for (Mutation m : mutations) {
            if (b.length == 0) break;
            int at = (int) ((long) m.permille() * (b.length - 1) / 1000);
            switch (m.kind()) {
                case 0 -> b[at] ^= (byte) (1 | m.value());
                case 1 -> Arrays.fill(b, at, Math.min(b.length, at + 1 + (m.value() & 15)), (byte) 0xFF);
                case 2 -> {
                    byte[] n = new byte[b.length + 1 + (m.value() & 7)];
                    System.arraycopy(b, 0, n, 0, at);
                    Arrays.fill(n, at, at + 1 + (m.value() & 7), (byte) m.value());
                    System.arraycopy(b, at, n, at + 1 + (m.value() & 7), b.length - at);
                    b = n;
                }
                default -> b = Arrays.copyOf(b, at); // truncated
            }
        }
        return b;
    }

    static StateCase stateCase(Gen g) {
        return new StateCase(
                g.any(BlobKind.class),
                // The source's chain holds one descriptor per level on both sides: kept well under the
                // process's 20000, so that a destination that leaks them does not starve the other cases.
                g.weighted(w(4, () -> g.of(0, 3, 40)), w(1, () -> 2000)),
                g.list(1, 4, () -> new Mutation(g.between(0, 1000), g.between(0, 3), g.between(0, 255))),
                g.of(Special.FIFO, Special.DEV_ZERO, Special.DEV_NULL, Special.BLOCK_NONE, Special.SOCKET),
                g.of(O_RDWR, 0, O_WRONLY, O_RDWR | O_NONBLOCK, O_PATH, O_RDWR | O_CREAT | O_TRUNC),
                g.of(2, 300, 5000, DEEP, 100_000),
                g.bool(),
                g.any(MigrationMode.class));
    }
}
