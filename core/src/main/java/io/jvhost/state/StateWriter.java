package io.jvhost.state;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Streams a device's state to an {@link OutputStream}, section by section. It holds at most one
 * DATA frame (64 KiB) of field data, so a state of millions of inodes is written straight from the
 * device's own tables. Not thread-safe.
 *
 * <pre>{@code
 * StateWriter w = StateWriter.create(pipe, "virtio-fs");
 * w.section("inodes", 2, 1, out -> {
 *     out.u64(nextInodeId).list(inodes.values(), (o, inode) -> o.u64(inode.id()).string(inode.name()));
 *     out.subsectionIf(!locks.isEmpty(), "posix-locks", 1, IfUnknown.FAIL, sub -> ...);
 * });
 * StateSummary written = w.finish();   // end marker + CRC32C; the caller closes the pipe
 * }</pre>
 *
 * <p>If a body throws, the writer refuses further use: what was written has no end marker, so
 * any reader rejects it, which is exactly what a failed save should look like to the destination.
 */
public final class StateWriter {
    private static final int FRAME_HEADER = 5;
    private static final VarHandle LE_LONG =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final BlobOutput out;
    private final String deviceType;
    /** Pending DATA frame: 5 header bytes, then up to WRITER_CHUNK bytes of fields. */
    private final byte[] chunk = new byte[FRAME_HEADER + Wire.WRITER_CHUNK];

    private int chunkLen = FRAME_HEADER;
    private SectionOutput current;
    private final Set<String> sectionNames = new HashSet<>();
    private final List<ScopeSummary> sections = new ArrayList<>();
    private int scopeCount;
    private boolean finished;
    private boolean broken;
    /** An {@link #encode} writer: its fields must fit the one frame it returns. */
    private boolean tooLargeToEncode;

    private StateWriter(OutputStream out, String deviceType) {
        this.out = new BlobOutput(out);
        this.deviceType = deviceType;
    }

    /** Writes the header (magic, format version, device type) and returns a writer for the sections. */
    public static StateWriter create(OutputStream out, String deviceType) throws IOException {
        Wire.requireValidName("device type", deviceType);
        StateWriter w = new StateWriter(out, deviceType);
        w.out.write(Wire.MAGIC, 0, Wire.MAGIC.length);
        w.out.le(Wire.FORMAT_VERSION, 2);
        byte[] type = deviceType.getBytes(StandardCharsets.US_ASCII);
        w.out.u8(type.length);
        w.out.write(type, 0, type.length);
        return w;
    }

    /**
     * Encodes list elements of section {@code section} (version {@code version}) ahead of a save,
     * for {@link SectionOutput#encoded}: a device that knows its state before the save (a
     * migration prepared while the guest runs) encodes it then, with the same field methods, and
     * the save only copies the bytes. Not thread-safe; reuse it for many elements.
     */
    public static ElementEncoder encoder(String section, int version) {
        return new ElementEncoder(new ScopeHeader(section, version, version, IfUnknown.FAIL));
    }

    /** See {@link #encoder}. */
    public static final class ElementEncoder {
        private final StateWriter w = new StateWriter(OutputStream.nullOutputStream(), "encoded");
        private final SectionOutput scope;

        private ElementEncoder(ScopeHeader header) {
            scope = new SectionOutput(w, header, 1);
            w.tooLargeToEncode = true;
        }

        /** The bytes {@code element} writes for {@code item}: at most one DATA frame (64 KiB). */
        public <E> byte[] encode(ElementWriter<? super E> element, E item) throws IOException {
            w.chunkLen = FRAME_HEADER;
            w.current = scope;
            element.write(scope, item);
            return java.util.Arrays.copyOfRange(w.chunk, FRAME_HEADER, w.chunkLen);
        }
    }

    /** A section every reader must have a loader for ({@link IfUnknown#FAIL}). */
    public void section(String name, int version, int minVersion, SectionBody body) throws IOException {
        section(name, version, minVersion, IfUnknown.FAIL, body);
    }

    /**
     * Writes one top-level section. {@code version} is the layout written; {@code minVersion} is
     * the oldest reader version that can still load it (readers between minVersion and version
     * load it as their own version and ignore the newer trailing fields), equal to
     * {@code version} unless the change only appended fields.
     */
    public void section(String name, int version, int minVersion, IfUnknown ifUnknown, SectionBody body)
            throws IOException {
        checkUsable();
        if (current != null) {
            throw new IllegalStateException(
                    "section '" + name + "' inside '" + current.name() + "': sections don't nest, use subsection()");
        }
        ScopeHeader header = new ScopeHeader(name, version, minVersion, ifUnknown);
        if (!sectionNames.add(name)) {
            throw new IllegalArgumentException("section '" + name + "' written twice");
        }
        sections.add(writeScope(Wire.TAG_SECTION, header, null, body));
    }

