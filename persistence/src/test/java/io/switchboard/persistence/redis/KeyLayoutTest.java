package io.switchboard.persistence.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class KeyLayoutTest {

  private final KeyLayout keys = new KeyLayout("sb");

  @Test
  void keysOfAPersistenceIdCarryItAsHashTag() {
    assertEquals("sb:j:{Group|lobby}", keys.journal("Group|lobby"));
    assertEquals("sb:h:{Group|lobby}", keys.highest("Group|lobby"));
    assertEquals("sb:s:{Group|lobby}", keys.snapshots("Group|lobby"));
    assertEquals("sb:si:{Group|lobby}", keys.snapshotIndex("Group|lobby"));
  }

  @Test
  void anIdWithAClosingBraceStillSharesOneHashTagAcrossItsKeys() {
    String pid = "odd}id{";
    List<String> all =
        List.of(keys.journal(pid), keys.highest(pid), keys.snapshots(pid), keys.snapshotIndex(pid));
    for (String key : all) assertEquals(hashTag(all.get(0)), hashTag(key));
    assertNotEquals(hashTag(keys.journal(pid)), hashTag(keys.journal("other}id")));
  }

  /** The part of a key Redis Cluster hashes: between the first '{' and the next '}'. */
  private static String hashTag(String key) {
    int open = key.indexOf('{');
    int close = key.indexOf('}', open + 1);
    return key.substring(open + 1, close);
  }
}
