package io.jvhost.cli;

/**
 * A minimal JSON writer for the CLI's machine-readable output (the app has no JSON library and
 * needs only objects, arrays, strings, numbers and booleans). Nesting is the caller's code, not
 * data: the writer only tracks whether a comma is due.
 */
final class Json {
    private final StringBuilder out = new StringBuilder();
    private boolean comma;

    Json object() {
        return open('{');
    }

    Json array() {
        return open('[');
    }

    Json end(char close) {
        out.append(close);
        comma = true;
        return this;
    }

    Json endObject() {
        return end('}');
    }

    Json endArray() {
        return end(']');
    }

    /** The name of the next member of the object being written. */
    Json key(String name) {
        separate();
        string(name);
        out.append(':');
        comma = false;
        return this;
    }

    Json value(String s) {
        separate();
        if (s == null) out.append("null");
        else string(s);
        comma = true;
        return this;
    }

    Json value(long n) {
        separate();
        out.append(n);
        comma = true;
        return this;
    }

    /** An unsigned 64-bit number (ids and counters of a blob are u64). */
    Json unsigned(long n) {
        separate();
        out.append(Long.toUnsignedString(n));
        comma = true;
        return this;
    }

    Json value(boolean b) {
        separate();
        out.append(b);
        comma = true;
        return this;
    }

    Json member(String name, String s) {
        return key(name).value(s);
    }

    Json member(String name, long n) {
        return key(name).value(n);
    }

    Json member(String name, boolean b) {
        return key(name).value(b);
    }

    private Json open(char c) {
        separate();
        out.append(c);
        comma = false;
        return this;
    }

    private void separate() {
        if (comma) out.append(',');
        comma = false;
    }

    private void string(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || (c >= 0x7F && c <= 0x9F) || Character.isSurrogate(c) && !validPair(s, i)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** A surrogate that is half of a well-formed pair passes as is; a lone one is escaped. */
    private static boolean validPair(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
