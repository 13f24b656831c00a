package io.jvhost.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.nativeio.Seccomp;
import io.jvhost.nativeio.Seccomp.Instruction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The daemon's allow-list: its BPF program, checked by running it here as the kernel would, and
 * installed for real in a child JVM ({@link SeccompProbe}) that then makes a forbidden call.
 */
class SyscallFilterTest {
    /** The numbers are x86_64's: the kernel headers say so where they are installed. */
    @Test
    void everyAllowedNumberIsTheKernelsOne() throws IOException {
        Path header = Path.of("/usr/include/x86_64-linux-gnu/asm/unistd_64.h");
        Assumptions.assumeTrue(Files.exists(header), "no kernel headers to compare with");
        Map<String, Integer> kernel = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^#define __NR_(\\w+) (\\d+)$").matcher(Files.readString(header));
        while (m.find()) kernel.put(m.group(1), Integer.parseInt(m.group(2)));
        SyscallFilter.ALLOWED_CALLS.forEach((name, nr) -> assertEquals(kernel.get(name), nr, name));
    }

    @Test
    void theDangerousCallsAreNotInTheList() {
        for (String call : List.of(
                "execve",
                "execveat",
                "ptrace",
                "mount",
                "umount2",
                "pivot_root",
                "chroot",
                "setns",
                "kill",
                "socket",
                "connect",
                "bind",
                "listen",
                "init_module",
                "bpf",
                "reboot",
                "process_vm_writev",
                "keyctl",
                "fork",
                "vfork")) assertFalse(SyscallFilter.ALLOWED_CALLS.containsKey(call), call);
    }

    /** Runs the program on one system call as the kernel's BPF interpreter does: the verdict. */
    private static int verdict(List<Instruction> p, int arch, int nr, long arg0) {
        int a = 0;
        for (int pc = 0; pc < p.size(); pc++) {
            Instruction in = p.get(pc);
            switch (in.code()) {
                case Seccomp.BPF_LD_W_ABS ->
                    a = switch (in.k()) {
                        case Seccomp.DATA_NR -> nr;
                        case Seccomp.DATA_ARCH -> arch;
                        case 16 -> (int) arg0;
                        case 20 -> (int) (arg0 >>> 32);
                        default -> throw new AssertionError("load of " + in.k());
                    };
                case Seccomp.BPF_JMP_JEQ_K -> pc += a == in.k() ? in.jt() : in.jf();
                case Seccomp.BPF_JMP_JGE_K -> pc += Integer.compareUnsigned(a, in.k()) >= 0 ? in.jt() : in.jf();
                case Seccomp.BPF_RET_K -> {
                    return in.k();
                }
                default -> throw new AssertionError("opcode " + in.code());
            }
        }
        throw new AssertionError("ran off the end");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"KILL, -2147483648", "LOG, 2147221504", "TRAP, 196608"})
    void allowedCallsPassAndOthersGetTheAction(SyscallFilter.Action action, int expected) {
        List<Instruction> p = SyscallFilter.program(action);
        int x86 = Seccomp.AUDIT_ARCH_X86_64;
        for (int nr : SyscallFilter.ALLOWED_CALLS.values()) assertEquals(Seccomp.RET_ALLOW, verdict(p, x86, nr, 0));
        assertEquals(expected, verdict(p, x86, 101, 0), "ptrace");
        assertEquals(expected, verdict(p, x86, 165, 0), "mount");
        assertEquals(expected, verdict(p, x86, 59, 0), "execve");
        assertEquals(expected, verdict(p, x86, 0x40000000, 0), "x32 read");
        assertEquals(expected, verdict(p, 0x40000003, 3, 0), "i386 close");
        assertEquals(Seccomp.RET_ALLOW, verdict(p, x86, 272, 0x200), "unshare(CLONE_FS)");
        assertEquals(expected, verdict(p, x86, 272, 0x200 | 0x10000000), "unshare(CLONE_FS|CLONE_NEWUSER)");
        assertEquals(expected, verdict(p, x86, 272, 0x20000), "unshare(CLONE_NEWNS)");
        assertEquals(expected, verdict(p, x86, 272, 0x200 | 1L << 32), "unshare, high bits");
        assertEquals(Seccomp.RET_ERRNO | 13, verdict(p, x86, 41, 2), "socket: EACCES");
    }

    /** A child JVM: installs the daemon's filter, works, then makes {@code call}; its exit status and output. */
    private static ProbeResult probe(String action, String call) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(
                        java,
                        "--enable-native-access=ALL-UNNAMED",
                        "-XX:+UseSerialGC",
                        "-cp",
                        System.getProperty("java.class.path"),
                        SeccompProbe.class.getName(),
                        action,
                        call)
                .redirectErrorStream(true)
                .start();
        var out = new java.io.ByteArrayOutputStream();
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                p.getInputStream().transferTo(out);
            } catch (IOException e) {
                // the process was ended
            }
        });
        // A trapped call leaves HotSpot hanging in its SIGSYS handling: the probe is ended then.
        boolean exited = p.waitFor(20, TimeUnit.SECONDS);
        if (!exited) p.destroyForcibly().waitFor();
        reader.join();
        return new ProbeResult(exited ? p.exitValue() : -1, out.toString());
    }

    private record ProbeResult(int status, String output) {}

    @Test
    void killEndsTheProcessAtAForbiddenCallOfAnyThread() throws Exception {
        ProbeResult r = probe("kill", "mount");
        assertTrue(r.output().contains("filter installed; the JVM works"), r.output());
        assertFalse(r.output().contains("returned"), r.output());
        assertEquals(128 + 31, r.status(), "killed by SIGSYS: " + r.output());
        r = probe("kill", "ptrace");
        assertEquals(128 + 31, r.status(), "killed by SIGSYS: " + r.output());
    }

    @Test
    void anAllowedCallGoesThroughAndTheJvmExitsNormally() throws Exception {
        ProbeResult r = probe("kill", "getpid");
        assertEquals(0, r.status(), r.output());
        assertTrue(r.output().contains("getpid returned"), r.output());
    }

    @Test
    void logLetsTheCallThroughAndTrapSignalsIt() throws Exception {
        // mount(NULL, ...) through: it fails on its arguments (ptrace would really trace).
        ProbeResult log = probe("log", "mount");
        assertEquals(0, log.status(), log.output());
        assertTrue(log.output().contains("mount returned -1"), log.output());
        ProbeResult trap = probe("trap", "mount");
        assertNotEquals(0, trap.status(), trap.output());
        assertFalse(trap.output().contains("mount returned"), trap.output());
    }
}
