package io.jvhost.bench.fs;

import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.devices.fs.client.FuseClient.OpenFile;
import io.jvhost.devices.fs.fuse.InitFlags;
import io.jvhost.frontend.GuestDriver;
import java.io.IOException;
import java.time.Duration;

/**
 * One back-end under test, connected: the guest driver (hiprio + one request queue), the FUSE
 * session, and the fixtures every case works on (created in the shared directory by
 * {@link Fixtures} before the back-end is asked anything).
 */
public final class Target implements AutoCloseable {
    /** Guest RAM: room for {@code depth} requests of 1 MiB in flight and their replies. */
    private static final long RAM = 96L << 20;
    /** What Linux 6.x offers that matters here: large requests, READDIRPLUS, parallel requests. */
    static final long INIT_FLAGS = InitFlags.ASYNC_READ
            | InitFlags.BIG_WRITES
            | InitFlags.MAX_PAGES
            | InitFlags.DO_READDIRPLUS
            | InitFlags.PARALLEL_DIROPS
            | InitFlags.ASYNC_DIO;

    final String name;
    final BackendProcess process;
    final GuestDriver driver;
    final FuseClient fuse;
    final FuseClient.Session session;
    final long readFileNode;
    final OpenFile readFile;
    final OpenFile writeFile;
    final long createDir;
    final OpenFile listDir;
    final OpenFile[] listHandles;

    private Target(
            BackendProcess process,
            GuestDriver driver,
            FuseClient fuse,
            FuseClient.Session session,
            long readFileNode,
            OpenFile readFile,
            OpenFile writeFile,
            long createDir,
            OpenFile listDir,
            OpenFile[] listHandles) {
        this.name = process.name();
        this.process = process;
        this.driver = driver;
        this.fuse = fuse;
        this.session = session;
        this.readFileNode = readFileNode;
        this.readFile = readFile;
        this.writeFile = writeFile;
        this.createDir = createDir;
        this.listDir = listDir;
        this.listHandles = listHandles;
    }

    /** Connects to {@code process} (whose shared directory holds the fixtures) and opens them. */
    static Target connect(BackendProcess process, int depth) throws IOException {
        GuestDriver.Options o = new GuestDriver.Options(2, 256, RAM, 0, false, false);
        GuestDriver driver = GuestDriver.connect(process.socket(), o);
        try {
            FuseClient fuse = new FuseClient(driver, Duration.ofSeconds(30));
            FuseClient.Session s = fuse.init(INIT_FLAGS);
            if (s.maxWrite() < Fixtures.MAX_REQUEST) {
                throw new IOException(process.name() + " allows writes of " + s.maxWrite() + " bytes, the bench needs "
                        + Fixtures.MAX_REQUEST);
            }
            long readNode = fuse.lookup(FuseClient.ROOT_ID, Fixtures.READ_FILE);
            OpenFile read = fuse.open(readNode);
            OpenFile write = fuse.create(FuseClient.ROOT_ID, Fixtures.WRITE_FILE);
            long createDir = fuse.lookup(FuseClient.ROOT_ID, Fixtures.CREATE_DIR);
            long listNode = fuse.lookup(FuseClient.ROOT_ID, Fixtures.LIST_DIR);
            OpenFile[] handles = new OpenFile[depth];
            for (int i = 0; i < depth; i++) handles[i] = fuse.opendir(listNode);
            return new Target(
                    process, driver, fuse, s, readNode, read, write, createDir, new OpenFile(listNode, 0), handles);
        } catch (IOException | RuntimeException e) {
            driver.close();
            throw e;
        }
    }

    @Override
    public void close() {
        driver.close(); // virtiofsd exits when its front-end goes
        process.close();
    }
}
