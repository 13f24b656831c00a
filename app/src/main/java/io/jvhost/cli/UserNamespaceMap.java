package io.jvhost.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * One {@code --uid-map} / {@code --gid-map} range, virtiofsd's {@code :inside:outside:count:}:
 * {@code count} ids of the host from {@code outside} on are the ids from {@code inside} on in the
 * user namespace the launcher places an unprivileged daemon in ({@code --sandbox namespace}). The
 * delimiter is any non-alphanumeric character, the same at both ends and between the numbers.
 * The line it is in /proc/PID/uid_map is {@code inside outside count}.
 */
record UserNamespaceMap(long inside, long outside, long count) {
    private static final long MAX_ID = 0xFFFF_FFFFL;

    static UserNamespaceMap parse(String text) {
        if (text.length() < 2) throw bad(text, "expected :inside:outside:count:");
        char d = text.charAt(text.length() - 1);
        if (Character.isLetterOrDigit(d) || text.charAt(0) != d)
            throw bad(text, "expected :inside:outside:count: (the same delimiter first, last and between)");
        List<Long> v = new ArrayList<>();
        for (String f :
                text.substring(1, text.length() - 1).split(java.util.regex.Pattern.quote(String.valueOf(d)), -1)) {
            if (f.isEmpty()
                    || f.length() > 10
                    || !f.chars().allMatch(c -> c >= '0' && c <= '9')
                    || Long.parseLong(f) > MAX_ID) throw bad(text, "'" + f + "' is not an id (0 to " + MAX_ID + ")");
            v.add(Long.parseLong(f));
        }
        if (v.size() != 3) throw bad(text, "expected 3 numbers, inside, outside and count, found " + v.size());
        UserNamespaceMap m = new UserNamespaceMap(v.get(0), v.get(1), v.get(2));
        if (m.count == 0) throw bad(text, "the count is 0");
        // The kernel's rule: first + count must not wrap a u32 (4294967295 itself is no id).
        if (m.inside + m.count > MAX_ID || m.outside + m.count > MAX_ID)
            throw bad(text, "range overflow: a range ends beyond " + (MAX_ID - 1));
        return m;
    }

    /** As the kernel shows it in /proc/PID/uid_map (whitespace aside). */
    String line() {
        return inside + " " + outside + " " + count;
    }

    private static IllegalArgumentException bad(String text, String why) {
        return new IllegalArgumentException("'" + text + "': " + why);
    }

    static final class Converter implements ITypeConverter<UserNamespaceMap> {
        @Override
        public UserNamespaceMap convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
