package io.jvhost.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * seccomp(2): a classic BPF program the kernel runs on every system call of every thread of this
 * process (SECCOMP_FILTER_FLAG_TSYNC), for good: filters cannot be removed, only added. The
 * caller must hold no_new_privs (or CAP_SYS_ADMIN). glibc has no wrapper: syscall(2) it is.
 */
public final class Seccomp {
    private Seccomp() {}

    /** x86_64 system call numbers: seccomp(2) and the calls a filter's tests name. */
    private static final long SYS_SECCOMP = 317;

    private static final int SECCOMP_SET_MODE_FILTER = 1, SECCOMP_FILTER_FLAG_TSYNC = 1;

    /** struct seccomp_data's offsets: nr, arch. */
    public static final int DATA_NR = 0, DATA_ARCH = 4;

    /** AUDIT_ARCH_X86_64: what seccomp_data.arch says for a 64-bit x86 system call. */
    public static final int AUDIT_ARCH_X86_64 = 0xC000003E;

    /** The filter's verdicts (SECCOMP_RET_*). */
    public static final int RET_KILL_PROCESS = 0x80000000,
            RET_TRAP = 0x00030000,
            RET_ERRNO = 0x00050000,
            RET_LOG = 0x7FFC0000,
            RET_ALLOW = 0x7FFF0000;

    /** BPF opcodes a filter is written with (linux/bpf_common.h). */
    public static final int BPF_LD_W_ABS = 0x20, BPF_JMP_JEQ_K = 0x15, BPF_JMP_JGE_K = 0x35, BPF_RET_K = 0x06;

    /** One struct sock_filter: jt and jf are the instructions skipped when the test holds, or not. */
    public record Instruction(int code, int jt, int jf, int k) {
        public Instruction {
            if (jt < 0 || jt > 255 || jf < 0 || jf > 255) throw new IllegalArgumentException("jump out of range");
        }
    }

    private static final MethodHandle SYSCALL = Libc.errnoCall(
            "syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS),
            Linker.Option.firstVariadicArg(1));

    /** Whether this machine's system calls are the x86_64 ones the filters are written for. */
    public static boolean supported() {
        return "amd64".equals(System.getProperty("os.arch")) || "x86_64".equals(System.getProperty("os.arch"));
    }

    /** Installs {@code program} on every thread; a thread that cannot take it fails the call. */
    public static void install(List<Instruction> program) throws NativeException {
        if (program.isEmpty() || program.size() > 4096) throw new IllegalArgumentException("BPF program size");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment code = arena.allocate(8L * program.size(), 8);
            for (int i = 0; i < program.size(); i++) {
                Instruction in = program.get(i);
                code.set(JAVA_SHORT, 8L * i, (short) in.code());
                code.set(JAVA_BYTE, 8L * i + 2, (byte) in.jt());
                code.set(JAVA_BYTE, 8L * i + 3, (byte) in.jf());
                code.set(JAVA_INT, 8L * i + 4, in.k());
            }
            MemorySegment prog = arena.allocate(16, 8); // struct sock_fprog: u16 len, pad, pointer
            prog.set(JAVA_SHORT, 0, (short) program.size());
            prog.set(ADDRESS, 8, code);
            MemorySegment st = Libc.capture();
            long r = (long) SYSCALL.invokeExact(
                    st, SYS_SECCOMP, (long) SECCOMP_SET_MODE_FILTER, (long) SECCOMP_FILTER_FLAG_TSYNC, prog);
            if (r < 0) throw Libc.fail("seccomp(SECCOMP_SET_MODE_FILTER, TSYNC)", st);
            // TSYNC: a positive result is the thread that could not be synchronized.
            if (r > 0)
                throw new IllegalStateException(
                        "seccomp(SECCOMP_SET_MODE_FILTER, TSYNC): thread " + r + " cannot take the filter");
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }
}
