package io.switchboard.persistence.embedded;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal synchronous Redis client for test assertions (looking at keys, counting commands),
 * independent of the code under test. One command per connection; not for production use.
 */
public final class RedisCli {

  private final int port;

  /** A client for the server on 127.0.0.1 and this port. */
  public RedisCli(int port) {
    this.port = port;
  }

  /**
   * Runs one command and returns its reply: a String for simple and bulk strings, a Long for
   * integers, a List for arrays, null for nil. An error reply throws IllegalStateException.
   */
  public Object call(String... args) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      socket.setSoTimeout(5000);
      OutputStream out = socket.getOutputStream();
      StringBuilder request = new StringBuilder("*").append(args.length).append("\r\n");
      for (String arg : args) {
        byte[] bytes = arg.getBytes(StandardCharsets.UTF_8);
        request.append('$').append(bytes.length).append("\r\n").append(arg).append("\r\n");
      }
      out.write(request.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      return read(new BufferedInputStream(socket.getInputStream()));
    } catch (IOException e) {
      throw new UncheckedIOException("Redis on port " + port + ": " + e.getMessage(), e);
    }
  }

  /** How many times Redis ran a command since start, from INFO commandstats (0 if never). */
  public long commandCalls(String command) {
    String info = (String) call("INFO", "commandstats");
    String prefix = "cmdstat_" + command.toLowerCase() + ":calls=";
    for (String line : info.split("\r\n")) {
      if (line.startsWith(prefix)) {
        return Long.parseLong(line.substring(prefix.length()).split(",")[0]);
      }
    }
    return 0;
  }

  private static Object read(InputStream in) throws IOException {
    int type = in.read();
    String line = line(in);
    switch (type) {
      case '+':
        return line;
      case '-':
        throw new IllegalStateException(line);
      case ':':
        return Long.parseLong(line);
      case '$':
        {
          int length = Integer.parseInt(line);
          if (length < 0) return null;
          byte[] bytes = in.readNBytes(length);
          line(in);
          return new String(bytes, StandardCharsets.UTF_8);
        }
      case '*':
        {
          int count = Integer.parseInt(line);
          if (count < 0) return null;
          List<Object> items = new ArrayList<>(count);
          for (int i = 0; i < count; i++) items.add(read(in));
          return items;
        }
      default:
        throw new IOException("Unexpected reply type " + (char) type);
    }
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\r') {
        in.read();
        break;
      }
      buf.write(c);
    }
    return buf.toString(StandardCharsets.UTF_8);
  }
}
