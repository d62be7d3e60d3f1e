package io.switchboard.node.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

class ReplayIdsTest {

  private static String id(String pointer, String text) {
    return ReplayIds.extract(pointer, ByteString.copyFromUtf8(text), true);
  }

  @Test
  void stringAndNumberFieldsAreIds() {
    assertEquals("m-7", id("/id", "{\"id\":\"m-7\",\"x\":1}"));
    assertEquals("42", id("/id", "{\"id\":42}"));
    assertEquals("9", id("/meta/seq", "{\"meta\":{\"seq\":9}}"));
  }

  @Test
  void messagesWithoutAnIdHaveNone() {
    assertNull(id("/id", "{\"other\":1}"));
    assertNull(id("/id", "{\"id\":\"\"}"));
    assertNull(id("/id", "{\"id\":{\"nested\":1}}"));
    assertNull(id("/id", "not json at all"));
    assertNull(id("/id", ""));
    assertNull(ReplayIds.extract("/id", ByteString.copyFromUtf8("{\"id\":1}"), false), "binary");
    assertNull(id("", "{\"id\":1}"), "counting routes extract nothing");
  }
}
