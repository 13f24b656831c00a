package io.jvhost.state;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Walks over a scope nobody loads (an unknown skippable one, or everything when describing),
 * validating its framing as strictly as a load would. Iterative, so hostile nesting can't
 * overflow the stack before the depth limit triggers.
 */
final class ScopeSkipper {
    private ScopeSkipper() {}

    private static final class Open {
        final ScopeHeader header;
        final int depth;
        final long tagOffset;
        final long bodyStart;
        final List<ScopeSummary> children = new ArrayList<>();
        final Set<String> childNames = new HashSet<>();
        boolean sawSubsection;

        Open(ScopeHeader header, int depth, long tagOffset, long bodyStart) {
            this.header = header;
            this.depth = depth;
            this.tagOffset = tagOffset;
            this.bodyStart = bodyStart;
        }
    }

    /** Called right after the scope's header; returns once its END frame is consumed. */
    static ScopeSummary skip(LoadSession session, ScopeHeader header, int depth, long tagOffset) throws IOException {
        BlobInput blob = session.blob;
        Deque<Open> open = new ArrayDeque<>();
        open.push(new Open(header, depth, tagOffset, blob.offset()));
        while (true) {
            Open top = open.peek();
            long frameOffset = blob.offset();
            int tag = blob.u8();
            switch (tag) {
                case Wire.TAG_DATA -> {
                    if (top.sawSubsection) {
                        throw blob.failAt(frameOffset, "field data after a subsection in '" + top.header.name() + "'");
                    }
                    blob.skip(session.dataFrameLength());
                }
                case Wire.TAG_SUBSECTION -> {
                    ScopeHeader h = ScopeHeader.readFrom(blob);
                    if (!top.childNames.add(h.name())) {
                        throw blob.fail("subsection '" + h.name() + "' appears twice in '" + top.header.name() + "'");
                    }
                    session.enterScope(h, top.depth + 1);
                    top.sawSubsection = true;
                    open.push(new Open(h, top.depth + 1, frameOffset, blob.offset()));
                }
                case Wire.TAG_END -> {
                    session.endFrame(top.header, top.bodyStart, frameOffset);
                    open.pop();
                    ScopeSummary done = ScopeSummary.of(top.header, blob.offset() - top.tagOffset, top.children);
                    if (open.isEmpty()) {
                        return done;
                    }
                    open.peek().children.add(done);
                }
                default ->
                    throw blob.failAt(
                            frameOffset,
                            "'" + top.header.name() + "' is not closed: found " + Wire.tagName(tag)
                                    + " where fields, a subsection or its end belong");
            }
        }
    }
}
