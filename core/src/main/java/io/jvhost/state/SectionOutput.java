package io.jvhost.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Field and subsection writer for one open section or subsection. Fields come first, then
 * subsections; a subsection's fields and subsections are written inside its own body. Fixed-width
 * integers are little-endian; field methods return {@code this} for chaining.
 */
public final class SectionOutput {
    private final StateWriter writer;
    private final ScopeHeader header;
    private final int depth;
    private boolean subsectionsStarted;
    private boolean closed;
    private final Set<String> subsectionNames = new HashSet<>();
    private final List<ScopeSummary> subsections = new ArrayList<>();

    SectionOutput(StateWriter writer, ScopeHeader header, int depth) {
        this.writer = writer;
        this.header = header;
        this.depth = depth;
    }

    public String name() {
        return header.name();
    }

    /** The layout version being written, so shared helpers can vary with it. */
    public int version() {
        return header.version();
    }

    public SectionOutput u8(int v) throws IOException {
        fieldCheck();
        if ((v & ~0xFF) != 0) {
            throw new IllegalArgumentException("u8 out of range: " + v);
        }
        writer.putU8(v);
        return this;
    }

    public SectionOutput u16(int v) throws IOException {
        fieldCheck();
        if ((v & ~0xFFFF) != 0) {
            throw new IllegalArgumentException("u16 out of range: " + v);
        }
        writer.putLE(v, 2);
        return this;
    }

    public SectionOutput u32(long v) throws IOException {
        fieldCheck();
        if ((v & ~0xFFFF_FFFFL) != 0) {
            throw new IllegalArgumentException("u32 out of range: " + v);
        }
        writer.putLE(v, 4);
        return this;
    }

    /** All 64 bits, read back as the same (possibly negative) long. */
    public SectionOutput u64(long v) throws IOException {
        fieldCheck();
        writer.putLE(v, 8);
        return this;
    }

    /** Unsigned LEB128: 1 byte below 128, at most 10; for ids and sizes that are usually small. */
    public SectionOutput varint(long v) throws IOException {
        fieldCheck();
        writer.putVarint(v);
        return this;
    }

    public SectionOutput bool(boolean v) throws IOException {
        fieldCheck();
        writer.putU8(v ? 1 : 0);
        return this;
    }

    /** Length (varint) and bytes. */
    public SectionOutput bytes(byte[] b) throws IOException {
        return bytes(b, 0, b.length);
    }

    public SectionOutput bytes(byte[] b, int off, int len) throws IOException {
        fieldCheck();
        Objects.checkFromIndexSize(off, len, b.length);
        writer.putVarint(len);
        writer.putBytes(b, off, len);
        return this;
    }

    /**
     * Fields encoded ahead by {@link StateWriter#encoder} (for this section's name and version),
     * copied as they are: the bytes that writing those fields here would write.
     */
    public SectionOutput encoded(byte[] fields) throws IOException {
        return encoded(fields, 0, fields.length);
    }

    /** {@code fields[off, off + len)}, encoded ahead as for {@link #encoded(byte[])} (e.g. many elements' fields in a row). */
    public SectionOutput encoded(byte[] fields, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, fields.length);
        fieldCheck();
        writer.putBytes(fields, off, len);
        return this;
    }

    /** UTF-8 length (varint) and bytes; a string with an unpaired surrogate is refused, not mangled. */
    public SectionOutput string(String s) throws IOException {
        byte[] utf8 = utf8(s);
        return bytes(utf8, 0, utf8.length);
    }

    /** An element count, for lists written element by element; prefer {@link #list}. */
    public SectionOutput count(int n) throws IOException {
        if (n < 0) {
            throw new IllegalArgumentException("negative count " + n);
        }
        return varint(n);
    }

    /**
     * Count (varint) then each element; every element must write at least one byte (the reader
     * enforces it so a forged count can't be amplified into unbounded work).
     */
    public <E> SectionOutput list(Collection<? extends E> items, ElementWriter<? super E> element) throws IOException {
        int size = items.size();
        count(size);
        int written = 0;
        for (E item : items) {
            if (written == size) {
                throw changed(size, written + 1);
            }
            element.write(this, item);
            written++;
        }
        if (written != size) {
            throw changed(size, written);
        }
        return this;
    }

    /** A subsection with {@code minVersion == version}. */
    public SectionOutput subsection(String name, int version, IfUnknown ifUnknown, SectionBody body)
            throws IOException {
        return subsection(name, version, version, ifUnknown, body);
    }

    /**
     * Writes a nested subsection after this scope's fields. Call it only when the subsection is
     * needed (QEMU's {@code needed} predicate) — see {@link #subsectionIf} — so a destination
     * that predates the feature can load the state whenever the feature is not in use.
     */
    public SectionOutput subsection(String name, int version, int minVersion, IfUnknown ifUnknown, SectionBody body)
            throws IOException {
        writer.checkWritable(this);
        ScopeHeader sub = new ScopeHeader(name, version, minVersion, ifUnknown);
        if (!subsectionNames.add(name)) {
            throw new IllegalArgumentException("subsection '" + name + "' written twice in '" + name() + "'");
        }
        subsectionsStarted = true;
        subsections.add(writer.writeScope(Wire.TAG_SUBSECTION, sub, this, body));
        return this;
    }

    /** Writes the subsection only if {@code needed}; the guard is the point, so it is spelled out. */
    public SectionOutput subsectionIf(boolean needed, String name, int version, IfUnknown ifUnknown, SectionBody body)
            throws IOException {
        return needed ? subsection(name, version, ifUnknown, body) : this;
    }

    private IllegalStateException changed(int size, int iterated) {
        return new IllegalStateException(
                "collection changed while '" + name() + "' was being written: size " + size + ", iterated " + iterated);
    }

    int depth() {
        return depth;
    }

    boolean isClosed() {
        return closed;
    }

    void close() {
        closed = true;
    }

    List<ScopeSummary> subsections() {
        return subsections;
    }

    private void fieldCheck() {
        writer.checkWritable(this);
        if (subsectionsStarted) {
            throw new IllegalStateException("field written in '" + name() + "' after a subsection: fields come first");
        }
    }

    private static byte[] utf8(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isSurrogate(s.charAt(i))) {
                return strictUtf8(s);
            }
        }
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** getBytes would replace an unpaired surrogate with '?': a silent change of state. */
    private static byte[] strictUtf8(String s) {
        try {
            ByteBuffer bb = StandardCharsets.UTF_8
                    .newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(s));
            byte[] b = new byte[bb.remaining()];
            bb.get(b);
            return b;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("string is not valid Unicode (unpaired surrogate)", e);
        }
    }
}
