package io.jvhost.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.backend.DeviceException;
import io.jvhost.backend.StatefulDevice;
import io.jvhost.devices.fs.FsDevice;
import io.jvhost.devices.fs.FuseServer;
import io.jvhost.devices.fs.passthrough.MigrationConfig;
import io.jvhost.devices.fs.passthrough.PassthroughConfig;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The test kit's fault injection does what the QEMU fault tests rely on: each save fault yields a
 * state a virtio-fs device refuses (the future version for its version alone), no fault changes
 * nothing, the stalled load gives up when interrupted, and everything else is the device's own.
 */
class FaultInjectingDeviceTest {
    @TempDir
    Path dir;

    private PassthroughFs fs;
    private FsDevice device;
    private Path faultFile;
    private FaultInjectingDevice faulty;

    @BeforeEach
    void serve() throws Exception {
        Path shared = Files.createDirectory(dir.resolve("shared"));
        fs = PassthroughFs.open(shared, PassthroughConfig.defaults(), MigrationConfig.defaults());
        device = new FsDevice("fault", 1, new FuseServer(fs));
        faultFile = dir.resolve("fault");
        faulty = new FaultInjectingDevice(device, faultFile);
    }

    @AfterEach
    void close() throws Exception {
        device.close();
        fs.close();
    }

    private byte[] save(StatefulDevice d) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        d.captureState().writeTo(out);
        return out.toByteArray();
    }

    @Test
    void withoutAFaultTheStateIsTheDevicesOwn() throws Exception {
        byte[] own = save(device);
        assertArrayEquals(own, save(faulty), "no fault file");
        Files.writeString(faultFile, "");
        assertArrayEquals(own, save(faulty), "an empty fault file");
        faulty.prepareLoad(new ByteArrayInputStream(own)).discard();
    }

    @Test
    void refusalsAreTheDecoratorsAndLeaveTheDeviceAlone() throws Exception {
        byte[] own = save(device);
        Files.writeString(faultFile, "refuse-save");
        assertThrows(DeviceException.class, faulty::captureState);
        Files.writeString(faultFile, "refuse-load");
        DeviceException e =
                assertThrows(DeviceException.class, () -> faulty.prepareLoad(new ByteArrayInputStream(own)));
        assertTrue(e.getMessage().contains("test fault"), e.getMessage());
        Files.writeString(faultFile, "");
        assertArrayEquals(own, save(faulty), "the device still saves its own state");
    }

    @ParameterizedTest
    @EnumSource(
            value = StateFault.class,
            names = {"CORRUPT", "TRUNCATE", "FUTURE_VERSION"})
    void aDamagedStateIsRefused(StateFault fault) throws Exception {
        Files.writeString(faultFile, fault.name().toLowerCase().replace('_', '-'));
        byte[] damaged = save(faulty);
        assertNotEquals(
                new String(save(device), java.nio.charset.StandardCharsets.ISO_8859_1),
                new String(damaged, java.nio.charset.StandardCharsets.ISO_8859_1));
        Exception refused = assertThrows(Exception.class, () -> device.prepareLoad(new ByteArrayInputStream(damaged)));
        if (fault == StateFault.FUTURE_VERSION) {
            assertTrue(
                    refused.getMessage().contains("'fuse' is version 2 and needs a reader of version 2"),
                    refused::toString);
        }
    }

    @Test
    void aStalledLoadGivesUpWhenInterrupted() throws Exception {
        Files.writeString(faultFile, StateFault.STALL_LOAD.name());
        byte[] state = save(device);
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        Thread loader = new Thread(() -> {
            Thread.currentThread().interrupt(); // before the stall: it must end at once, not in a minute
            try {
                faulty.prepareLoad(new ByteArrayInputStream(state)).discard();
                failure.complete(null);
            } catch (Throwable t) {
                failure.complete(t);
            }
        });
        loader.start();
        Throwable t = failure.get(30, TimeUnit.SECONDS);
        assertInstanceOf(io.jvhost.backend.DeviceException.class, t);
        assertTrue(t.getMessage().contains("interrupted while stalling"), t::toString);
    }

    /** A method StatefulDevice gains later must be delegated too, or the decorator silently changes the device. */
    @Test
    void delegatesEveryDeviceMethod() throws Exception {
        for (Method m : StatefulDevice.class.getMethods()) {
            if (Modifier.isStatic(m.getModifiers())) continue;
            Method own = FaultInjectingDevice.class.getMethod(m.getName(), m.getParameterTypes());
            assertEquals(FaultInjectingDevice.class, own.getDeclaringClass(), m::toString);
        }
        assertEquals(device.name(), faulty.name());
        assertEquals(device.queueCount(), faulty.queueCount());
        assertEquals(device.features(), faulty.features());
        assertArrayEquals(device.config(), faulty.config());
        assertEquals(device.canMigrate(), faulty.canMigrate());
    }
}
