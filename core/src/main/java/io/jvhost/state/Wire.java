package io.jvhost.state;

import java.nio.charset.StandardCharsets;

/** Constants and limits of the byte format; docs/state-format.md is the prose version of this class. */
final class Wire {
    static final byte[] MAGIC = "JVHSTATE".getBytes(StandardCharsets.US_ASCII);
    static final int FORMAT_VERSION = 1;

    static final int TAG_SECTION = 'S';
    static final int TAG_SUBSECTION = 's';
    static final int TAG_DATA = 'D';
    static final int TAG_END = 'E';
    static final int TAG_END_OF_STATE = 'Z';

    static final int FLAG_SKIP_IF_UNKNOWN = 0x01;

    /** Largest DATA frame payload a reader accepts; anything bigger is garbage, not state. */
    static final int MAX_DATA_FRAME = 1 << 20;
    /** DATA frame payload size the writer uses: the most state it ever holds in memory. */
    static final int WRITER_CHUNK = 1 << 16;

    static final int MAX_NAME_LENGTH = 127;
    /** Sections are depth 1; bounds recursion in loaders and the skipper's stack. */
    static final int MAX_DEPTH = 32;
    /**
     * Sections plus subsections in one blob. Subsections mark features, not elements (elements go
     * in lists), so this is generous; it bounds the bookkeeping (summary, duplicate checks) that a
     * hostile blob of millions of tiny skippable scopes could otherwise inflate.
     */
    static final int MAX_SCOPES = 65_536;

    private Wire() {}

    /** Names are short printable identifiers: they end up in logs and error messages unescaped. */
    static boolean isValidName(CharSequence name) {
        int n = name.length();
        if (n < 1 || n > MAX_NAME_LENGTH) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '-'
                    || c == '_'
                    || c == '.'
                    || c == ':';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    static String requireValidName(String what, String name) {
        if (name == null || !isValidName(name)) {
            throw new IllegalArgumentException(what + " name must be 1.." + MAX_NAME_LENGTH
                    + " characters of [A-Za-z0-9._:-], got " + (name == null ? "null" : "'" + name + "'"));
        }
        return name;
    }

    /** A version and the oldest version it is compatible with: writers' minVersion, readers' oldest loadable. */
    static void requireVersions(String name, int version, int oldest) {
        if (version < 1 || oldest < 1 || oldest > version) {
            throw new IllegalArgumentException(
                    "'" + name + "': need 1 <= oldest version <= version, got " + oldest + " and " + version);
        }
    }

    static String tagName(int tag) {
        return switch (tag) {
            case TAG_SECTION -> "a section";
            case TAG_SUBSECTION -> "a subsection";
            case TAG_DATA -> "field data";
            case TAG_END -> "an end of section";
            case TAG_END_OF_STATE -> "the end-of-state marker";
            default -> "an unknown frame tag 0x" + Integer.toHexString(tag);
        };
    }
}
