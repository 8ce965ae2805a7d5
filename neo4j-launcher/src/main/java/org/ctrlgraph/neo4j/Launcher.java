package org.ctrlgraph.neo4j;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;

/**
 * Starts a Neo4j Community DBMS with the Bolt connector on 127.0.0.1 and authentication on, sets
 * the password of the user {@code neo4j}, prints one line {@code NEO4J_READY bolt://127.0.0.1:PORT}
 * and runs until SIGTERM/SIGINT or, with {@code --exit-on-stdin-close}, until standard input closes.
 *
 * <p>Arguments: {@code --home DIR} (required; the data lives there and survives a restart),
 * {@code --password PW} (at least 8 characters), {@code --port N} (0 or absent: a free port),
 * {@code --pagecache SIZE_MB}, {@code --exit-on-stdin-close}.
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) {
        try {
            run(args);
        } catch (Throwable t) {
            // Without this the DBMS's own threads would keep a failed launcher alive.
            System.err.println("neo4j-launcher: cannot start Neo4j: " + t);
            t.printStackTrace();
            Runtime.getRuntime().halt(1);
        }
    }

    private static void run(String[] args) throws Exception {
        Path home = null;
        String password = null;
        int port = 0;
        long pagecacheMb = 256;
        boolean exitOnStdinClose = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--home" -> home = Path.of(args[++i]).toAbsolutePath();
                case "--password" -> password = args[++i];
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--pagecache" -> pagecacheMb = Long.parseLong(args[++i]);
                case "--exit-on-stdin-close" -> exitOnStdinClose = true;
                default -> usage("unknown argument " + args[i]);
            }
        }
        if (home == null) usage("--home is required");
        if (password == null || password.length() < 8) usage("--password of at least 8 characters is required");
        if (port == 0) port = freePort();

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pagecacheMb))
                .build();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            dbms.shutdown();
            stopped.countDown();
        }, "neo4j-shutdown"));

        // Embedded access bypasses authentication, so the password is set through the system database.
        // On a restart the password may already be this one, which Neo4j refuses to "change".
        String quoted = password.replace("\\", "\\\\").replace("'", "\\'");
        try {
            dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD '" + quoted + "' CHANGE NOT REQUIRED");
        } catch (RuntimeException e) {
            if (!String.valueOf(e.getMessage()).contains("Old password and new password cannot be the same")) {
                throw e;
            }
        }

        System.out.println("NEO4J_READY bolt://127.0.0.1:" + port);
        System.out.flush();

        if (exitOnStdinClose) {
            InputStream in = System.in;
            byte[] buf = new byte[256];
            while (in.read(buf) >= 0) {
                // discard
            }
            System.exit(0); // runs the shutdown hook
        }
        stopped.await();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void usage(String why) {
        System.err.println("neo4j-launcher: " + why);
        System.err.println("usage: --home DIR --password PW [--port N] [--pagecache MB] [--exit-on-stdin-close]");
        System.exit(2);
    }
}
