package io.jvhost.migration;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * A hand-driven source for hostile-peer tests: every byte it sends is chosen by the test, so it
 * can break any rule the real {@link MigrationSource} never breaks.
 */
final class RawSender implements AutoCloseable {
    final SessionId session = SessionId.random();
    private final InetSocketAddress dest;
    private final Socket main;
    private final DataOutputStream mainOut;
    private final DataInputStream mainIn;
    private final List<Socket> channels = new ArrayList<>();
    private final CRC32C crc = new CRC32C();
    private long bytes;
    private long packets;

    RawSender(InetSocketAddress dest) throws IOException {
        this.dest = dest;
        main = new Socket(dest.getAddress(), dest.getPort());
        main.setSoTimeout(10_000);
        mainOut = new DataOutputStream(main.getOutputStream());
        mainIn = new DataInputStream(main.getInputStream());
    }

    /** Preamble and Hello; returns the destination's answer. */
    ControlMessage hello(ControlMessage.Hello hello) throws IOException {
        ControlCodec.writePreamble(mainOut, StreamFormat.ROLE_MAIN, session);
        ControlCodec.write(mainOut, hello);
        return ControlCodec.read(mainIn);
    }

    static ControlMessage.Hello hello(int channels, int packetSize, long stateSize) {
        return new ControlMessage.Hello(Harness.DEVICE, Harness.FEATURES, channels, packetSize, stateSize);
    }

    /** Opens state channel {@code number} under {@code session}. */
    OutputStream openChannel(SessionId as, int number) throws IOException {
        Socket s = new Socket(dest.getAddress(), dest.getPort());
        channels.add(s);
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        ControlCodec.writePreamble(out, StreamFormat.ROLE_STATE, as);
        out.writeInt(number);
        out.flush();
        return out;
    }

    void openChannels(int n) throws IOException {
        for (int i = 0; i < n; i++) {
            openChannel(session, i);
        }
    }

    /** Sends a packet with a header exactly as given and {@code data}; counts it for {@link #honestEnd}. */
    void packet(int channel, PacketHeader h, byte[] data) throws IOException {
        OutputStream out = channels.get(channel).getOutputStream();
        out.write(h.encode());
        out.write(data);
        out.flush();
        crc.update(data);
        bytes += data.length;
        packets++;
    }

    void data(int channel, int idx, byte[] data) throws IOException {
        packet(channel, PacketHeader.data(idx, data.length), data);
    }

    void config(int channel, int idx) throws IOException {
        byte[] v = VirtioStateCodec.encode(Harness.virtio());
        packet(channel, PacketHeader.configState(idx, v.length), v);
    }

    void raw(int channel, byte[] bytes) throws IOException {
        channels.get(channel).getOutputStream().write(bytes);
    }

    void closeChannels() throws IOException {
        for (Socket s : channels) {
            s.shutdownOutput();
        }
    }

    /** End with the totals of what was actually sent. */
    ControlMessage.End honestEnd() {
        return new ControlMessage.End(bytes, packets, (int) crc.getValue());
    }

    void send(ControlMessage m) throws IOException {
        ControlCodec.write(mainOut, m);
    }

    /** The next message from the destination, or null at EOF. */
    ControlMessage verdict() throws IOException {
        try {
            return ControlCodec.read(mainIn);
        } catch (java.io.EOFException e) {
            return null;
        }
    }

    @Override
    public void close() throws IOException {
        for (Socket s : channels) {
            s.close();
        }
        main.close();
    }
}
