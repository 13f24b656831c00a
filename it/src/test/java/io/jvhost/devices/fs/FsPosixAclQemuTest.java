package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jvhost.nativeio.FileCalls;
import io.jvhost.nativeio.Xattrs;
import io.jvhost.testing.qemu.JvhostDaemon;
import io.jvhost.testing.qemu.ManagedProcess;
import io.jvhost.testing.qemu.QemuGuest;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.Virtiofsd;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code jvhost-virtiofsd --posix-acl} serving a Linux guest under QEMU 10 (the fs-acl
 * scenario): the host gives uid 1000 a file through an ACL entry only, takes another away
 * through one, and puts a default ACL on a directory; the guest kernel must enforce both
 * entries for uid 1000, and a file it makes under umask 077 must get its mode from the default
 * ACL. virtiofsd 1.13 --posix-acl, the reference, in the same run.
 */
@QemuTest
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class FsPosixAclQemuTest {
    private static final Duration BOOT = Duration.ofSeconds(150), STEP = Duration.ofSeconds(90);
    private static final int USER_OBJ = 1, USER = 2, GROUP_OBJ = 4, MASK = 0x10, OTHER = 0x20, NONE = -1;

    @Test
    void theGuestEnforcesTheHostsAclsAsWithVirtiofsd(TestRun run) throws Exception {
        Path mine = share(run, "shared-jvhost");
        Path socket = run.socket("jvhost-acl");
        ManagedProcess jvhost = JvhostDaemon.start(
                run,
                "jvhost-virtiofsd-acl",
                socket,
                "virtiofsd",
                "--shared-dir",
                mine.toString(),
                "--posix-acl",
                "--sandbox=none",
                "--seccomp=none");
        String ours = guest(run, "vm-jvhost", socket, jvhost);
        assertEquals("660", mode(mine.resolve("inherit/new.txt")), "the host file's mode too");

        Path theirs = share(run, "shared-virtiofsd");
        Virtiofsd reference = Virtiofsd.builder(run, "virtiofsd-acl")
                .sharedDir(theirs)
                .args("--posix-acl")
                .start();
        String virtiofsd = guest(run, "vm-virtiofsd", reference.socket(), reference.process());
        run.note("jvhost: %s; virtiofsd: %s", ours, virtiofsd);
        assertEquals(virtiofsd.replaceAll(" up=.*", ""), ours.replaceAll(" up=.*", ""), "as virtiofsd");
    }

    /**
     * --xattrmap ':map::user.virtiofs.:' with --posix-acl and --security-label: the host keeps the
     * ACLs as plain user.virtiofs.system.posix_acl_* xattrs (so it enforces nothing itself), and
     * the guest enforces them as it reads them through the map; its CREATE carries the security
     * context extension (with no LSM label in this guest: nr_secctx 0). The host cannot apply a
     * default ACL it does not know, so the new file's mode is not checked.
     */
    @Test
    void mappedAclsAreEnforcedByTheGuestAsWithVirtiofsd(TestRun run) throws Exception {
        String[] flags = {"--posix-acl", "--security-label", "--xattrmap", ":map::user.virtiofs.:"};
        Path mine = share(run, "mapped-jvhost", "user.virtiofs.");
        Path socket = run.socket("jvhost-mapped");
        List<String> args = new ArrayList<>(List.of("virtiofsd", "--shared-dir", mine.toString()));
        args.addAll(List.of(flags));
        args.addAll(List.of("--sandbox=none", "--seccomp=none"));
        ManagedProcess jvhost = JvhostDaemon.start(run, "jvhost-virtiofsd-mapped", socket, args.toArray(String[]::new));
        String ours = guest(run, "vm-jvhost-mapped", socket, jvhost, "any");
        assertEquals("0640", octal(mine.resolve("acl-read.txt")), "the host's mode bits alone would refuse uid 1000");

        Path theirs = share(run, "mapped-virtiofsd", "user.virtiofs.");
        Virtiofsd reference = Virtiofsd.builder(run, "virtiofsd-mapped")
                .sharedDir(theirs)
                .args(flags)
                .start();
        String virtiofsd = guest(run, "vm-virtiofsd-mapped", reference.socket(), reference.process(), "any");
        run.note("mapped: jvhost: %s; virtiofsd: %s", ours, virtiofsd);
        assertEquals(virtiofsd.replaceAll(" inherit=.*", ""), ours.replaceAll(" inherit=.*", ""), "as virtiofsd");
    }

    private static Path share(TestRun run, String name) throws Exception {
        return share(run, name, "");
    }

    /** acl-read.txt (0600, user:1000:r--), acl-deny.txt (0644, user:1000:---), inherit/ (default ACL, rwx for owner and group). */
    private static Path share(TestRun run, String name, String prefix) throws Exception {
        Path dir = run.dir(name);
        FileCalls.fchmodat(null, bytes(dir.toString()), 0755); // uid 1000 looks up names in it
        Path read = Files.writeString(dir.resolve("acl-read.txt"), "readable through the ACL\n");
        Path deny = Files.writeString(dir.resolve("acl-deny.txt"), "not for uid 1000\n");
        Path inherit = Files.createDirectory(dir.resolve("inherit"));
        FileCalls.fchmodat(null, bytes(inherit.toString()), 0777);
        FileCalls.fchmodat(null, bytes(read.toString()), 0640); // what the ACL below makes it, mapped or not
        setAcl(
                read,
                prefix + "system.posix_acl_access",
                USER_OBJ,
                6,
                NONE,
                USER,
                4,
                1000,
                GROUP_OBJ,
                0,
                NONE,
                MASK,
                4,
                NONE,
                OTHER,
                0,
                NONE);
        setAcl(
                deny,
                prefix + "system.posix_acl_access",
                USER_OBJ,
                6,
                NONE,
                USER,
                0,
                1000,
                GROUP_OBJ,
                4,
                NONE,
                MASK,
                4,
                NONE,
                OTHER,
                4,
                NONE);
        setAcl(inherit, prefix + "system.posix_acl_default", USER_OBJ, 7, NONE, GROUP_OBJ, 7, NONE, OTHER, 0, NONE);
        return dir;
    }

    /** Boots the fs-acl guest; its ACL-OK line, after the guest powered off. */
    private static String guest(TestRun run, String name, Path socket, ManagedProcess backend) throws Exception {
        return guest(run, name, socket, backend, "660");
    }

    private static String guest(TestRun run, String name, Path socket, ManagedProcess backend, String inherit)
            throws Exception {
        QemuGuest vm = QemuGuest.builder(run, name)
                .scenario("fs-acl")
                .kernelArg("vfs_tag", "myfs")
                .kernelArg("acl_inherit", inherit)
                .vhostUserFs(socket, "myfs")
                .watch(backend)
                .start();
        vm.awaitReady(BOOT);
        MatchResult done = vm.awaitSerialLine("^ACL-(OK|FAIL) (.*)", STEP);
        assertEquals("OK", done.group(1), done::group);
        assertEquals(0, vm.awaitExit(STEP), "QEMU exit code after the guest powered off");
        return done.group();
    }

    /** posix_acl_xattr: version 2, then (tag, perm, id) triples. */
    private static void setAcl(Path p, String name, int... entries) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(4 + 8 * (entries.length / 3)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(2);
        for (int i = 0; i < entries.length; i += 3) {
            b.putShort((short) entries[i]).putShort((short) entries[i + 1]).putInt(entries[i + 2]);
        }
        Xattrs.set(Xattrs.File.path(bytes(p.toString())), bytes(name), b.array(), 0);
    }

    private static String octal(Path p) throws Exception {
        return String.format("%04o", (Integer) Files.getAttribute(p, "unix:mode") & 07777);
    }

    private static String mode(Path p) throws Exception {
        return Integer.toOctalString((Integer) Files.getAttribute(p, "unix:mode") & 0777);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
