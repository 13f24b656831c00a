package io.jvhost.devices.fs.idmap;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Parses virtiofsd's {@code --translate-uid} / {@code --translate-gid} syntax,
 * {@code TYPE:A:B:COUNT} (forbid-guest: {@code TYPE:A:COUNT}): TYPE is letters, digits, '-' and
 * '_', any case; the first other character is the separator, the same between every field, and
 * the fields are unsigned 32-bit numbers. Unlike virtiofsd, a range that would run past
 * 2^32 - 1 on either side and an empty range are refused here, each with a one-line message.
 */
public final class IdMapSyntax {
    static final long MAX_ID = 0xFFFF_FFFFL;

    private IdMapSyntax() {}

    public static IdMapEntry parse(String text) {
        int i = 0;
        while (i < text.length() && typeChar(text.charAt(i))) i++;
        String type = text.substring(0, i).toLowerCase(Locale.ROOT);
        if (i == text.length()) throw bad(text, "expected TYPE:A:B:COUNT (or forbid-guest:A:COUNT)");
        char separator = text.charAt(i);
        List<Long> fields = new ArrayList<>();
        for (String field : text.substring(i + 1).split(java.util.regex.Pattern.quote(String.valueOf(separator)), -1))
            fields.add(number(text, field));
        List<String> types = List.of("guest", "host", "squash-guest", "squash-host", "map", "forbid-guest");
        if (!types.contains(type))
            throw bad(text, "unknown type '" + type + "' (expected " + String.join(", ", types) + ")");
        int expected = type.equals("forbid-guest") ? 2 : 3;
        if (fields.size() != expected)
            throw bad(text, "expected " + expected + " numbers after '" + type + "', found " + fields.size());
        long a = fields.get(0), b = fields.get(1), c = expected == 3 ? fields.get(2) : 0;
        IdMapEntry entry = switch (type) {
            case "guest" -> new IdMapEntry.Guest(a, b, c);
            case "host" -> new IdMapEntry.Host(a, b, c);
            case "squash-guest" -> new IdMapEntry.SquashGuest(a, b, c);
            case "squash-host" -> new IdMapEntry.SquashHost(a, b, c);
            case "map" -> new IdMapEntry.Bidirectional(a, b, c);
            default -> new IdMapEntry.ForbidGuest(a, b);
        };
        checkRanges(text, entry);
        return entry;
    }

    /** Each range the entry spans (source and, for 1:1 maps, target) ends at or below 2^32 - 1. */
    private static void checkRanges(String text, IdMapEntry entry) {
        switch (entry) {
            case IdMapEntry.Guest(long from, long to, long count) -> both(text, from, to, count);
            case IdMapEntry.Host(long from, long to, long count) -> both(text, from, to, count);
            case IdMapEntry.Bidirectional(long guest, long host, long count) -> both(text, guest, host, count);
            case IdMapEntry.SquashGuest(long from, long to, long count) -> range(text, from, count);
            case IdMapEntry.SquashHost(long from, long to, long count) -> range(text, from, count);
            case IdMapEntry.ForbidGuest(long from, long count) -> range(text, from, count);
        }
    }

    private static void both(String text, long from, long to, long count) {
        range(text, from, count);
        range(text, to, count);
    }

    private static void range(String text, long base, long count) {
        if (count == 0) throw bad(text, "the count is 0");
        // virtiofsd's end (base + count, exclusive) is a u32 as well.
        if (base + count > MAX_ID) throw bad(text, "range overflow: " + base + " + " + count + " exceeds " + MAX_ID);
    }

    private static long number(String text, String field) {
        if (field.isEmpty() || field.length() > 10 || !field.chars().allMatch(c -> c >= '0' && c <= '9'))
            throw bad(text, "'" + field + "' is not an id (0 to " + MAX_ID + ")");
        long v = Long.parseLong(field);
        if (v > MAX_ID) throw bad(text, "'" + field + "' is not an id (0 to " + MAX_ID + ")");
        return v;
    }

    /** The entry as it is written on the command line (colons). */
    public static String spelling(IdMapEntry entry) {
        return switch (entry) {
            case IdMapEntry.Guest(long from, long to, long count) -> "guest:" + from + ":" + to + ":" + count;
            case IdMapEntry.Host(long from, long to, long count) -> "host:" + from + ":" + to + ":" + count;
            case IdMapEntry.SquashGuest(long from, long to, long count) ->
                "squash-guest:" + from + ":" + to + ":" + count;
            case IdMapEntry.SquashHost(long from, long to, long count) ->
                "squash-host:" + from + ":" + to + ":" + count;
            case IdMapEntry.Bidirectional(long guest, long host, long count) ->
                "map:" + guest + ":" + host + ":" + count;
            case IdMapEntry.ForbidGuest(long from, long count) -> "forbid-guest:" + from + ":" + count;
        };
    }

    private static boolean typeChar(char c) {
        return Character.isLetterOrDigit(c) || c == '-' || c == '_';
    }

    private static IllegalArgumentException bad(String text, String why) {
        return new IllegalArgumentException("'" + text + "': " + why);
    }
}
