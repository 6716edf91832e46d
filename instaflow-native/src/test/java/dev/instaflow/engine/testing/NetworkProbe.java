package dev.instaflow.engine.testing;

import dev.instaflow.Device;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.LoadOptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketImpl;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A program (run in its own JVM by {@code NoNetworkTest}) that loads a bundle and generates one image while every
 * network attempt of the JVM is recorded and refused: {@link ProxySelector} sees every URL connection (HTTP client
 * and {@code HttpURLConnection}), and a {@link java.net.SocketImplFactory} sees every {@link Socket} connect. It
 * prints one line per attempt ({@code ATTEMPT ...}) and then {@code ATTEMPTS n}.
 *
 * <p>Own JVM because DJL calls home at most once a day per process: in a JVM where another test built a tokenizer
 * first, a missing opt-out would go unseen.
 *
 * <p>Usage: {@code NetworkProbe BUNDLE_DIR} (load and generate), or {@code NetworkProbe --tokenizer-only DIR}.
 */
public final class NetworkProbe {
    static final List<String> ATTEMPTS = new CopyOnWriteArrayList<>();

    private NetworkProbe() {
    }

    public static void main(String[] args) throws Exception {
        ProxySelector.setDefault(new ProxySelector() {
            @Override
            public List<Proxy> select(URI uri) {
                ATTEMPTS.add("url " + uri);
                return List.of(Proxy.NO_PROXY);
            }

            @Override
            public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {
            }
        });
        Socket.setSocketImplFactory(RefusingSocket::new);
        try {
            if (args[0].equals("--tokenizer-only")) {
                dev.instaflow.engine.text.ClipTokenizer.load(java.nio.file.Path.of(args[1]), TinyBundle.manifest().text())
                        .close();
            } else {
                try (InstaFlow model = InstaFlow.load(java.nio.file.Path.of(args[0]),
                        LoadOptions.builder().device(Device.cpu()).build())) {
                    model.generate(GenerationRequest.builder().prompt("a photo of a cat").seed(1).build());
                }
            }
        } finally {
            ATTEMPTS.forEach(a -> System.out.println("ATTEMPT " + a));
            System.out.println("ATTEMPTS " + ATTEMPTS.size());
        }
    }

    /** A socket that records and refuses every connect. */
    private static final class RefusingSocket extends SocketImpl {
        private IOException refuse(String where) {
            ATTEMPTS.add("socket " + where);
            return new IOException("network access refused by NetworkProbe: " + where);
        }

        @Override
        protected void create(boolean stream) {
        }

        @Override
        protected void connect(String host, int port) throws IOException {
            throw refuse(host + ":" + port);
        }

        @Override
        protected void connect(InetAddress address, int port) throws IOException {
            throw refuse(address + ":" + port);
        }

        @Override
        protected void connect(SocketAddress address, int timeout) throws IOException {
            throw refuse(String.valueOf(address));
        }

        @Override
        protected void bind(InetAddress host, int port) throws IOException {
            throw refuse("bind " + host + ":" + port);
        }

        @Override
        protected void listen(int backlog) throws IOException {
            throw refuse("listen");
        }

        @Override
        protected void accept(SocketImpl s) throws IOException {
            throw refuse("accept");
        }

        @Override
        protected InputStream getInputStream() throws IOException {
            throw refuse("input");
        }

        @Override
        protected OutputStream getOutputStream() throws IOException {
            throw refuse("output");
        }

        @Override
        protected int available() {
            return 0;
        }

        @Override
        protected void close() {
        }

        @Override
        protected void sendUrgentData(int data) throws IOException {
            throw refuse("urgent");
        }

        @Override
        public void setOption(int optID, Object value) {
        }

        @Override
        public Object getOption(int optID) {
            return null;
        }
    }
}
