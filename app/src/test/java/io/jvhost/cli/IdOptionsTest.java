package io.jvhost.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.idmap.IdMapEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * jvhost fs's --translate-uid/--translate-gid (in-daemon translation) and --uid-map/--gid-map
 * (the user namespace of an unprivileged --sandbox namespace): parsed as virtiofsd's, bad input
 * refused in one line naming the option, and the maps honoured only where the launcher made them.
 */
class IdOptionsTest {
    private static FsCommand parse(String... args) {
        FsCommand c = new FsCommand();
        new CommandLine(c).parseArgs(args);
        return c;
    }

    @Test
    void translationsAreParsedAndJoinedPerKind() throws Exception {
        FsCommand c = parse(
                "--translate-uid",
                "map:1000:5000:10",
                "--translate-uid=forbid-guest:0:1",
                "--translate-gid",
                "host:5:6:1");
        assertEquals(
                List.of(new IdMapEntry.Bidirectional(1000, 5000, 10), new IdMapEntry.ForbidGuest(0, 1)),
                c.translateUid);
        var ids = IdMapOption.guestIds(c.translateUid, c.translateGid, c.spec);
        assertEquals(5003, ids.uids().toHost(1003));
        assertEquals(6, ids.guestGid(5));
        assertTrue(IdMapOption.guestIds(List.of(), List.of(), c.spec).isIdentity());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            --translate-uid=user:1:2:3           | --translate-uid | 'user:1:2:3': unknown type 'user'
            --translate-gid=guest:1:2            | --translate-gid | 'guest:1:2': expected 3 numbers after 'guest', found 2
            --translate-uid=guest:4294967295:0:1 | --translate-uid | 'guest:4294967295:0:1': range overflow
            --uid-map=0:1:2                      | --uid-map       | '0:1:2': expected :inside:outside:count:
            --uid-map=:0:1:                      | --uid-map       | ':0:1:': expected 3 numbers
            --gid-map=:0:x:1:                    | --gid-map       | ':0:x:1:': 'x' is not an id
            --gid-map=:0:1:0:                    | --gid-map       | ':0:1:0:': the count is 0
            --uid-map=:4294967295:0:2:           | --uid-map       | ':4294967295:0:2:': range overflow
            --gid-map=:0:1:4294967295:           | --gid-map       | ':0:1:4294967295:': range overflow
            --uid-map=a0a1a2a                    | --uid-map       | 'a0a1a2a': expected :inside:outside:count:
            """)
    void badValuesAreRefusedNamingTheOption(String arg, String option, String detail) {
        ParameterException e = assertThrows(ParameterException.class, () -> parse(arg));
        assertTrue(e.getMessage().startsWith("Invalid value for option '" + option + "'"), e.getMessage());
        assertTrue(e.getMessage().contains("): " + detail), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void overlappingTranslationsAreRefusedNamingTheOption() {
        FsCommand c = parse("--translate-gid", "guest:0:100:10", "--translate-gid", "squash-guest:5:0:1");
        ParameterException e = assertThrows(
                ParameterException.class, () -> IdMapOption.guestIds(c.translateUid, c.translateGid, c.spec));
        assertEquals("--translate-gid: 'squash-guest:5:0:1' overlaps 'guest:0:100:10'", e.getMessage());
    }

    @Test
    void userNamespaceMapsAsVirtiofsdWritesThem() {
        FsCommand c = parse("--uid-map", ":0:1000:1:", "--uid-map=/1/100000/65536/", "--gid-map=:0:1000:1:");
        assertEquals(List.of(new UserNamespaceMap(0, 1000, 1), new UserNamespaceMap(1, 100000, 65536)), c.uidMap);
        assertEquals("1 100000 65536", c.uidMap.get(1).line());
    }

    @Test
    void mapsOnlyWhereTheLauncherMadeAUserNamespace() throws Exception {
        FsCommand c = parse("--uid-map", ":0:1000:1:");
        // Root (no user namespace made), and an unprivileged user's --sandbox none, as virtiofsd.
        for (var env : List.of(Map.<String, String>of(), Map.of(Sandbox.MODE, "namespace"))) {
            ParameterException e = assertThrows(
                    ParameterException.class,
                    () -> Sandbox.checkUserNamespace(Sandbox.Mode.NAMESPACE, c.uidMap, List.of(), env, c.spec));
            assertEquals(
                    "--uid-map: can only be used by an unprivileged user with --sandbox namespace "
                            + "(use '--sandbox namespace' instead)",
                    e.getMessage());
        }
        var made = Map.of(Sandbox.MODE, "namespace", Sandbox.USER_NAMESPACE, "mapped");
        assertThrows(
                ParameterException.class,
                () -> Sandbox.checkUserNamespace(Sandbox.Mode.NONE, c.uidMap, List.of(), made, c.spec));
        Sandbox.checkUserNamespace(Sandbox.Mode.NAMESPACE, List.of(), List.of(), Map.of(), c.spec); // nothing asked
    }

    @Test
    void theMapsAskedForMustBeTheNamespaces() throws Exception {
        var made = Map.of(Sandbox.MODE, "namespace", Sandbox.USER_NAMESPACE, "mapped");
        // This process's own namespace stands in for the one the launcher made.
        String[] own = Files.readAllLines(Path.of("/proc/self/uid_map"))
                .getFirst()
                .trim()
                .split("\\s+");
        FsCommand same = parse("--uid-map", ":" + String.join(":", own) + ":");
        Sandbox.checkUserNamespace(Sandbox.Mode.NAMESPACE, same.uidMap, List.of(), made, same.spec);
        FsCommand other = parse("--gid-map", ":0:1000:1:");
        ParameterException e = assertThrows(
                ParameterException.class,
                () -> Sandbox.checkUserNamespace(Sandbox.Mode.NAMESPACE, List.of(), other.gidMap, made, other.spec));
        assertTrue(e.getMessage().startsWith("--gid-map: this user namespace maps ["), e.getMessage());
        assertTrue(e.getMessage().endsWith("], not [0 1000 1]"), e.getMessage());
    }
}
