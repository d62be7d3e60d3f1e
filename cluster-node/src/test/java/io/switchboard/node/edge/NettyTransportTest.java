package io.switchboard.node.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import org.junit.jupiter.api.Test;

/**
 * When the transport may hand shared frames to the kernel itself: only when no outbound handler
 * (TLS, say) sits between the WebSocket encoder and the socket, since the bytes would skip it.
 */
class NettyTransportTest {

  @Test
  void framesGoStraightToTheSocketOnlyWhenNoOutboundHandlerIsBelowTheEncoder() {
    EmbeddedChannel plain =
        new EmbeddedChannel(new WebSocket13FrameDecoder(false, false, 1024), encoder());
    assertTrue(
        NettyTransport.nothingOutboundBefore(plain.pipeline().context(WebSocketFrameEncoder.class)),
        "an inbound decoder below the encoder skips nothing");

    EmbeddedChannel wrapped = new EmbeddedChannel(new ChannelOutboundHandlerAdapter(), encoder());
    assertFalse(
        NettyTransport.nothingOutboundBefore(
            wrapped.pipeline().context(WebSocketFrameEncoder.class)),
        "an outbound handler below the encoder would be skipped");

    EmbeddedChannel above = new EmbeddedChannel(encoder(), new ChannelOutboundHandlerAdapter());
    assertTrue(
        NettyTransport.nothingOutboundBefore(above.pipeline().context(WebSocketFrameEncoder.class)),
        "frames enter below the handlers above the encoder anyway");
  }

  private static WebSocket13FrameEncoder encoder() {
    return new WebSocket13FrameEncoder(false);
  }

  @Test
  void aCloseReasonIsCutToWhatAWebSocketCloseFrameHolds() {
    assertEquals("slow consumer", NettyTransport.closeReason("slow consumer"));
    String long2ByteChars = "é".repeat(100); // 200 bytes of UTF-8
    String cut = NettyTransport.closeReason(long2ByteChars);
    assertEquals("é".repeat(61), cut, "122 bytes: a character is never split");
    assertEquals("", NettyTransport.closeReason(null));
    assertEquals("a".repeat(123), NettyTransport.closeReason("a".repeat(100_000)));
    assertEquals("a" + "😀".repeat(30), NettyTransport.closeReason("a" + "😀".repeat(40)));
  }
}
