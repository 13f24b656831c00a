package io.jvhost.virtqueue;

import io.jvhost.memory.DirtyBitmap;
import io.jvhost.memory.DirtyLog;
import io.jvhost.memory.Memfd;
import io.jvhost.memory.MemoryTable;
import io.jvhost.memory.RegionDescriptor;
import java.util.ArrayList;
import java.util.List;

/**
 * One process playing both sides, as the project's tests do: a memfd of "guest RAM" the
 * front-end maps, the back-end's memory table mapping it again, a dirty log, a
 * {@link DriverQueue} on the front-end's view and a started {@link SplitQueue} on the back-end's.
 */
final class RingFixture implements AutoCloseable {
    static final long RAM_GPA = 0x4000_0000L;
    static final long RAM_SIZE = 4 << 20;
    static final long RING_AREA = 1 << 20;

    final Memfd ram;
    final Memfd logFile;
    final MemoryTable table = new MemoryTable();
    final DirtyLog log = new DirtyLog();
    final DriverMemory driverMemory;
    final BufferAllocator buffers;
    final DriverQueue driver;
    final SplitQueue device;

    RingFixture(int size, boolean eventIdx, int base) throws Exception {
        this(size, eventIdx, base, false);
    }

    RingFixture(int size, boolean eventIdx, int base, boolean logUsedRing) throws Exception {
        ram = new Memfd("guest-ram", RAM_SIZE);
        long logBytes = (RAM_GPA + RAM_SIZE) / DirtyBitmap.PAGE_SIZE / 8;
        logFile = new Memfd("dirty-log", logBytes);
        table.replaceAll(List.of(new RegionDescriptor(RAM_GPA, RAM_SIZE, ram.userAddr(), 0)), List.of(ram.fd()));
        log.setBase(logFile.fd(), 0, logBytes);
        driverMemory = new DriverMemory(ram.view(), RAM_GPA, ram.userAddr());
        buffers = new BufferAllocator(driverMemory.slice(RING_AREA, RAM_SIZE - RING_AREA));
        driver = new DriverQueue(size, driverMemory.slice(0, RING_AREA), buffers, eventIdx, base);
        device = new SplitQueue(table, log);
        device.setSize(size);
        device.setBase(base);
        device.setEventIdx(eventIdx);
        device.setAddresses(driver.addresses(logUsedRing));
        device.start();
    }

    /** The front-end's harvest of the log: guest-physical page addresses, cleared as read. */
    List<Long> takeDirtyPages() {
        List<Long> pages = new ArrayList<>();
        log.bitmap().collectAndClear(pages::add);
        return pages;
    }

    static long page(long gpa) {
        return gpa & ~(DirtyBitmap.PAGE_SIZE - 1);
    }

    @Override
    public void close() {
        table.close();
        log.close();
        logFile.close();
        ram.close();
    }
}
