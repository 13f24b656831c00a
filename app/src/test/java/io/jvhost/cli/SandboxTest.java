package io.jvhost.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** --sandbox is honoured only in the sandbox the launcher made: never silently unconfined. */
class SandboxTest {
    private final CommandLine.Model.CommandSpec spec = new CommandLine(new FsCommand()).getCommandSpec();
    private static final Path GIVEN = Path.of("/srv/link-to-share");

    @Test
    void noneServesTheGivenDirectory() {
        assertEquals(GIVEN, Sandbox.sharedDir(Sandbox.Mode.NONE, GIVEN, Map.of(), spec));
    }

    @Test
    void aSandboxServesTheDirectoryTheLauncherBound() {
        var env = Map.of(Sandbox.MODE, "namespace", Sandbox.SHARED, "/srv/share");
        assertEquals(Path.of("/srv/share"), Sandbox.sharedDir(Sandbox.Mode.NAMESPACE, GIVEN, env, spec));
        var chroot = Map.of(Sandbox.MODE, "chroot", Sandbox.SHARED, "/srv/share");
        assertEquals(Path.of("/srv/share"), Sandbox.sharedDir(Sandbox.Mode.CHROOT, GIVEN, chroot, spec));
    }

    @Test
    void aSandboxAskedForWithoutTheLauncherIsRefused() {
        ParameterException e = assertThrows(
                ParameterException.class, () -> Sandbox.sharedDir(Sandbox.Mode.NAMESPACE, GIVEN, Map.of(), spec));
        assertTrue(
                e.getMessage().startsWith("--sandbox namespace: the sandbox is made before the JVM starts"),
                e.getMessage());
    }

    @Test
    void theWrongSandboxOrOneThatCouldNotBeMadeIsRefused() {
        var env = Map.of(Sandbox.MODE, "chroot", Sandbox.SHARED, "/srv/share");
        ParameterException e = assertThrows(
                ParameterException.class, () -> Sandbox.sharedDir(Sandbox.Mode.NAMESPACE, GIVEN, env, spec));
        assertEquals("--sandbox namespace: the launcher set up --sandbox chroot", e.getMessage());
        var unavailable = Map.of(Sandbox.UNAVAILABLE, "needs root");
        e = assertThrows(
                ParameterException.class, () -> Sandbox.sharedDir(Sandbox.Mode.CHROOT, GIVEN, unavailable, spec));
        assertEquals("--sandbox chroot: needs root", e.getMessage());
        e = assertThrows(ParameterException.class, () -> Sandbox.sharedDir(Sandbox.Mode.NONE, GIVEN, env, spec));
        assertTrue(e.getMessage().startsWith("--sandbox none: this process runs in the launcher's chroot sandbox"));
    }

    @Test
    void fsTakesTheFlagsInVirtiofsdsWords() {
        FsCommand c = new FsCommand();
        new CommandLine(c).parseArgs("--sandbox", "chroot", "--seccomp", "trap");
        assertEquals(Sandbox.Mode.CHROOT, c.sandbox);
        assertEquals(SyscallFilter.Action.TRAP, c.seccomp);
        FsCommand defaults = new FsCommand();
        new CommandLine(defaults).parseArgs();
        assertEquals(Sandbox.Mode.NONE, defaults.sandbox, "jvhost fs keeps running unconfined unless asked");
        assertEquals(SyscallFilter.Action.NONE, defaults.seccomp);
        assertThrows(ParameterException.class, () -> new CommandLine(new FsCommand()).parseArgs("--sandbox", "jail"));
    }
}
