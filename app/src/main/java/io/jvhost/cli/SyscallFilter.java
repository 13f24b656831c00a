package io.jvhost.cli;

import io.jvhost.nativeio.Seccomp;
import io.jvhost.nativeio.Seccomp.Instruction;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --seccomp}: the fs daemon's system-call allow-list, as virtiofsd's (src/seccomp.rs),
 * installed on every thread once the daemon listens; a call outside it is killed, logged or
 * trapped as the option says. The list is virtiofsd's plus what the JVM itself calls (thread
 * creation, GC and JIT memory management, signals, class loading from the open jars and the
 * JDK's image, reading /proc, exiting), measured with {@code strace -f -c} over the daemon serving
 * {@code jvhost bench-fs}, a QEMU guest's workload, a migration and its shutdown (see
 * docs/sandbox.md). Not in it: execve, fork-like process creation but threads, kill, ptrace,
 * mount and every namespace or privilege change but the per-thread ones the FUSE layer makes
 * (setfsuid/setfsgid, unshare(CLONE_FS), which alone of unshare's flags passes), new sockets
 * (bind, listen, connect; socket fails: the listening socket and syslog's exist before), module and
 * BPF loading, reboot, and the rest.
 */
final class SyscallFilter {
    private static final Logger LOG = LoggerFactory.getLogger(SyscallFilter.class);

    /** virtiofsd's actions: no filter; kill the process; log the call and let it through; SIGSYS. */
    enum Action {
        NONE,
        KILL,
        LOG,
        TRAP
    }

    private SyscallFilter() {}

    private static final int X32_SYSCALL_BIT = 0x40000000,
            SYS_UNSHARE = 272,
            CLONE_FS = 0x200,
            SYS_SOCKET = 41,
            EACCES = 13;

    /** x86_64 numbers (asm/unistd_64.h) of the allowed calls, by what needs them. */
    private static final String ALLOWED = """
            # files: the FUSE requests, class loading, /proc
            read=0 write=1 readv=19 writev=20 pread64=17 pwrite64=18 preadv=295 pwritev=296 preadv2=327
            pwritev2=328 close=3 close_range=436 openat=257 openat2=437 open_by_handle_at=304
            name_to_handle_at=303 lseek=8 fstat=5 newfstatat=262 statx=332 fstatfs=138 statfs=137
            readlinkat=267 getdents64=217 fcntl=72 dup=32 dup2=33 dup3=292 flock=73 fsync=74 fdatasync=75
            syncfs=306 ftruncate=77 fallocate=285 copy_file_range=326 splice=275 vmsplice=278 tee=276
            pipe2=293 mkdirat=258 mknodat=259 symlinkat=266 linkat=265 unlinkat=263 renameat=264
            renameat2=316 fchmod=91 fchmodat=268 fchownat=260 utimensat=280 fgetxattr=193 fsetxattr=190
            flistxattr=196 fremovexattr=199 getxattr=191 setxattr=188 listxattr=194 removexattr=197
            lgetxattr=192 lsetxattr=189 llistxattr=195 lremovexattr=198
            # the same by path, as the JDK's file code calls them (the socket file's removal on SIGTERM)
            stat=4 lstat=6 access=21 faccessat=269 faccessat2=439 readlink=89 unlink=87 rmdir=84 mkdir=83
            rename=82
            # acting as the guest's caller (per thread), reading one's own identity
            umask=95 setfsuid=122 setfsgid=123 setresuid=117 setresgid=119 setgroups=116 capget=125
            capset=126 getuid=102 geteuid=107 getgid=104 getegid=108 getgroups=115 getresuid=118
            getresgid=120
            # the vhost-user connection (accepted, messages with descriptors), syslog's socket
            accept=43 accept4=288 recvmsg=47 sendmsg=46 recvfrom=45 sendto=44 shutdown=48 getsockopt=55
            setsockopt=54 getsockname=51 getpeername=52 socketpair=53
            # waiting
            epoll_create1=291 epoll_ctl=233 epoll_wait=232 epoll_pwait=281 epoll_pwait2=441 eventfd2=290
            poll=7 ppoll=271 select=23 pselect6=270
            # memory: guest memory mappings, the heap, the code cache
            mmap=9 munmap=11 mprotect=10 mremap=25 madvise=28 mincore=27 msync=26 brk=12 membarrier=324
            memfd_create=319
            # threads, time
            futex=202 futex_waitv=449 set_robust_list=273 get_robust_list=274 rseq=334 clone=56 clone3=435
            exit=60 exit_group=231 set_tid_address=218 gettid=186 getpid=39 getppid=110 tgkill=234 sched_yield=24
            sched_getaffinity=204 sched_getparam=143 sched_getscheduler=145 nanosleep=35
            clock_nanosleep=230 clock_gettime=228 clock_getres=229 gettimeofday=96 time=201
            # signals, the JVM's bookkeeping
            rt_sigaction=13 rt_sigprocmask=14 rt_sigreturn=15 rt_sigtimedwait=128 sigaltstack=131
            restart_syscall=219 prctl=157 arch_prctl=158 getrlimit=97 setrlimit=160 prlimit64=302
            getrusage=98 sysinfo=99 uname=63 getcwd=79 getrandom=318 ioctl=16
            """;

    /** The allowed calls by name, with their numbers. */
    static final Map<String, Integer> ALLOWED_CALLS = parse(ALLOWED);

    /**
     * Installs the filter for {@code action} on every thread of this process (nothing for none).
     * Needs no_new_privs, which the privilege drop has set.
     */
    static void install(Action action) throws IOException {
        if (action == Action.NONE) return;
        if (!Seccomp.supported())
            throw new IOException(
                    "--seccomp " + Spelled.spelling(action) + ": the allow-list is written for x86_64, not "
                            + System.getProperty("os.arch") + " (use --seccomp none)");
        Seccomp.install(program(action));
        LOG.debug("seccomp: {} system calls allowed, others: {}", ALLOWED_CALLS.size(), Spelled.spelling(action));
    }

    /**
     * The BPF program: a call of another architecture or the x32 ABI, or one not in the list,
     * gets {@code action}; unshare only with CLONE_FS; socket fails with EACCES.
     */
    static List<Instruction> program(Action action) {
        int otherwise = switch (action) {
            case KILL -> Seccomp.RET_KILL_PROCESS;
            case LOG -> Seccomp.RET_LOG;
            case TRAP -> Seccomp.RET_TRAP;
            case NONE -> throw new IllegalArgumentException("no filter for none");
        };
        List<Instruction> p = new ArrayList<>();
        p.add(load(Seccomp.DATA_ARCH));
        p.add(jumpIfEqual(Seccomp.AUDIT_ARCH_X86_64, 1, 0));
        p.add(ret(otherwise));
        p.add(load(Seccomp.DATA_NR));
        p.add(new Instruction(Seccomp.BPF_JMP_JGE_K, 0, 1, X32_SYSCALL_BIT));
        p.add(ret(otherwise));
        // unshare(CLONE_FS) and nothing else: a per-thread umask; no namespace.
        p.add(jumpIfEqual(SYS_UNSHARE, 0, 6));
        p.add(load(16)); // args[0], low half
        p.add(jumpIfEqual(CLONE_FS, 0, 3));
        p.add(load(20)); // args[0], high half
        p.add(jumpIfEqual(0, 0, 1));
        p.add(ret(Seccomp.RET_ALLOW));
        p.add(ret(otherwise));
        // socket(2) fails (EACCES) rather than kill: the JDK's network library, loaded on first use
        // of some classes (SecureRandom's providers), probes IPv4 and IPv6 with a socket and takes
        // a failure as "not available". The daemon makes no socket once it listens.
        p.add(jumpIfEqual(SYS_SOCKET, 0, 1));
        p.add(ret(Seccomp.RET_ERRNO | EACCES));
        for (int nr : new TreeSet<>(ALLOWED_CALLS.values())) {
            p.add(jumpIfEqual(nr, 0, 1));
            p.add(ret(Seccomp.RET_ALLOW));
        }
        p.add(ret(otherwise));
        return Collections.unmodifiableList(p);
    }

    private static Instruction load(int offset) {
        return new Instruction(Seccomp.BPF_LD_W_ABS, 0, 0, offset);
    }

    private static Instruction jumpIfEqual(int value, int ifEqual, int otherwise) {
        return new Instruction(Seccomp.BPF_JMP_JEQ_K, ifEqual, otherwise, value);
    }

    private static Instruction ret(int verdict) {
        return new Instruction(Seccomp.BPF_RET_K, 0, 0, verdict);
    }

    private static Map<String, Integer> parse(String table) {
        Map<String, Integer> out = new TreeMap<>();
        for (String line : table.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            for (String entry : line.trim().split("\\s+")) {
                int eq = entry.indexOf('=');
                out.put(entry.substring(0, eq), Integer.parseInt(entry.substring(eq + 1)));
            }
        }
        return Collections.unmodifiableMap(out);
    }
}
