package io.jvhost.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.FsDevice;
import io.jvhost.devices.fs.api.FileSystem;
import io.jvhost.devices.fs.api.RequestContext;
import io.jvhost.devices.fs.passthrough.PassthroughConfig;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState.Location;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdStateCodec;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jvhost state inspect} on blobs of both formats, raw and in QEMU's framing, and on junk. */
class StateInspectCommandTest {
    @TempDir
    Path tmp;

    record Run(int exit, String out, String err) {}

    private static Run inspect(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        String[] all = new String[args.length + 2];
        all[0] = "state";
        all[1] = "inspect";
        System.arraycopy(args, 0, all, 2, args.length);
        int exit = Main.commandLine(all)
                .setOut(new PrintWriter(out))
                .setErr(new PrintWriter(err))
                .execute(all);
        return new Run(exit, out.toString(), err.toString());
    }

    private Path write(String name, byte[] b) throws Exception {
        return Files.write(tmp.resolve(name), b);
    }

    static final VirtiofsdState VIRTIOFSD = new VirtiofsdState(
            VirtiofsdState.Version.V2,
            List.of(
                    new VirtiofsdState.Inode(1, 4, new Location.RootNode(), null),
                    new VirtiofsdState.Inode(2, 2, new Location.Path(1, "sub"), null),
                    new VirtiofsdState.Inode(3, 1, new Location.Path(2, "say \"hi\"\n.txt"), null),
                    new VirtiofsdState.Inode(4, 1, new Location.Invalid(), null)),
            5,
            List.of(new VirtiofsdState.Handle(0, 3, new VirtiofsdState.HandleSource.OpenInode(0100002))),
            1,
            new VirtiofsdState.NegotiatedOpts(false, false, false, true),
            List.of(new VirtiofsdState.MountPath(42, "")));

    @Test
    void virtiofsdStateSummary() throws Exception {
        Run r = inspect(write("v.bin", VirtiofsdStateCodec.encode(VIRTIOFSD)).toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("format: virtiofsd (postcard PassthroughFs::V2)"), r.out());
        assertTrue(r.out().contains("inodes: 4 (next id 5)"), r.out());
        assertTrue(r.out().contains("handles: 1 (next fh 1)"), r.out());
        assertTrue(r.out().contains("sup-group-extension true"), r.out());
        assertTrue(r.out().contains("  3  /sub/say \"hi\""), r.out());
        assertTrue(r.out().contains("  4  (no path)"), r.out());
        assertTrue(r.out().contains("mount 42: "), r.out());
    }

    @Test
    void virtiofsdStateAsJson() throws Exception {
        Run r = inspect(
                "--json", write("v.bin", VirtiofsdStateCodec.encode(VIRTIOFSD)).toString());
        assertEquals(0, r.exit(), r.err());
        String j = r.out().strip();
        assertTrue(j.startsWith("{\"qemuFramed\":false,") && j.endsWith("}"), j);
        assertTrue(j.contains("\"format\":\"virtiofsd\",\"version\":\"V2\""), j);
        assertTrue(j.contains("{\"kind\":\"Path\",\"parent\":2,\"filename\":\"say \\\"hi\\\"\\n.txt\"}"), j);
        assertTrue(j.contains("\"handles\":[{\"id\":0,\"inode\":3,\"source\":\"OpenInode\",\"flags\":32770}]"), j);
        assertTrue(j.contains("\"mountPaths\":{\"42\":\"\"}"), j);
        assertEquals(count(j, '{'), count(j, '}'));
        assertEquals(count(j, '['), count(j, ']'));
    }

    @Test
    void qemuFramingIsTakenOff() throws Exception {
        byte[] blob = VirtiofsdStateCodec.encode(VIRTIOFSD);
        ByteArrayOutputStream framed = new ByteArrayOutputStream();
        for (int at = 0; at < blob.length; at += 7) {
            int n = Math.min(7, blob.length - at);
            framed.write(ByteBuffer.allocate(4).putInt(n).array());
            framed.write(blob, at, n);
        }
        framed.write(new byte[4]);
        Run r = inspect(write("framed.bin", framed.toByteArray()).toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("QEMU-framed device state, " + blob.length + " B"), r.out());
        assertTrue(r.out().contains("inodes: 4"), r.out());
    }

    @Test
    void jvhostVirtioFsState() throws Exception {
        Path share = Files.createDirectories(tmp.resolve("share"));
        Files.createDirectories(share.resolve("dir"));
        Files.writeString(share.resolve("dir/f.txt"), "x");
        byte[] blob;
        try (PassthroughFs fs = PassthroughFs.open(share, PassthroughConfig.defaults())) {
            long dir =
                    fs.lookup(RequestContext.ROOT, FileSystem.ROOT_ID, b("dir")).nodeId();
            long f = fs.lookup(RequestContext.ROOT, dir, b("f.txt")).nodeId();
            fs.open(RequestContext.ROOT, f, 0);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            new FsDevice("t", fs).captureState().writeTo(out);
            blob = out.toByteArray();
        }
        Run r = inspect(write("j.bin", blob).toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("format: jvhost"), r.out());
        assertTrue(r.out().contains("virtio-fs state, format 1"), r.out());
        assertTrue(r.out().contains("FUSE session: none (before INIT)"), r.out());
        assertTrue(r.out().contains("inodes: 3") && r.out().contains("handles: 1"), r.out());
        assertTrue(r.out().contains("/dir/f.txt"), r.out());
        Run j = inspect("--json", tmp.resolve("j.bin").toString());
        assertEquals(0, j.exit(), j.err());
        assertTrue(j.out().contains("\"deviceType\":\"virtio-fs\""), j.out());
        assertTrue(j.out().contains("\"name\":\"f.txt\""), j.out());
        assertTrue(j.out().contains("\"sections\":[{\"name\":\"fuse\""), j.out());
    }

    @Test
    void junkIsRefusedSayingWhy() throws Exception {
        Run r = inspect(write("junk", "hello, state".getBytes(StandardCharsets.US_ASCII))
                .toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("neither jvhost's device state") && r.err().contains("virtiofsd's"), r.err());
        Run truncated = inspect(write("t", new byte[] {'J', 'V', 'H', 'S', 'T', 'A', 'T', 'E', 1})
                .toString());
        assertEquals(1, truncated.exit(), truncated.out());
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static long count(String s, char c) {
        return s.chars().filter(x -> x == c).count();
    }
}
