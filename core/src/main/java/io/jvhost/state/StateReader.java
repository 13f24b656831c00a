package io.jvhost.state;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Loads a state blob from an {@link InputStream}, incrementally, into staging values built by the
 * device's section loaders, and returns them only once the whole blob checked out. Immutable and
 * reusable; build one per device type with {@link #forDevice}.
 *
 * <pre>{@code
 * StateReader reader = StateReader.forDevice("virtio-fs")
 *         .section("inodes", 2, (v, in) -> InodeStaging.read(v, in))
 *         .optionalSection("locks", 1, (v, in) -> LockStaging.read(in))
 *         .build();
 * LoadedState loaded = reader.readAll(pipe);   // throws StateFormatException; device untouched
 * device.apply(loaded.get("inodes", InodeStaging.class), loaded.find("locks", LockStaging.class));
 * }</pre>
 */
public final class StateReader {
    private record Registration(int oldest, int newest, boolean mustBePresent, SectionLoader<?> loader) {}

    private final String deviceType;
    private final Map<String, Registration> registrations;

    private StateReader(String deviceType, Map<String, Registration> registrations) {
        this.deviceType = deviceType;
        this.registrations = Map.copyOf(registrations);
    }

    /** How many leading bytes {@link #hasMagic} looks at. */
    public static final int MAGIC_LENGTH = Wire.MAGIC.length;

    /** Whether {@code head} starts as every blob of this format does (a device may accept others too). */
    public static boolean hasMagic(byte[] head) {
        return head.length >= MAGIC_LENGTH && Arrays.equals(head, 0, MAGIC_LENGTH, Wire.MAGIC, 0, MAGIC_LENGTH);
    }

    public static Builder forDevice(String deviceType) {
        return new Builder(Wire.requireValidName("device type", deviceType));
    }

    /**
     * Reads {@code in} to EOF and validates everything: header, framing, versions, every loader's
     * reads, the end marker, total length and CRC32C, required sections. Loaders see data before
     * the checksum is verified, so they must only build staging values; this returns them only if
     * all of it passed.
     *
     * @throws StateFormatException if the blob is malformed, corrupt, truncated or not loadable here
     * @throws IOException          if reading {@code in} fails
     */
    public LoadedState readAll(InputStream in) throws IOException {
        Map<String, Object> values = new LinkedHashMap<>();
        LoadSession session = new LoadSession(new BlobInput(in));
        StateSummary summary = read(session, deviceType, registrations, values);
        return new LoadedState(summary, values, session.skipped());
    }

    /**
     * Validates a blob of any device type without loading anything and returns its layout and
     * sizes, e.g. for a migration report or for debugging a blob a destination rejected.
     */
    public static StateSummary describe(InputStream in) throws IOException {
        return read(new LoadSession(new BlobInput(in)), null, Map.of(), null);
    }

    /** @param values null to describe: every section is skipped, whatever its flags */
    private static StateSummary read(
            LoadSession session,
            String expectedType,
            Map<String, Registration> registrations,
            Map<String, Object> values)
            throws IOException {
        BlobInput blob = session.blob;
        String type = readHeader(blob, expectedType);
        List<ScopeSummary> sections = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        while (true) {
            blob.where("top level");
            long tagOffset = blob.offset();
            int tag = blob.u8();
            if (tag == Wire.TAG_END_OF_STATE) {
                verifyEnd(blob, tagOffset);
                break;
            }
            if (tag != Wire.TAG_SECTION) {
                throw blob.failAt(
                        tagOffset, "found " + Wire.tagName(tag) + " where a section or the end of state belongs");
            }
            ScopeHeader h = ScopeHeader.readFrom(blob);
            if (!seen.add(h.name())) {
                throw blob.fail("section '" + h.name() + "' appears twice");
            }
            session.enterScope(h, 1);
            sections.add(section(session, h, tagOffset, registrations.get(h.name()), values));
        }
        blob.where("end of state");
        for (Map.Entry<String, Registration> r : registrations.entrySet()) {
            if (r.getValue().mustBePresent() && !seen.contains(r.getKey())) {
                throw blob.fail("required section '" + r.getKey() + "' is missing");
            }
        }
        session.rethrowSwallowedFailure();
        return new StateSummary(type, Wire.FORMAT_VERSION, blob.offset(), sections);
    }

    private static ScopeSummary section(
            LoadSession session, ScopeHeader h, long tagOffset, Registration r, Map<String, Object> values)
            throws IOException {
        BlobInput blob = session.blob;
        if (values == null) {
            return ScopeSkipper.skip(session, h, 1, tagOffset);
        }
        if (r == null) {
            if (h.ifUnknown() == IfUnknown.FAIL) {
                blob.where("section '" + h.name() + "'");
                throw blob.fail("unknown section v" + h.version() + " is marked required: this reader has no loader "
                        + "for it (the source saved state this destination doesn't know)");
            }
            return session.skip(h, h.name(), 1, tagOffset, "unknown, marked skippable");
        }
        blob.where("section '" + h.name() + "'");
        int version = Versions.negotiate(blob, h, r.oldest(), r.newest());
        SectionInput in = new SectionInput(session, h, h.name(), version, 1, tagOffset);
        Object value = r.loader().load(version, in);
        session.rethrowSwallowedFailure();
        if (value == null) {
            throw new IllegalStateException("the loader of section '" + h.name() + "' returned null");
        }
        in.finish();
        values.put(h.name(), value);
        return in.summary();
    }

    private static String readHeader(BlobInput blob, String expectedType) throws IOException {
        byte[] magic = new byte[Wire.MAGIC.length];
        blob.readFully(magic, 0, magic.length);
        if (!Arrays.equals(magic, Wire.MAGIC)) {
            throw blob.failAt(0, "not a jvhost device state (bad magic)");
        }
        int format = (int) blob.le(2);
        if (format != Wire.FORMAT_VERSION) {
            throw blob.failAt(
                    8, "unsupported state format version " + format + "; this reader supports " + Wire.FORMAT_VERSION);
        }
        String type = ScopeHeader.readName(blob, "device type");
        if (expectedType != null && !expectedType.equals(type)) {
            throw blob.fail("state of device type '" + type + "'; this reader loads '" + expectedType + "'");
        }
        return type;
    }

    /** Length first (names lost or duplicated data), then CRC (any other corruption), then EOF. */
    private static void verifyEnd(BlobInput blob, long tagOffset) throws IOException {
        blob.where("end of state");
        long recordedLength = blob.le(8);
        int computed = blob.crc();
        int stored = (int) blob.le(4);
        if (recordedLength != tagOffset) {
            throw blob.failAt(
                    tagOffset,
                    "end marker records " + Long.toUnsignedString(recordedLength) + " bytes before it, found "
                            + tagOffset + " (data lost or duplicated)");
        }
        if (computed != stored) {
            throw blob.fail(
                    String.format("CRC32C mismatch: stored %08x, computed %08x (corrupt state)", stored, computed));
        }
        if (!blob.atEof()) {
            throw blob.fail("data after the end of state");
        }
    }

    /** Registers one loader per section the device knows. */
    public static final class Builder {
        private final String deviceType;
        private final Map<String, Registration> registrations = new LinkedHashMap<>();

        private Builder(String deviceType) {
            this.deviceType = deviceType;
        }

        /** A section that must be present, in layouts 1..newestVersion. */
        public Builder section(String name, int newestVersion, SectionLoader<?> loader) {
            return section(name, 1, newestVersion, loader);
        }

        /** A section that must be present, in layouts oldestVersion..newestVersion. */
        public Builder section(String name, int oldestVersion, int newestVersion, SectionLoader<?> loader) {
            return register(name, oldestVersion, newestVersion, true, loader);
        }

        /** A section the writer emits only when needed; {@link LoadedState#find} tells whether it came. */
        public Builder optionalSection(String name, int newestVersion, SectionLoader<?> loader) {
            return optionalSection(name, 1, newestVersion, loader);
        }

        public Builder optionalSection(String name, int oldestVersion, int newestVersion, SectionLoader<?> loader) {
            return register(name, oldestVersion, newestVersion, false, loader);
        }

        public StateReader build() {
            return new StateReader(deviceType, registrations);
        }

        private Builder register(String name, int oldest, int newest, boolean mustBePresent, SectionLoader<?> loader) {
            Wire.requireValidName("section", name);
            Wire.requireVersions(name, newest, oldest);
            Objects.requireNonNull(loader, "loader");
            if (registrations.putIfAbsent(name, new Registration(oldest, newest, mustBePresent, loader)) != null) {
                throw new IllegalArgumentException("section '" + name + "' registered twice");
            }
            return this;
        }
    }
}
