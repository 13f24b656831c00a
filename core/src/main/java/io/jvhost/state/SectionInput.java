package io.jvhost.state;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Typed field reader for one section or subsection, handed to its loader. Every read is bounded
 * by the fields the writer wrote to this scope: reading past them, a malformed value or a count
 * or length over the caller's limit throws {@link StateFormatException}. Lengths and counts never
 * size an allocation up front: buffers grow as bytes actually arrive, so a forged length in a
 * small blob costs nothing.
 *
 * <p>Valid only inside its loader: fields are read first, subsection loaders registered with
 * {@link #onSubsection} are called after the loader returns.
 */
public final class SectionInput {
    private static final int FIRST_BUFFER = 1 << 16;
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;
    private static final int NO_TAG = -1;

    private enum Phase {
        FIELDS,
        SUBSECTIONS,
        DONE
    }

    private record Handler(int oldest, int newest, SubsectionLoader loader) {}

    private final LoadSession session;
    private final BlobInput blob;
    private final ScopeHeader header;
    private final String path;
    private final String where;
    private final int loadVersion;
    private final int depth;
    private final long tagOffset;
    private final long bodyStart;

    private Phase phase = Phase.FIELDS;
    /** Unread bytes of the current DATA frame. */
    private long frameRemaining;
    /** The first non-DATA tag after the fields, once seen. */
    private int pendingTag = NO_TAG;

    private long pendingTagOffset;
    private final Map<String, Handler> handlers = new LinkedHashMap<>();
    private final List<ScopeSummary> subsections = new ArrayList<>();
    /** Feeds the shared varint decoder from this scope's fields, across DATA frames. */
    private final Varint.ByteSource fieldBytes = new Varint.ByteSource() {
        @Override
        public int u8() throws IOException {
            return SectionInput.this.u8();
        }

        @Override
        public StateFormatException fail(String message) {
            return blob.fail(message);
        }
    };

    SectionInput(LoadSession session, ScopeHeader header, String path, int loadVersion, int depth, long tagOffset) {
        this.session = session;
        this.blob = session.blob;
        this.header = header;
        this.path = path;
        this.where = (depth == 1 ? "section '" : "subsection '") + path + "'";
        this.loadVersion = loadVersion;
        this.depth = depth;
        this.tagOffset = tagOffset;
        this.bodyStart = blob.offset();
        blob.where(where);
    }

    /** The (sub)section's own name. */
    public String name() {
        return header.name();
    }

    /** Names from the section down to this subsection, joined by '/'. */
    public String path() {
        return path;
    }

    /** The version the writer wrote; {@code version} passed to the loader may be lower (see {@link SectionLoader}). */
    public int writtenVersion() {
        return header.version();
    }

    public int u8() throws IOException {
        fieldCheck();
        if (frameRemaining == 0) {
            nextDataFrame(1);
        }
        frameRemaining--;
        return blob.u8();
    }

    public int u16() throws IOException {
        return (int) fixed(2);
    }

    public long u32() throws IOException {
        return fixed(4);
    }

    /** All 64 bits; values above Long.MAX_VALUE come back negative, as they were written. */
    public long u64() throws IOException {
        return fixed(8);
    }

    /** Unsigned LEB128 in canonical (shortest) form. */
    public long varint() throws IOException {
        fieldCheck();
        return Varint.read(fieldBytes);
    }

    public boolean bool() throws IOException {
        int b = u8();
        if (b > 1) {
            throw blob.fail("bool field is " + b + ", not 0 or 1");
        }
        return b == 1;
    }

    public byte[] bytes() throws IOException {
        return bytes(MAX_ARRAY);
    }

    /** A length-prefixed byte string of at most {@code maxLength} bytes. */
    public byte[] bytes(int maxLength) throws IOException {
        long len = varint();
        if (len < 0 || len > maxLength) {
            throw blob.fail(
                    "byte string of " + Long.toUnsignedString(len) + " bytes exceeds the limit of " + maxLength);
        }
        return readBytes((int) len);
    }

    /**
     * A length-prefixed byte string of at most {@code into.length} bytes, read into {@code
     * into[0, length)}; returns its length. For a loader that streams many blocks through one
     * buffer instead of allocating an array for each.
     */
    public int bytes(byte[] into) throws IOException {
        long len = varint();
        if (len < 0 || len > into.length) {
            throw blob.fail(
                    "byte string of " + Long.toUnsignedString(len) + " bytes exceeds the limit of " + into.length);
        }
        readInto(into, 0, (int) len);
        return (int) len;
    }

    public String string() throws IOException {
        return string(MAX_ARRAY);
    }

    /** A UTF-8 string of at most {@code maxBytes} encoded bytes; malformed UTF-8 is rejected, not replaced. */
    public String string(int maxBytes) throws IOException {
        return session.decodeUtf8(bytes(maxBytes));
    }

    /** An element count of at most {@code max}. Don't pre-size collections with it beyond a small bound. */
    public int count(int max) throws IOException {
        if (max < 0) {
            throw new IllegalArgumentException("negative limit " + max);
        }
        long n = varint();
        if (n < 0 || n > max) {
            throw blob.fail("count " + Long.toUnsignedString(n) + " exceeds the limit of " + max);
        }
        return (int) n;
    }

    /**
     * A count of at most {@code maxCount}, then that many elements. The list grows as elements are
     * read; an element that consumes no bytes is a loader bug (it would let a forged count loop
     * without bound) and throws {@link IllegalStateException}.
     */
    public <E> List<E> list(int maxCount, ElementReader<? extends E> element) throws IOException {
        int n = count(maxCount);
        List<E> items = new ArrayList<>(Math.min(n, 1024));
        for (int i = 0; i < n; i++) {
            long before = blob.offset();
            items.add(element.read(this));
            if (blob.offset() == before) {
                throw new IllegalStateException("element " + i + " of a list in '" + path
                        + "' read no bytes; list elements must occupy at least one byte");
            }
        }
        return items;
    }

    /** Registers the loader for a subsection whose layouts 1..newestVersion this reader parses. */
    public void onSubsection(String name, int newestVersion, SubsectionLoader loader) {
        onSubsection(name, 1, newestVersion, loader);
    }

    /**
     * Registers the loader for subsection {@code name}, called after this scope's loader returns,
     * if and when the subsection is present. An unregistered subsection is skipped if the writer
     * marked it {@link IfUnknown#SKIP}, and fails the load otherwise.
     */
    public void onSubsection(String name, int oldestVersion, int newestVersion, SubsectionLoader loader) {
        if (phase != Phase.FIELDS) {
            throw new IllegalStateException("onSubsection('" + name + "') after the loader of '" + path + "' returned");
        }
        Wire.requireValidName("subsection", name);
        Wire.requireVersions(name, newestVersion, oldestVersion);
        if (handlers.putIfAbsent(name, new Handler(oldestVersion, newestVersion, loader)) != null) {
            throw new IllegalArgumentException("subsection '" + name + "' registered twice in '" + path + "'");
        }
    }

    /** A format exception located at the current offset, for the loader's own semantic checks. */
    public StateFormatException malformed(String message) {
        return blob.fail(message);
    }

    private long fixed(int bytes) throws IOException {
        fieldCheck();
        if (frameRemaining >= bytes) {
            frameRemaining -= bytes;
            return blob.le(bytes);
        }
        long v = 0;
        for (int i = 0; i < bytes; i++) {
            if (frameRemaining == 0) {
                nextDataFrame(bytes - i);
            }
            frameRemaining--;
            v |= (long) blob.u8() << (8 * i);
        }
        return v;
    }

    /** Fills {@code into[from, to)} from this scope's fields, across DATA frames. */
    private void readInto(byte[] into, int from, int to) throws IOException {
        while (from < to) {
            if (frameRemaining == 0) {
                nextDataFrame(to - from);
            }
            int k = blob.readSome(into, from, (int) Math.min(to - from, frameRemaining));
            frameRemaining -= k;
            from += k;
        }
    }

    /** Grows the buffer only as bytes arrive, so a forged length costs at most one small buffer. */
    private byte[] readBytes(int len) throws IOException {
        byte[] out = new byte[Math.min(len, FIRST_BUFFER)];
        int filled = 0;
        while (filled < len) {
            if (filled == out.length) {
                out = Arrays.copyOf(out, (int) Math.min(len, 2L * out.length));
            }
            int to = out.length;
            readInto(out, filled, to);
            filled = to;
        }
        return out;
    }

    private void nextDataFrame(long needed) throws IOException {
        if (pendingTag == NO_TAG) {
            long offset = blob.offset();
            int tag = blob.u8();
            if (tag == Wire.TAG_DATA) {
                frameRemaining = session.dataFrameLength();
                return;
            }
            pendingTag = tag;
            pendingTagOffset = offset;
        }
        throw blob.failAt(
                pendingTagOffset,
                "the loader reads " + needed + " more byte" + (needed == 1 ? "" : "s")
                        + " of fields than were written (the fields end here)");
    }

    private void fieldCheck() {
        if (phase != Phase.FIELDS) {
            throw new IllegalStateException("fields of '" + path + "' can only be read inside its own loader");
        }
    }

    /**
     * After the loader returned: checks the fields were read exactly (or ignores those of a newer
     * compatible layout), loads or skips each subsection, and checks the END frame.
     */
    void finish() throws IOException {
        phase = Phase.SUBSECTIONS;
        blob.where(where);
        long unread = skipUnreadFields();
        if (unread > 0) {
            if (header.version() == loadVersion) {
                throw blob.failAt(
                        pendingTagOffset,
                        "the loader of version " + loadVersion + " left " + unread
                                + " bytes of fields unread (reader and writer disagree on the layout)");
            }
            session.ignoredNewerFields(path, header.version(), loadVersion, unread);
        }
        Set<String> seen = new HashSet<>();
        int tag = pendingTag;
        long frameOffset = pendingTagOffset;
        while (tag != Wire.TAG_END) {
            switch (tag) {
                case Wire.TAG_SUBSECTION -> subsections.add(subsection(frameOffset, seen));
                case Wire.TAG_DATA ->
                    throw blob.failAt(frameOffset, "field data after a subsection: fields come first");
                default ->
                    throw blob.failAt(
                            frameOffset,
                            "not closed: found " + Wire.tagName(tag) + " where a subsection or its end belongs");
            }
            blob.where(where);
            frameOffset = blob.offset();
            tag = blob.u8();
        }
        session.endFrame(header, bodyStart, frameOffset);
        phase = Phase.DONE;
    }

    ScopeSummary summary() {
        return ScopeSummary.of(header, blob.offset() - tagOffset, subsections);
    }

    private long skipUnreadFields() throws IOException {
        long unread = frameRemaining;
        blob.skip(frameRemaining);
        frameRemaining = 0;
        while (pendingTag == NO_TAG) {
            long offset = blob.offset();
            int tag = blob.u8();
            if (tag == Wire.TAG_DATA) {
                long len = session.dataFrameLength();
                blob.skip(len);
                unread += len;
            } else {
                pendingTag = tag;
                pendingTagOffset = offset;
            }
        }
        return unread;
    }

    private ScopeSummary subsection(long frameOffset, Set<String> seen) throws IOException {
        ScopeHeader h = ScopeHeader.readFrom(blob);
        if (!seen.add(h.name())) {
            throw blob.fail("subsection '" + h.name() + "' appears twice");
        }
        session.enterScope(h, depth + 1);
        String childPath = path + "/" + h.name();
        blob.where("subsection '" + childPath + "'");
        Handler handler = handlers.get(h.name());
        if (handler == null) {
            if (h.ifUnknown() == IfUnknown.FAIL) {
                throw blob.fail("unknown subsection '" + h.name() + "' v" + h.version() + " is marked required: this "
                        + "reader has no loader for it (the source uses a feature this destination lacks)");
            }
            return session.skip(h, childPath, depth + 1, frameOffset, "unknown, marked skippable");
        }
        int version = Versions.negotiate(blob, h, handler.oldest(), handler.newest());
        SectionInput child = new SectionInput(session, h, childPath, version, depth + 1, frameOffset);
        handler.loader().load(version, child);
        session.rethrowSwallowedFailure();
        child.finish();
        return child.summary();
    }
}
