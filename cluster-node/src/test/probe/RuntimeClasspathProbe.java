import java.net.ServerSocket;
import org.redisson.Redisson;
import org.redisson.client.RedisConnectionException;
import org.redisson.config.Config;

/**
 * Run by the build (exec:exec, pre-integration-test) as a single source file on the node's runtime
 * classpath: the classpath the README's run command (exec:java) gives the node, which the tests,
 * on the test classpath, never see. Creates the node's Redis client against a closed port: a
 * refused connection is what it expects; a class missing from that classpath fails the build.
 * (A test-scoped declaration of a library Redisson needs once left the run command's node without
 * a Redis connection while every test passed.)
 */
public final class RuntimeClasspathProbe {
  public static void main(String[] args) throws Exception {
    int closed;
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closed = socket.getLocalPort();
    }
    Config config = new Config();
    config
        .useSingleServer()
        .setAddress("redis://127.0.0.1:" + closed)
        .setConnectTimeout(500)
        .setRetryAttempts(0);
    try {
      Redisson.create(config).shutdown();
      System.err.println("runtime classpath probe: a Redis answered on a closed port?");
      System.exit(1);
    } catch (RedisConnectionException expected) {
      System.out.println(
          "runtime classpath probe: the Redis client loads (connection refused, as expected)");
    } catch (LinkageError e) {
      System.err.println(
          "runtime classpath probe: the node's runtime classpath misses a class: " + e);
      System.exit(1);
    }
  }
}
