package io.jvhost.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.nativeio.Capability;
import io.jvhost.nativeio.FileLimits.Limit;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * Every flag of virtiofsd 1.13's command line (docs/virtiofsd-compat.md): what {@code jvhost
 * virtiofsd} makes of it in {@code jvhost fs}'s terms, or the one-line refusal naming it.
 */
class VirtiofsdCommandTest {
    private static final String BASE = "--socket-path /run/vfs.sock --shared-dir /srv/share";

    private static List<String> words(String s) {
        return s.isBlank() ? List.of() : List.of(s.trim().split("\\s+"));
    }

    /** The jvhost fs arguments for virtiofsd's {@code args}. */
    private static List<String> translate(String args) {
        VirtiofsdCommand c = new VirtiofsdCommand();
        new CommandLine(c)
                .setOverwrittenOptionsAllowed(true)
                .parseArgs(words(args).toArray(String[]::new));
        return c.fsArguments();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            BASE                                           | --socket-path /run/vfs.sock --shared-dir /srv/share
            BASE                                           | --thread-pool-size 0 --cache auto --log-level info
            BASE                                           | --migration-mode find-paths --migration-on-error abort --exit-on-disconnect
            --socket /run/vfs.sock --shared-dir /srv/share | --socket-path /run/vfs.sock
            --fd=3 --shared-dir /srv/share                 | --fd 3 --shared-dir /srv/share
            BASE --tag myfs                                | --tag myfs
            BASE --socket-group kvm                        | --socket-path /run/vfs.sock --socket-group kvm
            BASE --thread-pool-size=4                      | --thread-pool-size 4
            BASE --xattr                                   | --xattr
            BASE --posix-acl                               | --posix-acl
            BASE -o posix_acl                              | --posix-acl
            BASE --xattrmap :map::user.virtiofs.:          | --xattrmap :map::user.virtiofs.:
            BASE --xattrmap=/ok/all///                     | --xattrmap /ok/all///
            BASE -o xattrmap=:map::user.virtiofs.:         | --xattrmap :map::user.virtiofs.:
            BASE --security-label                          | --security-label
            BASE -o security_label                         | --security-label
            BASE                                           | --sandbox namespace --seccomp kill
            BASE --sandbox none                            | --sandbox none --seccomp kill
            BASE --sandbox=chroot                          | --sandbox chroot
            BASE -o sandbox=chroot                         | --sandbox chroot
            BASE --seccomp none                            | --sandbox namespace --seccomp none
            BASE --seccomp=log                             | --seccomp log
            BASE --seccomp trap                            | --seccomp trap
            BASE                                           | --announce-submounts --sandbox
            BASE --no-announce-submounts                   | --no-announce-submounts
            BASE --announce-submounts                      | --announce-submounts --sandbox
            BASE -o announce_submounts                     | --announce-submounts --sandbox
            BASE --no-announce-submounts --announce-submounts | --announce-submounts --sandbox
            BASE --announce-submounts --no-announce-submounts | --no-announce-submounts --sandbox
            BASE --writeback                               | --announce-submounts --writeback --sandbox
            BASE -o writeback                              | --writeback
            BASE -o writeback,no_writeback                 | --announce-submounts --sandbox
            BASE --killpriv-v2                             | --announce-submounts --killpriv-v2 --sandbox
            BASE -o killpriv_v2                            | --killpriv-v2
            BASE --no-killpriv-v2 --killpriv-v2            | --killpriv-v2
            BASE --killpriv-v2 --no-killpriv-v2            | --announce-submounts --sandbox
            BASE --writeback --killpriv-v2                 | --announce-submounts --writeback --killpriv-v2
            BASE --inode-file-handles=never                | --inode-file-handles never
            BASE --inode-file-handles never                | --inode-file-handles never
            BASE --inode-file-handles=prefer               | --inode-file-handles prefer
            BASE --inode-file-handles=fallback             | --inode-file-handles prefer
            BASE --inode-file-handles=mandatory            | --inode-file-handles mandatory
            BASE --cache always                            | --cache always
            BASE --cache=never                             | --cache never
            BASE --allow-direct-io                         | --allow-direct-io
            BASE -o allow_direct_io                        | --allow-direct-io
            BASE --readonly                                | --readonly
            BASE --cache metadata                          | --cache metadata
            BASE -o cache=metadata                         | --cache metadata
            BASE --allow-mmap                              | --allow-mmap
            BASE --no-readdirplus                          | --no-readdirplus
            BASE -o no_readdirplus                         | --no-readdirplus
            BASE --modcaps=+sys_admin:-chown               | --modcaps +sys_admin:-chown
            BASE --log-level debug                         | --log-level debug
            BASE -d                                        | --log-level debug
            BASE --rlimit-nofile=4096                      | --rlimit-nofile 4096
            BASE --rlimit-nofile 0                         | --rlimit-nofile 0
            BASE -f                                        | --shared-dir /srv/share
            BASE --syslog                                  | --syslog
            BASE --no-killpriv-v2                          | --announce-submounts --sandbox
            BASE --preserve-noatime                        | --preserve-noatime
            BASE --migration-mode file-handles             | --migration-mode file-handles
            BASE --migration-on-error guest-error          | --migration-on-error guest-error
            BASE --migration-confirm-paths                 | --migration-on-error abort --migration-confirm-paths
            BASE --migration-verify-handles                | --migration-mode find-paths
            --socket-path /s -o source=/x,cache=none,xattr | --cache never --xattr
            --socket-path /s -o source=/x,cache=none,xattr | --socket-path /s --shared-dir /x
            BASE -o cache=always -o loglevel=err           | --cache always --log-level error
            BASE -o no_posix_lock,no_flock,no_killpriv_v2  | --announce-submounts --sandbox
            BASE -o readdirplus,no_writeback               | --announce-submounts --sandbox
            BASE --cache never --cache always              | --cache always
            --print-capabilities                           | --print-capabilities
            BASE --uid-map=:0:100000:65536:                | --uid-map :0:100000:65536:
            BASE --uid-map :0:1000:1: --uid-map=:1:100000:65536: | --uid-map :0:1000:1: --uid-map :1:100000:65536:
            BASE --gid-map=/0/100000/65536/                | --gid-map /0/100000/65536/
            BASE --translate-uid map:0:1000:1              | --translate-uid map:0:1000:1
            BASE --translate-uid guest:0:1000:1 --translate-uid=host:1000:0:1 | --translate-uid guest:0:1000:1 --translate-uid host:1000:0:1
            BASE --translate-gid squash-guest:0:1000:10    | --translate-gid squash-guest:0:1000:10
            BASE --translate-gid=forbid-guest:5:1          | --translate-gid forbid-guest:5:1
            """)
    void anImplementedFlagBecomesJvhostFsArguments(String args, String expected) {
        List<String> fs = translate(args.replace("BASE", BASE));
        assertTrue(Collections.indexOfSubList(fs, words(expected)) >= 0, () -> "jvhost fs " + fs);
        // And jvhost fs takes them as they are.
        new CommandLine(new FsCommand()).parseArgs(fs.toArray(String[]::new));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            --fd 3 --shared-dir /d --socket-group kvm   | --socket-group: cannot be used with --fd
            BASE --xattrmap :okay:all:::                | --xattrmap rule 1: unknown type 'okay' (prefix, ok, bad, unsupported or map)
            BASE -o xattrmap=:map::x.::ok:all:::        | --xattrmap rule 1: map must be the last rule
            BASE --xattrmap :ok:all::                   | --xattrmap rule 1: ends before its fourth field is closed by ':'
            BASE --posix-acl --translate-uid map:0:1000:1 | --translate-uid: cannot be used with --posix-acl
            BASE -o posix_acl --translate-gid guest:0:1000:1 | --translate-gid: cannot be used with --posix-acl
            BASE --inode-file-handles=sometimes         | --inode-file-handles=sometimes: expected one of never, prefer, mandatory
            BASE --translate-gid map:0:1:1 --posix-acl  | --translate-gid: cannot be used with --posix-acl
            BASE --migration-mode=file-handles --migration-confirm-paths  | --migration-confirm-paths: cannot be used with --migration-mode=file-handles
            BASE --migration-mode=file-handles --migration-verify-handles | --migration-verify-handles: cannot be used with --migration-mode=file-handles
            BASE -o bogus                               | Invalid compat argument '-o bogus'
            BASE -o cache=sometimes                     | Invalid compat value 'sometimes' for '-o cache'
            BASE -o loglevel=loud                       | Invalid compat value 'loud' for '-o loglevel'
            --shared-dir /srv/share                     | one of --socket-path or --fd is required
            --fd 3 --socket-path /s --shared-dir /d     | --fd cannot be used with --socket-path or --socket
            --socket-path /s                            | missing "--shared-dir" or "-o source" option
            """)
    void aRefusedFlagFailsNamingItAndWhy(String args, String message) {
        ParameterException e = assertThrows(ParameterException.class, () -> translate(args.replace("BASE", BASE)));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    /** virtiofsd's -o no_posix_acl / no_security_label undo the flags; --posix-acl and --xattrmap imply xattrs in jvhost fs. */
    @Test
    void legacyNoPosixAclAndNoSecurityLabelUndoThem() {
        assertFalse(translate(BASE + " --posix-acl -o no_posix_acl").contains("--posix-acl"));
        assertFalse(translate(BASE + " --security-label -o no_security_label").contains("--security-label"));
        assertTrue(translate(BASE + " -o no_security_label,security_label").contains("--security-label"));
    }

    @Test
    void legacyNoXattrUndoesXattrAndTheLastValueCounts() {
        assertFalse(translate(BASE + " --xattr -o no_xattr").contains("--xattr"));
        assertTrue(translate(BASE + " -o no_xattr -o xattr").contains("--xattr"));
    }

    /** What libvirt, and a shell user, see: one line on stderr, clap's status 2 for a bad command line. */
    @Test
    void errorsAreOneLineWithVirtiofsdsExitStatus() {
        StringWriter err = new StringWriter();
        CommandLine cl = VirtiofsdErrors.install(new CommandLine(new VirtiofsdCommand()));
        cl.setErr(new PrintWriter(err, true));
        int status = cl.execute("--fd=3", "--shared-dir", "/srv", "--socket-group", "kvm");
        assertEquals(2, status);
        assertEquals(
                "error: --socket-group: cannot be used with --fd",
                err.toString().strip());
        err.getBuffer().setLength(0);
        assertEquals(2, cl.execute("--no-such-flag"));
        assertEquals("error: Unknown option: '--no-such-flag'", err.toString().strip());
    }

    @Test
    void printsCapabilitiesAsVirtiofsd() {
        StringWriter out = new StringWriter();
        var saved = System.out;
        var bytes = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(bytes, true));
        try {
            assertEquals(
                    0,
                    VirtiofsdErrors.install(new CommandLine(new VirtiofsdCommand()))
                            .execute("--print-capabilities"));
        } finally {
            System.setOut(saved);
        }
        out.write(bytes.toString());
        assertEquals(
                "{\n  \"type\": \"fs\",\n  \"features\": [\n    \"migrate-precopy\",\n    \"separate-options\"\n  ]\n}\n",
                out.toString());
    }

