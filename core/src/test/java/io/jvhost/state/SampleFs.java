package io.jvhost.state;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A miniature virtio-fs back-end state in two generations, to exercise the format the way a
 * device uses it. Generation 1 knows inodes v1, handles, fuse options. Generation 2 adds a field
 * to inodes (v2, appended, so minVersion stays 1), POSIX locks (a subsection a generation-1
 * reader must refuse: dropping locks would be wrong) and lookup statistics (a subsection it may skip).
 */
final class SampleFs {
    static final String TYPE = "virtio-fs";
    static final int MAX_INODES = 1 << 24;
    static final int MAX_NAME = 255;
    static final int MAX_FILE_HANDLE = 128;

    record Inode(long id, long parent, String name, byte[] fileHandle, long refcount) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Inode i
                    && id == i.id
                    && parent == i.parent
                    && name.equals(i.name)
                    && Arrays.equals(fileHandle, i.fileHandle)
                    && refcount == i.refcount;
        }

        @Override
        public int hashCode() {
            return Long.hashCode(id);
        }
    }

    record Handle(long id, long inode, long openFlags, boolean directory) {}

    record Lock(long inode, long start, long length, int pid, boolean exclusive) {}

    record Options(long fuseFlags, long maxWrite, int minor, int timeGranShift) {}

    /** Whole device state; {@code migrationMode} exists from generation 2 on (0 when loaded from v1). */
    record State(
            long nextInode,
            long nextHandle,
            List<Inode> inodes,
            List<Handle> handles,
            Options options,
            int migrationMode,
            List<Lock> locks,
            Map<String, Long> lookupStats) {}

    static State sample(Random rnd, int inodes, boolean withLocks, boolean withStats) {
        List<Inode> in = new ArrayList<>();
        for (int i = 1; i <= inodes; i++) {
            byte[] fh = new byte[rnd.nextInt(4, 20)];
            rnd.nextBytes(fh);
            in.add(new Inode(i, Math.max(1, i / 3), "f\u00e9" + i, fh, rnd.nextLong(1, 1L << 40)));
        }
        List<Handle> hs = new ArrayList<>();
        for (int i = 0; i < inodes / 2; i++) {
            hs.add(new Handle(100 + i, 1 + i, rnd.nextInt() & 0xFFFF_FFFFL, i % 2 == 0));
        }
        List<Lock> locks =
                withLocks ? List.of(new Lock(2, 0, 4096, 77, true), new Lock(3, 10, -1, 78, false)) : List.of();
        Map<String, Long> stats = new LinkedHashMap<>();
        if (withStats) {
            stats.put("lookups", 1234L);
            stats.put("forgets", 56L);
        }
        return new State(
                inodes + 1, 100 + inodes / 2, in, hs, new Options(0x1_0000_0003L, 1 << 20, 38, 3), 1, locks, stats);
    }

    // ---- writing ----

    static byte[] save(State s, int generation) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        save(s, generation, out);
        return out.toByteArray();
    }

    static StateSummary save(State s, int generation, OutputStream os) throws IOException {
        StateWriter w = StateWriter.create(os, TYPE);
        int inodeVersion = generation >= 2 ? 2 : 1;
        w.section("inodes", inodeVersion, 1, out -> {
            out.u64(s.nextInode());
            out.list(
                    s.inodes(),
                    (o, i) -> o.varint(i.id())
                            .varint(i.parent())
                            .string(i.name())
                            .bytes(i.fileHandle())
                            .u64(i.refcount()));
            if (inodeVersion >= 2) {
                out.u8(s.migrationMode());
            }
            if (generation >= 2) {
                out.subsectionIf(
                        !s.locks().isEmpty(),
                        "posix-locks",
                        1,
                        IfUnknown.FAIL,
                        sub -> sub.list(
                                s.locks(),
                                (o, l) -> o.varint(l.inode())
                                        .u64(l.start())
                                        .u64(l.length())
                                        .u32(l.pid())
                                        .bool(l.exclusive())));
                out.subsectionIf(
                        !s.lookupStats().isEmpty(),
                        "lookup-stats",
                        1,
                        IfUnknown.SKIP,
                        sub -> sub.list(
                                s.lookupStats().entrySet(),
                                (o, e) -> o.string(e.getKey()).varint(e.getValue())));
            }
        });
        w.section(
                "handles",
                1,
                1,
                out -> out.u64(s.nextHandle())
                        .list(
                                s.handles(),
                                (o, h) -> o.u64(h.id())
                                        .u64(h.inode())
                                        .u32(h.openFlags())
                                        .bool(h.directory())));
        w.section(
                "fuse",
                1,
                1,
                out -> out.u64(s.options().fuseFlags())
                        .u32(s.options().maxWrite())
                        .u16(s.options().minor())
                        .u8(s.options().timeGranShift()));
        return w.finish();
    }

    // ---- loading: staging values, then one apply step ----

    /** Staging for "inodes"; its subsections fill the mutable parts after the loader returned. */
    static final class InodeStaging {
        long nextInode;
        List<Inode> inodes;
        int migrationMode;
        List<Lock> locks = List.of();
        Map<String, Long> stats = Map.of();
    }

    record HandleStaging(long nextHandle, List<Handle> handles) {}

    static StateReader reader(int generation) {
        return StateReader.forDevice(TYPE)
                .section("inodes", generation >= 2 ? 2 : 1, (v, in) -> {
                    InodeStaging st = new InodeStaging();
                    st.nextInode = in.u64();
                    st.inodes = in.list(
                            MAX_INODES,
                            e -> new Inode(
                                    e.varint(), e.varint(), e.string(MAX_NAME), e.bytes(MAX_FILE_HANDLE), e.u64()));
                    st.migrationMode = v >= 2 ? in.u8() : 0;
                    if (generation >= 2) {
                        in.onSubsection(
                                "posix-locks",
                                1,
                                (sv, sub) -> st.locks = sub.list(
                                        MAX_INODES,
                                        e -> new Lock(e.varint(), e.u64(), e.u64(), (int) e.u32(), e.bool())));
                        in.onSubsection("lookup-stats", 1, (sv, sub) -> {
                            Map<String, Long> m = new LinkedHashMap<>();
                            int n = sub.count(1024);
                            for (int i = 0; i < n; i++) {
                                m.put(sub.string(64), sub.varint());
                            }
                            st.stats = m;
                        });
                    }
                    return st;
                })
                .section(
                        "handles",
                        1,
                        (v, in) -> new HandleStaging(
                                in.u64(), in.list(MAX_INODES, e -> new Handle(e.u64(), e.u64(), e.u32(), e.bool()))))
                .section("fuse", 1, (v, in) -> new Options(in.u64(), in.u32(), in.u16(), in.u8()))
                .build();
    }

    /** A device holding live state, replaced only by a load that fully succeeded. */
    static final class Device {
        private final StateReader reader;
        State state;

        Device(int generation, State initial) {
            this.reader = reader(generation);
            this.state = initial;
        }

        LoadedState load(byte[] blob) throws IOException {
            return load(new ByteArrayInputStream(blob));
        }

        LoadedState load(InputStream in) throws IOException {
            LoadedState loaded = reader.readAll(in);
            state = apply(loaded);
            return loaded;
        }

        /** Runs only on a validated blob; cross-section checks belong here, after everything is read. */
        private static State apply(LoadedState loaded) {
            InodeStaging i = loaded.get("inodes", InodeStaging.class);
            HandleStaging h = loaded.get("handles", HandleStaging.class);
            return new State(
                    i.nextInode,
                    h.nextHandle(),
                    List.copyOf(i.inodes),
                    List.copyOf(h.handles()),
                    loaded.get("fuse", Options.class),
                    i.migrationMode,
                    i.locks,
                    i.stats);
        }
    }
}
