package io.jvhost.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Per-readAll state shared by every scope: the input, the limits' counters, what was skipped. */
final class LoadSession {
    private static final Logger LOG = LoggerFactory.getLogger(LoadSession.class);

    final BlobInput blob;
    private int scopes;
    private final List<String> skipped = new ArrayList<>();
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);

    LoadSession(BlobInput blob) {
        this.blob = blob;
    }

    /** Counts a scope against the blob's limits before anything is allocated for it. */
    void enterScope(ScopeHeader h, int depth) throws StateFormatException {
        if (depth > Wire.MAX_DEPTH) {
            throw blob.fail("'" + h.name() + "' nests deeper than " + Wire.MAX_DEPTH + " levels");
        }
        if (++scopes > Wire.MAX_SCOPES) {
            throw blob.fail("more than " + Wire.MAX_SCOPES + " sections and subsections");
        }
    }

    /** Reads a DATA frame's length, after its tag. */
    long dataFrameLength() throws IOException {
        long len = blob.le(4);
        if (len < 1 || len > Wire.MAX_DATA_FRAME) {
            throw blob.fail("data frame length " + len + " outside 1.." + Wire.MAX_DATA_FRAME);
        }
        return len;
    }

    /** Reads an END frame's recorded body length, after its tag, and checks it against the actual one. */
    void endFrame(ScopeHeader h, long bodyStart, long endTagOffset) throws IOException {
        long recorded = Varint.read(blob);
        long actual = endTagOffset - bodyStart;
        if (recorded != actual) {
            throw blob.failAt(
                    endTagOffset,
                    "'" + h.name() + "' records a body of " + Long.toUnsignedString(recorded) + " bytes but has "
                            + actual);
        }
    }

    ScopeSummary skip(ScopeHeader h, String path, int depth, long tagOffset, String reason) throws IOException {
        ScopeSummary summary = ScopeSkipper.skip(this, h, depth, tagOffset);
        skipped.add(path + " v" + h.version());
        LOG.info(
                "state: skipped {} '{}' v{} ({}): {}",
                depth == 1 ? "section" : "subsection",
                path,
                h.version(),
                StateSummary.humanBytes(summary.bytes()),
                reason);
        return summary;
    }

    void ignoredNewerFields(String path, int written, int loadedAs, long bytes) {
        LOG.info(
                "state: '{}' is v{}, loaded as v{}; ignored {} of fields added after v{}",
                path,
                written,
                loadedAs,
                StateSummary.humanBytes(bytes),
                loadedAs);
    }

    List<String> skipped() {
        return skipped;
    }

    String decodeUtf8(byte[] bytes) throws StateFormatException {
        try {
            return utf8.reset().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            StateFormatException f = blob.fail("string is not valid UTF-8");
            f.initCause(e);
            throw f;
        }
    }

    /** A loader that caught a format failure and carried on must not turn a broken blob into a load. */
    void rethrowSwallowedFailure() throws StateFormatException {
        StateFormatException swallowed = blob.firstFailure();
        if (swallowed != null) {
            throw swallowed;
        }
    }
}