    /** The vhost-user.json descriptor shipped for discovery says what --print-capabilities says. */
    @Test
    void theDescriptorMatchesTheCapabilities() throws Exception {
        String descriptor =
                Files.readString(Path.of("..", "50-jvhost-virtiofsd.json")).replaceAll("\\s+", "");
        assertTrue(descriptor.contains("\"type\":\"fs\""), descriptor);
        assertTrue(descriptor.contains("\"features\":[\"migrate-precopy\",\"separate-options\"]"), descriptor);
        assertTrue(descriptor.contains("\"binary\":\"/"), "an absolute path, as the spec asks: " + descriptor);
    }

    @Test
    void versionAndHelpAnswerAsVirtiofsds() {
        CommandLine cl = new CommandLine(new VirtiofsdCommand());
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        assertEquals(0, cl.execute("-V"));
        assertTrue(out.toString().startsWith("jvhost-virtiofsd "), out.toString());
        assertTrue(cl.getUsageMessage().contains("--shared-dir"));
    }

    /** The compatibility table names every flag the command takes, and the command takes every flag in the table. */
    @Test
    void theDocsTableListsEveryFlag() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "virtiofsd-compat.md"));
        List<String> inTable = new ArrayList<>();
        for (String line : doc.lines().toList()) {
            var m = java.util.regex.Pattern.compile("^\\| `(-[-\\w]+)").matcher(line);
            if (m.find()) inTable.add(m.group(1));
        }
        var spec = new CommandLine(new VirtiofsdCommand()).getCommandSpec();
        List<String> names = new ArrayList<>();
        spec.options().forEach(o -> {
            names.addAll(List.of(o.names()));
            // --[no-]announce-submounts: both spellings are flags of their own in virtiofsd's table.
            if (o.negatable())
                for (String n : o.names())
                    names.add(spec.negatableOptionTransformer().makeNegative(n, spec));
        });
        for (String name : names) {
            assertTrue(doc.contains("`" + name), () -> name + " is missing from docs/virtiofsd-compat.md");
        }
        for (String flag : inTable) {
            assertTrue(
                    names.contains(flag), () -> "docs/virtiofsd-compat.md lists " + flag + ", which the command lacks");
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            12:00:00.000 [main] ERROR FuseServer - boom     | <11>jvhost[42]: 12:00:00.000 [main] ERROR FuseServer - boom
            12:00:00.000 [main] WARN VirtiofsdCommand - x   | <12>jvhost[42]: 12:00:00.000 [main] WARN VirtiofsdCommand - x
            12:00:00.000 [main] INFO BackendServer - up     | <14>jvhost[42]: 12:00:00.000 [main] INFO BackendServer - up
            12:00:00.000 [jvhost-fs-pool-0] DEBUG X - y     | <15>jvhost[42]: 12:00:00.000 [jvhost-fs-pool-0] DEBUG X - y
            12:00:00.000 [main] TRACE X - y                 | <15>jvhost[42]: 12:00:00.000 [main] TRACE X - y
            a stack trace line                              | <14>jvhost[42]: a stack trace line
            """)
    void aLogLineBecomesASyslogMessageOfItsSeverity(String line, String datagram) {
        assertEquals(datagram, SyslogOutput.message("jvhost", 42, line));
    }

    @ParameterizedTest(name = "{0} with soft {1}, hard {2}, nr_open {3}")
    @CsvSource(delimiter = '|', nullValues = "null", textBlock = """
            null | 1024    | 20000   | 1048576 | 1000000
            null | 1024    | 20000   | 524288  | 524288
            null | 1000000 | 1000000 | 1048576 | -1
            null | 2000000 | 2000000 | 4194304 | -1
            0    | 1024    | 20000   | 1048576 | -1
            4096 | 1024    | 20000   | 1048576 | 4096
            4096 | 8192    | 20000   | 1048576 | 4096
            """)
    void theOpenFileLimitIsVirtiofsds(Long requested, long soft, long hard, long nrOpen, long target) throws Exception {
        assertEquals(target, OpenFileLimit.target(requested, new Limit(soft, hard), nrOpen));
    }

    @Test
    void anOpenFileLimitAboveNrOpenIsRefused() {
        var e = assertThrows(
                java.io.IOException.class, () -> OpenFileLimit.target(2_000_000L, new Limit(1024, 4096), 1_048_576));
        assertTrue(e.getMessage().contains("cannot be increased above 1048576"), e.getMessage());
    }

    @Test
    void modcapsChangesTheSetInOrder() {
        CapabilityChanges c = new CapabilityChanges.Converter().convert("+sys_admin:-chown:+CAP_CHOWN:-sys_admin");
        Set<Capability> out = c.applyTo(FsCommand.CAPABILITIES);
        assertTrue(out.contains(Capability.CHOWN));
        assertFalse(out.contains(Capability.SYS_ADMIN));
        assertEquals(
                EnumSet.of(Capability.SYS_ADMIN),
                new CapabilityChanges.Converter().convert("+sys_admin").applyTo(Set.of()));
        for (String bad : List.of("", "+", "sys_admin", "+no_such_cap", "+chown::-fowner")) {
            assertThrows(
                    CommandLine.TypeConversionException.class,
                    () -> new CapabilityChanges.Converter().convert(bad),
                    bad);
        }
    }
}
