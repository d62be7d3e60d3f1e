package io.switchboard.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.protocol.v1.Ack;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Cursor;
import io.switchboard.protocol.v1.Request;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class FrameCodecTest {

  @Test
  void jsonRoundTripsTheCanonicalMapping() throws Exception {
    ClientFrame frame =
        ClientFrame.newBuilder()
            .setId(7)
            .setAck(Ack.newBuilder().addCursors(Cursor.newBuilder().setStream("g").setOffset(42)))
            .build();
    assertEquals(frame, FrameCodec.decodeJson(FrameCodec.encodeJson(frame)));
    assertEquals(
        frame,
        FrameCodec.decodeJson(
            "{\"id\":\"7\",\"ack\":{\"cursors\":[{\"stream\":\"g\",\"offset\":42}]}}"));
  }

  @Test
  void reasonableExponentsAreStillNumbers() throws Exception {
    assertEquals(
        4200,
        FrameCodec.decodeJson("{\"ack\":{\"cursors\":[{\"stream\":\"g\",\"offset\":4.2e3}]}}")
            .getAck()
            .getCursors(0)
            .getOffset());
  }

  /**
   * Protobuf's JSON parser turns numbers into BigDecimal first: without the guard, each of these
   * takes minutes of CPU (found by FuzzIT). They must be refused at once, as numbers or strings, in
   * nested, repeated and map-free fields alike.
   */
  @Test
  void hugeExponentsAndLongNumbersAreRefusedAtOnce() {
    String[] hostile = {
      "{\"id\":1e999999999}",
      "{\"id\":\"1e999999999\"}",
      "{\"id\":\"-1E+2147483647\"}",
      "{\"id\":[\"9e99999999\"]}",
      "{\"id\":[[[\"9e99999999\"]]]}",
      "{\"ack\":{\"cursors\":[{\"stream\":\"g\",\"offset\":\"9e99999999\"}]}}",
      "{\"request\":{\"path\":\"/x\",\"timeoutMs\":1e100000000}}",
      "{\"request\":{\"path\":\"/x\",\"timeout_ms\":\"" + "9".repeat(5000) + "\"}}",
    };
    assertTimeoutPreemptively(
        Duration.ofSeconds(5),
        () -> {
          for (String json : hostile) {
            assertThrows(
                FrameCodec.MalformedFrameException.class, () -> FrameCodec.decodeJson(json), json);
          }
        });
  }

  @Test
  void stringsThatLookLikeNumbersStayStrings() throws Exception {
    // Only numeric fields are checked: a path (or a group name) may read like a huge number.
    Request request =
        FrameCodec.decodeJson("{\"request\":{\"path\":\"1e999999999\"}}").getRequest();
    assertEquals("1e999999999", request.getPath());
  }

  @Test
  void onlyTextThatMayHoldACostlyNumberIsWalked() {
    // Ordinary frames are parsed once; the descriptor walk runs only where a bomb could hide.
    assertFalse(
        ProtoJson.mayHoldCostlyNumber(
            "{\"id\":\"18446744073709551615\",\"publish\":{\"group\":\"room:e12\",\"payload\":\"aGk=\"}}"));
    assertFalse(ProtoJson.mayHoldCostlyNumber("{\"ack\":{\"cursors\":[{\"offset\":4.2e3}]}}"));
    assertTrue(ProtoJson.mayHoldCostlyNumber("{\"id\":1e999}"));
    assertTrue(ProtoJson.mayHoldCostlyNumber("{\"id\":[\"9E+99999999\"]}"));
    assertTrue(ProtoJson.mayHoldCostlyNumber("{\"id\":" + "7".repeat(41) + "}"));
  }

  @Test
  void saneNumbers() {
    assertTrue(ProtoJson.isSaneNumber("18446744073709551615"));
    assertTrue(ProtoJson.isSaneNumber("1.5e308"));
    assertTrue(ProtoJson.isSaneNumber("-12"));
    assertFalse(ProtoJson.isSaneNumber("1e401"));
    assertFalse(ProtoJson.isSaneNumber("1e0001"));
    assertFalse(ProtoJson.isSaneNumber("1".repeat(41)));
  }
}