    /** Writes the end marker (total length and CRC32C) and flushes; the caller closes the stream. */
    public StateSummary finish() throws IOException {
        checkUsable();
        if (current != null) {
            throw new IllegalStateException("finish() inside section '" + current.name() + "'");
        }
        long endOffset = out.offset();
        out.u8(Wire.TAG_END_OF_STATE);
        out.le(endOffset, 8);
        out.le(out.crc() & 0xFFFF_FFFFL, 4);
        out.flush();
        finished = true;
        return new StateSummary(deviceType, Wire.FORMAT_VERSION, out.offset(), sections);
    }

    ScopeSummary writeScope(int tag, ScopeHeader header, SectionOutput parent, SectionBody body) throws IOException {
        int depth = parent == null ? 1 : parent.depth() + 1;
        if (depth > Wire.MAX_DEPTH) {
            throw new IllegalStateException("'" + header.name() + "' nests deeper than " + Wire.MAX_DEPTH + " levels");
        }
        if (++scopeCount > Wire.MAX_SCOPES) {
            throw new IllegalStateException("more than " + Wire.MAX_SCOPES
                    + " sections and subsections; put per-element data in lists, not subsections");
        }
        flushChunk();
        long start = out.offset();
        out.u8(tag);
        header.writeTo(out);
        long bodyStart = out.offset();
        SectionOutput scope = new SectionOutput(this, header, depth);
        current = scope;
        boolean completed = false;
        try {
            body.write(scope);
            completed = true;
        } finally {
            if (!completed) {
                broken = true;
            }
        }
        checkUsable();
        flushChunk();
        scope.close();
        current = parent;
        long endTag = out.offset();
        out.u8(Wire.TAG_END);
        out.varint(endTag - bodyStart);
        return ScopeSummary.of(header, out.offset() - start, scope.subsections());
    }

    void checkWritable(SectionOutput scope) {
        if (current != scope || broken || finished) {
            checkUsable();
            throw new IllegalStateException("'" + scope.name() + "' is not the innermost open section: "
                    + (scope.isClosed() ? "its body has returned" : "a subsection of it is being written"));
        }
    }

    private void checkUsable() {
        if (broken) {
            throw new IllegalStateException("an earlier write failed; this state has no end marker and readers "
                    + "will reject it: start a new StateWriter");
        }
        if (finished) {
            throw new IllegalStateException("state already finished");
        }
    }

    void putU8(int v) throws IOException {
        if (chunkLen == chunk.length) {
            flushChunk();
        }
        chunk[chunkLen++] = (byte) v;
    }

    void putLE(long v, int bytes) throws IOException {
        if (chunk.length - chunkLen < bytes) {
            flushChunk();
        }
        if (bytes == 8) {
            LE_LONG.set(chunk, chunkLen, v);
        } else {
            for (int i = 0; i < bytes; i++) {
                chunk[chunkLen + i] = (byte) (v >>> (8 * i));
            }
        }
        chunkLen += bytes;
    }

    void putVarint(long v) throws IOException {
        if (chunk.length - chunkLen < Varint.MAX_BYTES) {
            flushChunk();
        }
        while ((v & ~0x7FL) != 0) {
            chunk[chunkLen++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        chunk[chunkLen++] = (byte) v;
    }

    void putBytes(byte[] b, int off, int n) throws IOException {
        while (n > 0) {
            if (chunkLen == chunk.length) {
                flushChunk();
            }
            int k = Math.min(n, chunk.length - chunkLen);
            System.arraycopy(b, off, chunk, chunkLen, k);
            chunkLen += k;
            off += k;
            n -= k;
        }
    }

    private void flushChunk() throws IOException {
        int payload = chunkLen - FRAME_HEADER;
        if (payload == 0) {
            return;
        }
        if (tooLargeToEncode) {
            throw new IllegalArgumentException("an element encoded ahead must fit " + Wire.WRITER_CHUNK + " bytes");
        }
        chunk[0] = (byte) Wire.TAG_DATA;
        for (int i = 0; i < 4; i++) {
            chunk[1 + i] = (byte) (payload >>> (8 * i));
        }
        out.write(chunk, 0, chunkLen);
        chunkLen = FRAME_HEADER;
    }
}
