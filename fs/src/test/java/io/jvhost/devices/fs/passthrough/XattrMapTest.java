package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** --xattrmap's grammar and meaning, from virtiofsd's doc/xattr-mapping.md. */
class XattrMapTest {
    private static final List<String> NAMES = List.of(
            "user.a",
            "trusted.b",
            "security.selinux",
            "user.virtiofs.trusted.c",
            "user.virtiofs.d",
            "system.posix_acl_access",
            "user.virtiofs.");

    @Test
    void theDocumentsExamplesParseAndMeanWhatItSays() {
        XattrMap prefixAll = XattrMap.parse(":prefix:all::user.virtiofs.::bad:all:::");
        assertSameMeaning(prefixAll, XattrMap.parse(":map::user.virtiofs.:"));
        assertEquals("user.virtiofs.user.a", host(prefixAll, "user.a"));
        assertEquals("user.a\0", list(prefixAll, "user.virtiofs.user.a\0trusted.x\0"), "unprefixed host names hidden");

        XattrMap trusted = XattrMap.parse("""
                /prefix/all/trusted./user.virtiofs./
                            /bad/server//trusted./
                            /bad/client/user.virtiofs.//
                            /ok/all///
                """);
        assertSameMeaning(trusted, XattrMap.parse("/map/trusted./user.virtiofs./"));
        assertEquals("user.virtiofs.trusted.b", host(trusted, "trusted.b"));
        assertEquals("user.a", host(trusted, "user.a"));
        assertInstanceOf(XattrMap.Deny.class, trusted.client(b("user.virtiofs.x")), "the target is not reachable");
        assertEquals(
                "trusted.b\0user.a\0",
                list(trusted, "user.virtiofs.trusted.b\0trusted.z\0user.a\0"),
                "prefix stripped, the host's own trusted.* hidden");

        XattrMap noSecurity = XattrMap.parse("/bad/all/security./security./ /ok/all///");
        assertInstanceOf(XattrMap.Deny.class, noSecurity.client(b("security.selinux")));
        assertEquals("user.a\0", list(noSecurity, "security.selinux\0user.a\0"));
    }

    @Test
    void unsupportedAndUnmatchedNames() {
        XattrMap m = XattrMap.parse(":unsupported:client:trusted.::,ok,client,user.,,");
        assertInstanceOf(XattrMap.Unsupported.class, m.client(b("trusted.x")));
        assertEquals("user.x", host(m, "user.x"));
        assertInstanceOf(XattrMap.Deny.class, m.client(b("security.x")), "no rule matches: refused");
        assertEquals("", list(m, "user.x\0"), "no server rule: hidden");
        XattrMap okServer = XattrMap.parse(":ok:server::security.:");
        assertEquals("security.x\0", list(okServer, "security.x\0user.y\0"));
        assertEquals("", list(okServer, ""));
        assertEquals("", list(okServer, "\0\0"), "empty names are no names");
    }

    @Test
    void badRulesAreRefusedWithOneLineNamingTheRule() {
        assertBad("", "--xattrmap: no rules given");
        assertBad("   ", "--xattrmap: no rules given");
        assertBad(":prefix:client:trusted.:", "--xattrmap rule 1: ends before its fourth field is closed by ':'");
        assertBad(":ok:all:::  :prefix", "--xattrmap rule 2: ends before its first field is closed by ':'");
        assertBad(":map:a.:", "--xattrmap rule 1: ends before its third field is closed by ':'");
        assertBad(":okay:all:::", "--xattrmap rule 1: unknown type 'okay' (prefix, ok, bad, unsupported or map)");
        assertBad(":ok:everyone:::", "--xattrmap rule 1: unknown scope 'everyone' (client, server or all)");
        assertBad(":map::user.virtiofs.: :ok:all:::", "--xattrmap rule 1: map must be the last rule");
        assertBad(":ok:all:a\0b::", "--xattrmap rule 1: a NUL in a name");
        assertBad(":ok:all:" + "x".repeat(256) + "::", "--xattrmap rule 1: a name longer than 255 bytes");
    }

