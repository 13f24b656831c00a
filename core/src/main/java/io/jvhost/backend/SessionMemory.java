package io.jvhost.backend;

import io.jvhost.memory.DirtyLog;
import io.jvhost.memory.GuestMemoryException;
import io.jvhost.memory.MemoryTable;
import io.jvhost.memory.RegionDescriptor;
import io.jvhost.nativeio.NativeException;
import io.jvhost.protocol.FrontendMessage.AddMemReg;
import io.jvhost.protocol.FrontendMessage.RemMemReg;
import io.jvhost.protocol.FrontendMessage.SetLogBase;
import io.jvhost.protocol.FrontendMessage.SetMemTable;
import io.jvhost.protocol.MemoryRegionDescriptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guest memory and the dirty log a front-end shares with the session (SET_MEM_TABLE,
 * ADD/REM_MEM_REG, SET_LOG_BASE). Every message's fds are closed once applied or refused.
 */
final class SessionMemory implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SessionMemory.class);

    private final MemoryTable table;
    private final DirtyLog log;
    private final Rings rings;

    SessionMemory(MemoryTable table, DirtyLog log, Rings rings) {
        this.table = table;
        this.log = log;
        this.rings = rings;
    }

    int maxSlots() {
        return table.maxSlots();
    }

    void setTable(SetMemTable s) throws RequestRejected {
        try {
            change(() -> table.replaceAll(
                    s.regions().stream().map(SessionMemory::toRegion).toList(), s.fds()));
            LOG.info("memory table: {} region(s)", s.regions().size());
        } finally {
            s.closeFds(); // mapped (or refused): the fds themselves are no longer needed
        }
    }

    void add(AddMemReg a) throws RequestRejected {
        try {
            change(() -> table.add(toRegion(a.region()), a.fd()));
            LOG.info("added memory region {}", a.region());
        } finally {
            a.fd().close();
        }
    }

    void remove(RemMemReg r) throws RequestRejected {
        change(() -> table.remove(toRegion(r.region())));
        LOG.info("removed memory region {}", r.region());
    }

    void setLogBase(SetLogBase s) throws RequestRejected {
        try {
            log.setBase(s.fd(), s.offset(), s.size());
            LOG.info("dirty log: {} bytes", s.size());
        } catch (GuestMemoryException | NativeException e) {
            throw new RequestRejected("dirty log: " + e.getMessage(), e);
        } finally {
            s.fd().close();
        }
    }

    /** VHOST_F_LOG_ALL: whether writes to guest memory are logged. */
    void setLogging(boolean on) {
        log.setEnabled(on);
    }

    @FunctionalInterface
    private interface MemoryChange {
        void apply() throws GuestMemoryException, NativeException;
    }

    /** Memory changes run with every ring locked and drained: no chain is inside guest memory meanwhile. */
    private void change(MemoryChange change) throws RequestRejected {
        try (Vring.Locked _ = rings.lockAll()) {
            rings.drainAll(); // pooled requests still read and write guest memory
            change.apply();
            table.reclaimRetired();
        } catch (GuestMemoryException | NativeException e) {
            throw new RequestRejected(e.getMessage(), e);
        }
    }

    private static RegionDescriptor toRegion(MemoryRegionDescriptor d) {
        return new RegionDescriptor(d.guestPhysAddr(), d.size(), d.userAddr(), d.mmapOffset());
    }

    @Override
    public void close() {
        log.close();
        table.close();
    }
}
