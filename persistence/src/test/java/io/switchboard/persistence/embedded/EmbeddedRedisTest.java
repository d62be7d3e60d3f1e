package io.switchboard.persistence.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedRedisTest {

  @TempDir Path dataDirectory;

  @Test
  void startsOnAFreeLoopbackPortThatIsNot6379() throws Exception {
    try (EmbeddedRedis redis =
        EmbeddedRedis.builder().dataDirectory(dataDirectory).build().start()) {
      assertNotEquals(6379, redis.port());
      assertEquals("redis://127.0.0.1:" + redis.port(), redis.url());
      RedisCli cli = new RedisCli(redis.port());
      assertEquals("PONG", cli.call("PING"));
      assertEquals(List.of("bind", "127.0.0.1"), cli.call("CONFIG", "GET", "bind"));
      assertEquals(List.of("appendonly", "yes"), cli.call("CONFIG", "GET", "appendonly"));
      assertEquals(List.of("appendfsync", "always"), cli.call("CONFIG", "GET", "appendfsync"));
      assertEquals(
          List.of("dir", dataDirectory.toRealPath().toString()), cli.call("CONFIG", "GET", "dir"));
    }
  }

  @Test
  void keepsDataAcrossAStopAndAStartOnTheSamePort() {
    EmbeddedRedis redis =
        EmbeddedRedis.builder()
            .dataDirectory(dataDirectory)
            .appendFsync(EmbeddedRedis.AppendFsync.EVERYSEC)
            .build();
    try {
      redis.start();
      int port = redis.port();
      new RedisCli(port).call("SET", "k", "v");
      redis.stop();
      assertFalse(redis.isRunning());
      assertThrows(UncheckedIOException.class, () -> new RedisCli(port).call("PING"));
      redis.restart();
      assertEquals(port, redis.port());
      assertEquals("v", new RedisCli(port).call("GET", "k"));
    } finally {
      redis.stop();
    }
  }

  @Test
  void keepsAcknowledgedWritesAcrossAKillWithAppendfsyncAlways() {
    EmbeddedRedis redis = EmbeddedRedis.builder().dataDirectory(dataDirectory).build();
    try {
      redis.start();
      RedisCli cli = new RedisCli(redis.port());
      for (int i = 0; i < 50; i++) cli.call("RPUSH", "list", Integer.toString(i));
      redis.kill();
      assertFalse(redis.isRunning());
      redis.start();
      assertEquals(50L, cli.call("LLEN", "list"));
    } finally {
      redis.stop();
    }
  }

  @Test
  void theBundledBinaryRunsToo() {
    try (EmbeddedRedis redis =
        EmbeddedRedis.builder().dataDirectory(dataDirectory).bundledExecutable().build().start()) {
      assertTrue(
          redis.executable().getFileName().toString().startsWith("redis-server-6.2"),
          redis.executable().toString());
      RedisCli cli = new RedisCli(redis.port());
      String info = (String) cli.call("INFO", "server");
      assertTrue(info.contains("redis_version:6.2"), info);
      cli.call("SET", "k", "v");
      redis.restart();
      assertEquals("v", cli.call("GET", "k"));
    }
  }

  @Test
  void aServerOfTheSameDataLeftRunningByAnEarlierProcessIsReplacedWithItsDataKept() {
    // The first instance stands for the embedded Redis of a node killed with SIGKILL: its server
    // still runs, and nothing of this JVM will stop it.
    EmbeddedRedis earlier = EmbeddedRedis.builder().dataDirectory(dataDirectory).build().start();
    EmbeddedRedis restarted =
        EmbeddedRedis.builder().port(earlier.port()).dataDirectory(dataDirectory).build();
    try {
      RedisCli cli = new RedisCli(earlier.port());
      cli.call("SET", "k", "written before the restart");
      String earlierPid = serverPid(cli);
      restarted.start();
      assertFalse(earlier.isRunning(), "the server left running was shut down");
      assertTrue(restarted.isRunning());
      assertNotEquals(earlierPid, serverPid(cli));
      assertEquals("written before the restart", cli.call("GET", "k"));
    } finally {
      restarted.stop();
      earlier.stop();
    }
  }

  private static String serverPid(RedisCli cli) {
    for (String line : ((String) cli.call("INFO", "server")).split("\r\n")) {
      if (line.startsWith("process_id:")) return line.substring("process_id:".length());
    }
    throw new AssertionError("no process_id in INFO server");
  }

  @Test
  void aServerThatCannotStartReportsItsLog() throws Exception {
    try (EmbeddedRedis first =
        EmbeddedRedis.builder().dataDirectory(dataDirectory.resolve("a")).build().start()) {
      EmbeddedRedis second =
          EmbeddedRedis.builder()
              .port(first.port())
              .dataDirectory(dataDirectory.resolve("b"))
              .build();
      IllegalStateException e = assertThrows(IllegalStateException.class, second::start);
      assertTrue(e.getMessage().contains("exited at start"), e.getMessage());
      assertFalse(second.isRunning());
      assertTrue(Files.exists(dataDirectory.resolve("b")));
    }
  }
}
