package io.jvhost.devices.fs.passthrough;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * virtiofsd's --xattrmap (its doc/xattr-mapping.md): rules, each {@code :type:scope:key:prepend:}
 * with the rule's first non-blank character as its separator, or {@code :map:key:prepend:} as the
 * last rule. The first rule that matches decides: a client name (setxattr, getxattr,
 * removexattr) matches on {@code key}, a server name (listxattr) on {@code prepend}. A name no
 * rule matches is treated as {@code bad} (refused, hidden), as QEMU's C virtiofsd does with the
 * terminator it appends; virtiofsd 1.x aborts there instead.
 */
public final class XattrMap {
    /** Whether a rule applies to names from the guest, from the host, or both. */
    enum Scope {
        CLIENT,
        SERVER,
        ALL;

        boolean covers(Scope s) {
            return this == ALL || this == s;
        }
    }

    enum Type {
        PREFIX,
        OK,
        BAD,
        UNSUPPORTED
    }

    /** One rule; {@code key} and {@code prepend} are the name bytes to match and to add or strip. */
    record Rule(Type type, Scope scope, byte[] key, byte[] prepend) {
        boolean matches(Scope side, byte[] name) {
            return scope.covers(side) && startsWith(name, side == Scope.CLIENT ? key : prepend);
        }
    }

    /** What becomes of a name the guest gave. */
    public sealed interface Mapped {}

    /** Pass on, under this host name. */
    public record Pass(byte[] hostName) implements Mapped {}

    /** {@code bad}: EPERM (getxattr: ENODATA, as if it were not there). */
    public record Deny() implements Mapped {}

    /** {@code unsupported}: ENOTSUP. */
    public record Unsupported() implements Mapped {}

    private final List<Rule> rules;
    private final String text;

    private XattrMap(List<Rule> rules, String text) {
        this.rules = List.copyOf(rules);
        this.text = text;
    }

    /**
     * The rules of {@code text}, or IllegalArgumentException with one line naming the rule (1-based)
     * and what is wrong with it.
     */
    public static XattrMap parse(String text) {
        String in = text.strip();
        List<Rule> rules = new ArrayList<>();
        int at = 0;
        int number = 0;
        while (at < in.length()) {
            char c = in.charAt(at);
            if (Character.isWhitespace(c)) {
                at++;
                continue;
            }
            number++;
            char sep = c;
            at++;
            List<String> fields = new ArrayList<>();
            int want = 4;
            while (fields.size() < want) {
                int end = in.indexOf(sep, at);
                if (end < 0)
                    throw bad(
                            number, "ends before its " + ordinal(fields.size()) + " field is closed by '" + sep + "'");
                fields.add(in.substring(at, end));
                at = end + 1;
                if (fields.size() == 1 && fields.get(0).equals("map")) want = 3;
            }
            String type = fields.get(0);
            if (type.equals("map")) {
                if (at < in.length()) throw bad(number, "map must be the last rule");
                byte[] key = name(number, fields.get(1)), prepend = name(number, fields.get(2));
                rules.add(new Rule(Type.PREFIX, Scope.ALL, key, prepend));
                if (key.length > 0) {
                    rules.add(
                            new Rule(Type.BAD, Scope.ALL, prepend, key)); // the guest may not reach the target directly
                    rules.add(new Rule(Type.OK, Scope.ALL, new byte[0], new byte[0]));
                } else {
                    rules.add(new Rule(Type.BAD, Scope.ALL, new byte[0], new byte[0]));
                }
                continue;
            }
            rules.add(new Rule(
                    type(number, type),
                    scope(number, fields.get(1)),
                    name(number, fields.get(2)),
                    name(number, fields.get(3))));
        }
        if (rules.isEmpty()) throw new IllegalArgumentException("--xattrmap: no rules given");
        return new XattrMap(rules, in);
    }

    /** The guest's xattr name as the host file system is asked for it. */
    public Mapped client(byte[] name) {
        Rule r = find(Scope.CLIENT, name);
        if (r == null) return new Deny();
        return switch (r.type()) {
            case OK -> new Pass(name);
            case BAD -> new Deny();
            case UNSUPPORTED -> new Unsupported();
            case PREFIX -> new Pass(concat(r.prepend(), name));
        };
    }

    /**
     * A host listxattr answer (NUL-terminated names) as the guest sees it: prefixes stripped, names
     * a bad or unsupported rule matches left out. Never longer than {@code list}.
     */
    public byte[] server(byte[] list) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(list.length);
        int start = 0;
        for (int i = 0; i <= list.length; i++) {
            if (i < list.length && list[i] != 0) continue;
            if (i > start) {
                byte[] name = Arrays.copyOfRange(list, start, i);
                Rule r = find(Scope.SERVER, name);
                if (r != null && (r.type() == Type.OK || r.type() == Type.PREFIX)) {
                    int skip = r.type() == Type.PREFIX ? r.prepend().length : 0;
                    if (name.length > skip) { // a name that is only the prefix would come out empty
                        out.write(name, skip, name.length - skip);
                        out.write(0);
                    }
                }
            }
            start = i + 1;
        }
        return out.toByteArray();
    }

    List<Rule> rules() {
        return rules;
    }

    @Override
    public String toString() {
        return text;
    }

    private Rule find(Scope side, byte[] name) {
        for (Rule r : rules) {
            if (r.matches(side, name)) return r;
        }
        return null;
    }

    private static Type type(int number, String s) {
        return switch (s) {
            case "prefix" -> Type.PREFIX;
            case "ok" -> Type.OK;
            case "bad" -> Type.BAD;
            case "unsupported" -> Type.UNSUPPORTED;
            default -> throw bad(number, "unknown type '" + s + "' (prefix, ok, bad, unsupported or map)");
        };
    }

    private static Scope scope(int number, String s) {
        return switch (s) {
            case "client" -> Scope.CLIENT;
            case "server" -> Scope.SERVER;
            case "all" -> Scope.ALL;
            default -> throw bad(number, "unknown scope '" + s + "' (client, server or all)");
        };
    }

    private static byte[] name(int number, String s) {
        if (s.indexOf('\0') >= 0) throw bad(number, "a NUL in a name");
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > Names.XATTR_NAME_MAX) throw bad(number, "a name longer than " + Names.XATTR_NAME_MAX + " bytes");
        return b;
    }

    private static String ordinal(int i) {
        return switch (i) {
            case 0 -> "first";
            case 1 -> "second";
            case 2 -> "third";
            default -> "fourth";
        };
    }

    private static IllegalArgumentException bad(int number, String what) {
        return new IllegalArgumentException("--xattrmap rule " + number + ": " + what);
    }

    private static boolean startsWith(byte[] name, byte[] prefix) {
        return name.length >= prefix.length && Arrays.equals(name, 0, prefix.length, prefix, 0, prefix.length);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
