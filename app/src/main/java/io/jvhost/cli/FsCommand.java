package io.jvhost.cli;

import io.jvhost.backend.StatefulDevice;
import io.jvhost.devices.fs.FsDevice;
import io.jvhost.devices.fs.FuseServer;
import io.jvhost.devices.fs.StateFormat;
import io.jvhost.devices.fs.idmap.GuestIds;
import io.jvhost.devices.fs.idmap.IdMapEntry;
import io.jvhost.devices.fs.passthrough.CachePolicy;
import io.jvhost.devices.fs.passthrough.InodeFileHandles;
import io.jvhost.devices.fs.passthrough.MigrationConfig;
import io.jvhost.devices.fs.passthrough.MigrationMode;
import io.jvhost.devices.fs.passthrough.MigrationOnError;
import io.jvhost.devices.fs.passthrough.PassthroughConfig;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import io.jvhost.devices.fs.passthrough.XattrMap;
import io.jvhost.nativeio.Capability;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code jvhost fs}: the virtio-fs back-end for QEMU's vhost-user-fs-pci, a drop-in for
 * virtiofsd where the flags mean the same thing (--socket-path, --fd, --shared-dir, --tag,
 * --cache, --xattr, --print-capabilities, --log-level).
 *
 * <p>{@link #commandLine} gives the same command to a program that serves this device inside one
 * of its own (a decorator around it), so that it parses, checks and drops privileges exactly as
 * {@code jvhost fs} does.
 */
@Command(
        name = "fs",
        mixinStandardHelpOptions = true,
        description = "Serve a directory as a virtio-fs device (QEMU: -device vhost-user-fs-pci).")
public final class FsCommand implements Callable<Integer> {
    /** What is served in place of the device: the device itself for {@code jvhost fs}. */
    private final UnaryOperator<StatefulDevice> served;

    FsCommand() {
        this(UnaryOperator.identity());
    }

    private FsCommand(UnaryOperator<StatefulDevice> served) {
        this.served = served;
    }

    /**
     * The {@code jvhost fs} command, serving {@code served.apply(device)} instead of the virtio-fs
     * device its options describe (the device is warmed up and closed as usual); run it with
     * {@link CommandLine#execute}.
     */
    public static CommandLine commandLine(UnaryOperator<StatefulDevice> served) {
        return new CommandLine(new FsCommand(served));
    }

    @Mixin
    DaemonOptions daemon = new DaemonOptions();

    @Option(names = "--shared-dir", paramLabel = "DIR", description = "The directory the guest sees.")
    Path sharedDir;

    @Option(
            names = "--tag",
            paramLabel = "TAG",
            description =
                    "Gives the device a config space with this tag and offers PROTOCOL_F_CONFIG, as virtiofsd's --tag; "
                            + "leave it out for QEMU, which sets its own from -device ...,tag= and warns about the feature.")
    Optional<String> tag = Optional.empty();

    @Option(
            names = "--num-request-queues",
            paramLabel = "N",
            defaultValue = "1",
            description = "Request queues besides the hiprio queue (default: ${DEFAULT-VALUE}).")
    int requestQueues;

    @Option(
            names = "--thread-pool-size",
            paramLabel = "N",
            defaultValue = "0",
            description =
                    "Threads handling requests; 0 handles them on each queue's own thread (default: ${DEFAULT-VALUE}).")
    int threadPoolSize;

    @Option(
            names = "--cache",
            paramLabel = "POLICY",
            defaultValue = "auto",
            converter = Spelled.Cache.class,
            completionCandidates = Spelled.Cache.class,
            description = "How long the guest caches names and attributes: ${COMPLETION-CANDIDATES} "
                    + "(not at all, 1 s, a day, a day but file data uncached; default: ${DEFAULT-VALUE}).")
    CachePolicy cache;

    @Option(names = "--readonly", description = "Share the directory read-only: every change answers EROFS.")
    boolean readOnly;

    @Option(
            names = "--no-readdirplus",
            description = "Do not offer READDIRPLUS (not offered with --cache never either, as in virtiofsd).")
    boolean noReaddirplus;

    @Option(
            names = "--allow-mmap",
            description = "Let the guest mmap files of --cache never or metadata (shared mappings), as virtiofsd's: "
                    + "only for a directory no one else changes.")
    boolean allowMmap;

    @Option(
            names = "--allow-direct-io",
            description = "Pass the guest's O_DIRECT on (cleared by default, as in virtiofsd).")
    boolean allowDirectIo;

    @Option(
            names = "--preserve-noatime",
            description = "Pass the guest's O_NOATIME on (cleared by default, as in virtiofsd: it fails with EPERM "
                    + "for a caller who does not own the file).")
    boolean preserveNoatime;

    @Option(
            names = "--inode-file-handles",
            paramLabel = "MODE",
            defaultValue = "prefer",
            converter = Spelled.InodeHandles.class,
            completionCandidates = Spelled.InodeHandles.class,
            description = "How looked-up inodes are kept, as virtiofsd: ${COMPLETION-CANDIDATES} (an O_PATH "
                    + "descriptor each; a file handle where the file system has them; file handles only). "
                    + "Handles let the guest look up more files than the fd limit (default: ${DEFAULT-VALUE}).")
    InodeFileHandles inodeFileHandles;

    @Option(
            names = "--migration-mode",
            paramLabel = "MODE",
            defaultValue = "find-paths",
            converter = Spelled.Mode.class,
            completionCandidates = Spelled.Mode.class,
            description = "How the state names files for the destination: ${COMPLETION-CANDIDATES} "
                    + "(default: ${DEFAULT-VALUE}).")
    MigrationMode migrationMode;

    @Option(
            names = "--migration-on-error",
            paramLabel = "ACTION",
            defaultValue = "abort",
            converter = Spelled.OnError.class,
            completionCandidates = Spelled.OnError.class,
            description = "A file the destination cannot reopen: ${COMPLETION-CANDIDATES} (the migration fails, "
                    + "that file answers EIO; default: ${DEFAULT-VALUE}).")
    MigrationOnError migrationOnError;

    @Option(
            names = "--migration-confirm-paths",
            description = "At switch-over, re-check that each saved path still names its file, and save the path a "
                    + "file moved to on the host (costs one lookup per inode in the downtime; find-paths only).")
    boolean migrationConfirmPaths;

    @Option(
            names = "--migration-state-format",
            paramLabel = "FORMAT",
            defaultValue = "jvhost",
            converter = Spelled.Format.class,
            completionCandidates = Spelled.Format.class,
            description = "The format this source saves its state in: ${COMPLETION-CANDIDATES} (virtiofsd's, for a "
                    + "virtiofsd destination; a destination reads both; default: ${DEFAULT-VALUE}).")
    StateFormat migrationStateFormat;

    @Option(names = "--xattr", description = "Serve extended attributes (off by default, as in virtiofsd).")
    boolean xattr;

    @Option(
            names = "--posix-acl",
            description = "POSIX ACLs, as virtiofsd's (implies --xattr): the guest checks them, system.posix_acl_* "
                    + "are served (else refused), new files get the parent's default ACL; a guest without "
                    + "FUSE_POSIX_ACL cannot mount.")
    boolean posixAcl;

    @Option(
            names = "--xattrmap",
            paramLabel = "RULES",
            converter = XattrMapConverter.class,
            description = "Translate xattr names between guest and host, as virtiofsd's (implies --xattr), e.g. "
                    + "':map::user.virtiofs.:' (see docs/virtiofsd-compat.md).")
    XattrMap xattrMap;

    @Option(
            names = "--security-label",
            description = "Set the security label (e.g. SELinux's) the guest sends with each new file on it before "
                    + "the guest sees it, as virtiofsd's (implies --xattr); a guest without FUSE_SECURITY_CTX "
                    + "cannot mount.")
    boolean securityLabel;

    @Option(
            names = "--deny-privileged-files",
            description = "Refuse to let the guest make privileged files: set-user-ID and set-group-ID bits on "
                    + "non-directories (stripped from new files, EPERM for chmod), such files handed to root (EPERM), "
                    + "file capabilities (security.capability, EPERM). Off by default, as in virtiofsd.")
    boolean denyPrivilegedFiles;

    @Option(
            names = "--translate-uid",
            paramLabel = "TYPE:A:B:N",
            converter = IdMapOption.Converter.class,
            description = "Translate uids between guest and host in the daemon, as virtiofsd's (repeatable): "
                    + "guest:G:H:N (guest uids G.. act as host uids H..), host:H:G:N (host uids H.. shown as G..), "
                    + "map:G:H:N (both ways), squash-guest:G:H:N (N guest uids all act as host uid H), "
                    + "squash-host:H:G:N (N host uids all shown as G), forbid-guest:G:N (EPERM for a request acting "
                    + "as, or giving a file, one of them). Ids no entry covers pass unchanged.")
    List<IdMapEntry> translateUid = new ArrayList<>();

    @Option(
            names = "--translate-gid",
            paramLabel = "TYPE:A:B:N",
            converter = IdMapOption.Converter.class,
            description = "The same as --translate-uid, for gids (and the request's supplementary groups).")
    List<IdMapEntry> translateGid = new ArrayList<>();

    @Option(
            names = "--rlimit-nofile",
            paramLabel = "N",
            description = "Limit on open file descriptors, as virtiofsd's: 0 leaves it unchanged "
                    + "(default: min(1000000, /proc/sys/fs/nr_open), or the hard limit if that cannot be set).")
    Long rlimitNofile;

    @Option(
            names = "--modcaps",
            paramLabel = "CHANGES",
            converter = CapabilityChanges.Converter.class,
            description = "Change the capabilities kept, as virtiofsd's, e.g. +sys_admin:-chown.")
    CapabilityChanges modcaps = CapabilityChanges.NONE;

    @Option(
            names = "--sandbox",
            paramLabel = "MODE",
            defaultValue = "none",
            converter = Spelled.SandboxMode.class,
            completionCandidates = Spelled.SandboxMode.class,
            description = "Confine the daemon, as virtiofsd: ${COMPLETION-CANDIDATES} (new mount, pid and net "
                    + "namespaces where only the shared directory is writable and little else exists; the same view "
                    + "by chroot; none). Set up by the ./jvhost launcher before the JVM starts "
                    + "(default: ${DEFAULT-VALUE}; jvhost-virtiofsd's: namespace).")
    Sandbox.Mode sandbox;

    @Option(
            names = "--uid-map",
            paramLabel = ":INSIDE:OUTSIDE:COUNT:",
            converter = UserNamespaceMap.Converter.class,
            description = "For an unprivileged user's --sandbox namespace, as virtiofsd's (repeatable): COUNT host "
                    + "uids from OUTSIDE on are uids from INSIDE on in the daemon's user namespace (written by the "
                    + "launcher; more than the user's own uid through newuidmap and /etc/subuid). Without it the "
                    + "user's uid maps to itself.")
    List<UserNamespaceMap> uidMap = new ArrayList<>();

    @Option(
            names = "--gid-map",
            paramLabel = ":INSIDE:OUTSIDE:COUNT:",
            converter = UserNamespaceMap.Converter.class,
            description = "The same as --uid-map, for gids (newgidmap, /etc/subgid).")
    List<UserNamespaceMap> gidMap = new ArrayList<>();

    @Option(
            names = "--seccomp",
            paramLabel = "ACTION",
            defaultValue = "none",
            converter = Spelled.SeccompAction.class,
            completionCandidates = Spelled.SeccompAction.class,
            description = "A system call outside the daemon's allow-list, as virtiofsd: ${COMPLETION-CANDIDATES} "
                    + "(no filter; kill the process; log it and let it through; SIGSYS) "
                    + "(default: ${DEFAULT-VALUE}; jvhost-virtiofsd's: kill).")
    SyscallFilter.Action seccomp;

    @Option(
            names = "--announce-submounts",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description = "Tell the guest which directories are mount points (FUSE_ATTR_SUBMOUNT), so that each file "
                    + "system inside the shared directory gets a device number of its own there and inode numbers do "
                    + "not collide; --no-announce-submounts hides the mounts (default: announce, as virtiofsd).")
    boolean announceSubmounts;

    @Option(
            names = "--writeback",
            description = "Offer the guest's writeback cache (FUSE_WRITEBACK_CACHE), as virtiofsd's: files open "
                    + "read-write and without O_APPEND on the host; only for a directory no one else changes.")
    boolean writeback;

    @Option(
            names = "--killpriv-v2",
            negatable = true,
            description = "Offer FUSE_HANDLE_KILLPRIV_V2, as virtiofsd's: the guest leaves clearing set-user-ID and "
                    + "set-group-ID on write, truncation and open with O_TRUNC to the daemon, which makes those calls "
                    + "without CAP_FSETID (default: off).")
    boolean killprivV2;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /**
     * virtiofsd's set: act as the guest's caller (SETUID, SETGID: setfsuid, setfsgid, the
     * request's groups), do what the guest's root may (CHOWN, DAC_OVERRIDE, FOWNER, FSETID,
     * MKNOD, SETFCAP), plus DAC_READ_SEARCH for open_by_handle_at. That one is kept whatever
     * --migration-mode says: a destination restores by file handle when the source's state asks
     * for it, and for files the guest holds open after they were unlinked no path exists; it
     * adds nothing DAC_OVERRIDE does not already allow but opening by handle, and handles come
     * only from a migration state, checked to lie inside the shared directory.
     */
    static final Set<Capability> CAPABILITIES = Set.of(
            Capability.CHOWN,
            Capability.DAC_OVERRIDE,
            Capability.DAC_READ_SEARCH,
            Capability.FOWNER,
            Capability.FSETID,
            Capability.SETGID,
            Capability.SETUID,
            Capability.MKNOD,
            Capability.SETFCAP);

    @Override
    public Integer call() throws Exception {
        daemon.applyLogLevel();
        if (daemon.printCapabilities) {
            // Spec "Back-end program conventions" (vhost-user.json): virtio-fs type and features.
            System.out.println(
                    "{\n  \"type\": \"fs\",\n  \"features\": [\n    \"migrate-precopy\",\n    \"separate-options\"\n  ]\n}");
            return 0;
        }
        if (daemon.endpoint == null)
            throw new ParameterException(spec.commandLine(), "one of --socket-path or --fd is required");
        if (sharedDir == null) throw new ParameterException(spec.commandLine(), "--shared-dir is required");
        GuestIds guestIds = IdMapOption.guestIds(translateUid, translateGid, spec);
        // As virtiofsd: the ACLs the guest sets name guest ids the host would read as its own.
        if (posixAcl && !translateUid.isEmpty())
            throw new ParameterException(
                    spec.commandLine(),
                    "--translate-uid: cannot be used with --posix-acl (translating ids would break POSIX ACLs)");
        if (posixAcl && !translateGid.isEmpty())
            throw new ParameterException(
                    spec.commandLine(),
                    "--translate-gid: cannot be used with --posix-acl (translating ids would break POSIX ACLs)");
        if (migrationConfirmPaths && migrationMode != MigrationMode.FIND_PATHS)
            throw new ParameterException(
                    spec.commandLine(),
                    "--migration-confirm-paths cannot be used with --migration-mode=file-handles (it is unnecessary)");
        // In a sandbox, the shared directory as the daemon sees it there.
        Path shared = Sandbox.sharedDir(sandbox, sharedDir, System.getenv(), spec);
        Sandbox.checkUserNamespace(sandbox, uidMap, gidMap, System.getenv(), spec);
        if (!Files.isDirectory(shared))
            throw new ParameterException(spec.commandLine(), "--shared-dir " + sharedDir + " is not a directory");
        // Once, in the image that still may raise the hard limit (the restart keeps it).
        if (System.getenv(PrivilegeDrop.RESTARTED) == null) OpenFileLimit.apply(rlimitNofile);
        daemon.reducePrivileges(modcaps.applyTo(CAPABILITIES), spec);
        PassthroughConfig config = new PassthroughConfig(
                cache,
                xattr || posixAcl || securityLabel || xattrMap != null,
                true,
                denyPrivilegedFiles,
                inodeFileHandles,
                cache != CachePolicy.NEVER && !noReaddirplus,
                allowMmap,
                allowDirectIo,
                preserveNoatime,
                readOnly,
                posixAcl,
                securityLabel,
                xattrMap,
                announceSubmounts,
                writeback,
                killprivV2,
                guestIds);
        try (PassthroughFs fs = PassthroughFs.open(
                        shared, config, new MigrationConfig(migrationMode, migrationOnError, migrationConfirmPaths));
                FsDevice device =
                        new FsDevice(tag, requestQueues, new FuseServer(fs), threadPoolSize, migrationStateFormat)) {
            daemon.serve(
                    served.apply(device),
                    spec,
                    () -> SyscallFilter.install(seccomp),
                    () -> warmUp(config, device::migrating));
        }
        return 0;
    }

    /**
     * Once listening, warms the migration code up ({@link #warmUpStatePath}), and again after a
     * migration of the served device it gave way to ({@link WarmUpSchedule}).
     */
    private void warmUp(PassthroughConfig config, BooleanSupplier migrating) {
        WarmUpSchedule.run(
                migrating, WarmUpSchedule.QUIET, WarmUpSchedule.TIMES, () -> warmUpStatePath(config, migrating));
    }

    /**
     * Runs the state save and load code on devices of its own over the same directory (the
     * served one may have a front-end by then), so a first migration does not pay for cold code
     * in the VM's downtime, and neither does the start: the state path on the directory's real
     * entries ({@link FsDevice#warmUpStatePath}), then one whole migration through the session
     * code ({@link MigrationRehearsal}). Both give way ({@code giveWay}) to a migration of the
     * served device. True if both ran to their end.
     */
    private boolean warmUpStatePath(PassthroughConfig config, BooleanSupplier giveWay) {
        long started = System.nanoTime();
        MigrationConfig migration =
                new MigrationConfig(migrationMode, migrationOnError, migrationConfirmPaths).unreported();
        try (PassthroughFs fs = PassthroughFs.open(sharedDir, config, migration);
                FsDevice device = new FsDevice(tag, 1, new FuseServer(fs), 0, migrationStateFormat)) {
            device.warmUpStatePath(giveWay);
        } catch (IOException | RuntimeException e) {
            // Not a static logger: that would read the log level before --log-level sets it.
            LoggerFactory.getLogger(FsCommand.class).debug("state path warm-up: {}", e.toString());
        }
        if (giveWay.getAsBoolean()) return false;
        try (PassthroughFs a = PassthroughFs.open(sharedDir, config, migration);
                PassthroughFs b = PassthroughFs.open(sharedDir, config, migration);
                FsDevice source = new FsDevice(tag, 1, new FuseServer(a), 0, migrationStateFormat);
                FsDevice destination = new FsDevice(tag, 1, new FuseServer(b), 0, migrationStateFormat)) {
            if (!source.canMigrate()) return true;
            LoggerFactory.getLogger(FsCommand.class)
                    .info(
                            "migration rehearsal: an in-process migration between two devices of this daemon's own follows");
            if (giveWay.getAsBoolean()) return false; // a real migration began: the CPU is its
            int kept = MigrationRehearsal.run(source, destination, rootNames(), giveWay);
            LoggerFactory.getLogger(FsCommand.class)
                    .info(
                            "migration rehearsal: done in {} ms ({} nodes moved)",
                            (System.nanoTime() - started) / 1_000_000,
                            kept);
            return !giveWay.getAsBoolean(); // its ring cycles stop early without a word
        } catch (IOException | RuntimeException e) {
            LoggerFactory.getLogger(FsCommand.class)
                    .info("migration rehearsal: ended early ({}); a first migration may take longer", e.toString());
            return !giveWay.getAsBoolean();
        }
    }

    /** Names in the shared directory's root, a few, for the rehearsal's lookups. */
    private List<String> rootNames() {
        try (java.util.stream.Stream<Path> s = Files.list(sharedDir)) {
            return s.limit(64).map(p -> p.getFileName().toString()).toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            return List.of();
        }
    }
}