    /**
     * A property over random maps: ':map:KEY:PREFIX:' round-trips every name the guest may use
     * (what it sets under a name, it lists under that name) and never reaches a host name of the
     * guest's choosing outside what the rules allow; any rule set's listing is well formed and
     * never longer than the host's.
     */
    @Test
    void randomMapsRoundTripAndListingsStayBounded() {
        SplittableRandom random = new SplittableRandom(0x5eed);
        for (int round = 0; round < 2000; round++) {
            String key = word(random), prefix = word(random);
            if (prefix.isEmpty()) prefix = "p.";
            XattrMap map = XattrMap.parse(":map:" + key + ":" + prefix + ":");
            for (int i = 0; i < 20; i++) {
                String name = word(random) + "x";
                XattrMap.Mapped m = map.client(b(name));
                if (m instanceof XattrMap.Pass p) {
                    String h = new String(p.hostName(), StandardCharsets.UTF_8);
                    assertEquals(name + "\0", list(map, h + "\0"), map + ": " + name + " -> " + h + " lists back");
                    if (key.isEmpty() || name.startsWith(key))
                        assertTrue(h.startsWith(prefix), map + ": " + name + " stays under " + prefix);
                    else assertEquals(name, h);
                } else {
                    assertFalse(key.isEmpty(), map + " refuses " + name);
                    assertTrue(name.startsWith(prefix), map + " refuses only the target: " + name);
                }
            }
            XattrMap any = XattrMap.parse(randomRules(random));
            StringBuilder hostList = new StringBuilder();
            for (int i = random.nextInt(6); i > 0; i--)
                hostList.append(word(random)).append('\0');
            byte[] out = any.server(b(hostList.toString()));
            assertTrue(out.length <= hostList.length(), any + " lists no more than the host");
            assertTrue(out.length == 0 || out[out.length - 1] == 0, "NUL-terminated");
            for (int i = 1; i < out.length; i++) assertFalse(out[i] == 0 && out[i - 1] == 0, "no empty name");
            if (out.length > 0) assertFalse(out[0] == 0, "no empty first name");
        }
    }

    private static String randomRules(SplittableRandom random) {
        String[] types = {"prefix", "ok", "bad", "unsupported"};
        String[] scopes = {"client", "server", "all"};
        StringBuilder s = new StringBuilder();
        for (int i = 1 + random.nextInt(4); i > 0; i--) {
            s.append(':')
                    .append(types[random.nextInt(types.length)])
                    .append(':')
                    .append(scopes[random.nextInt(scopes.length)])
                    .append(':')
                    .append(word(random))
                    .append(':')
                    .append(word(random))
                    .append(": ");
        }
        return s.toString();
    }

    /** 0..4 letters of a small alphabet, so that prefixes collide often. */
    private static String word(SplittableRandom random) {
        String alphabet = "ab.";
        StringBuilder s = new StringBuilder();
        for (int i = random.nextInt(5); i > 0; i--) s.append(alphabet.charAt(random.nextInt(alphabet.length())));
        return s.toString();
    }

    private static void assertSameMeaning(XattrMap a, XattrMap b) {
        StringBuilder all = new StringBuilder();
        for (String n : NAMES) {
            assertEquals(describe(a.client(b(n))), describe(b.client(b(n))), n);
            all.append(n).append('\0');
        }
        assertArrayEquals(a.server(b(all.toString())), b.server(b(all.toString())));
    }

    private static String describe(XattrMap.Mapped m) {
        return switch (m) {
            case XattrMap.Pass p -> "pass " + new String(p.hostName(), StandardCharsets.UTF_8);
            case XattrMap.Deny d -> "deny";
            case XattrMap.Unsupported u -> "unsupported";
        };
    }

    private static void assertBad(String rules, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> XattrMap.parse(rules));
        assertEquals(message, e.getMessage());
    }

    private static String host(XattrMap m, String name) {
        return new String(((XattrMap.Pass) m.client(b(name))).hostName(), StandardCharsets.UTF_8);
    }

    private static String list(XattrMap m, String hostList) {
        return new String(m.server(b(hostList)), StandardCharsets.UTF_8);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
