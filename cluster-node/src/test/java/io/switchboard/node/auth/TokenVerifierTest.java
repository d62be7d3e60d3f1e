package io.switchboard.node.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.SignedJWT;
import com.typesafe.config.ConfigFactory;
import io.switchboard.node.config.AuthSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which tokens verify, and which attacks on the verification fail. */
class TokenVerifierTest {
  private static KeyPair rsa;
  private static KeyPair ec;

  @BeforeAll
  static void keys() {
    rsa = TestTokens.rsaKeys();
    ec = TestTokens.ecKeys();
  }

  static AuthSettings settings(String hocon) {
    return AuthSettings.create(
        ConfigFactory.parseString(hocon)
            .withFallback(ConfigFactory.parseString("switchboard.auth.mode = jwt"))
            .withFallback(ConfigFactory.defaultReference()));
  }

  private static TokenVerifier verifier(String hocon) {
    return TokenVerifier.create(settings(hocon), List.of(), 8192);
  }

  private static TokenVerifier hmacVerifier() {
    return verifier("switchboard.auth.hmac-secret = \"" + TestTokens.SECRET + "\"");
  }

  private static TokenVerifier publicKeyVerifier() {
    return verifier(
        "switchboard.auth.public-keys = [\"%s\", \"%s\"]"
            .formatted(TestTokens.pem(rsa.getPublic()), TestTokens.pem(ec.getPublic())));
  }

  private static String rejected(TokenVerifier.Result result) {
    return assertInstanceOf(TokenVerifier.Rejected.class, result).reason();
  }

  private static Identity verified(TokenVerifier.Result result) {
    return assertInstanceOf(TokenVerifier.Verified.class, result, () -> result.toString())
        .identity();
  }

  @Test
  void hmacTokenGivesTheUserAndTheirPatterns() {
    Identity id = verified(hmacVerifier().verify(TestTokens.valid("alice")));
    assertEquals("alice", id.userId());
    assertTrue(id.mayJoin("room:1"));
    assertTrue(!id.mayJoin("admin"));
    assertTrue(id.mayPublish("room:x"));
    assertTrue(id.expiry().isPresent());
    assertEquals(Identity.Kind.TOKEN, id.kind());
  }

  @Test
  void patternsMayBeOneStringSeparatedBySpacesOrCommas() {
    var claims =
        TestTokens.claims("bob", List.of(), List.of(), Duration.ofMinutes(5))
            .claim("sb_join", "room:* lobby,news")
            .claim("sb_publish", null);
    Identity id = verified(hmacVerifier().verify(TestTokens.hs256(TestTokens.SECRET, claims)));
    assertTrue(id.mayJoin("room:7") && id.mayJoin("lobby") && id.mayJoin("news"));
    assertTrue(!id.mayPublish("lobby"));
  }

  @Test
  void unsignedTokenIsRefused() {
    String token =
        TestTokens.unsigned(
            TestTokens.claims("eve", List.of("*"), List.of("*"), Duration.ofHours(1)));
    assertEquals("unsigned tokens are refused", rejected(hmacVerifier().verify(token)));
    assertTrue(rejected(publicKeyVerifier().verify(token)).contains("unsigned"));
  }

  @Test
  void tamperedSignatureIsRefused() {
    assertEquals(
        "invalid token signature",
        rejected(hmacVerifier().verify(TestTokens.tampered(TestTokens.valid("alice")))));
    String rs =
        TestTokens.rs256(
            rsa, TestTokens.claims("alice", List.of(), List.of(), Duration.ofHours(1)));
    assertEquals(
        "invalid token signature", rejected(publicKeyVerifier().verify(TestTokens.tampered(rs))));
  }

  @Test
  void hmacTokenSignedWithThePublicKeyIsRefused() {
    var claims = TestTokens.claims("eve", List.of("*"), List.of("*"), Duration.ofHours(1));
    byte[] pemText = TestTokens.pem(rsa.getPublic()).getBytes(StandardCharsets.UTF_8);
    byte[] pemFile = TestTokens.pemLines(rsa.getPublic()).getBytes(StandardCharsets.UTF_8);
    byte[] der = rsa.getPublic().getEncoded();
    TokenVerifier onlyKeys = publicKeyVerifier();
    TokenVerifier keysAndSecret =
        verifier(
            "switchboard.auth.hmac-secret = \"%s\"\nswitchboard.auth.public-keys = [\"%s\"]"
                .formatted(TestTokens.SECRET, TestTokens.pem(rsa.getPublic())));
    for (byte[] secret : List.of(pemText, pemFile, der)) {
      String forged = TestTokens.hmac(secret, claims);
      assertEquals("token algorithm or key not accepted", rejected(onlyKeys.verify(forged)));
      assertEquals("invalid token signature", rejected(keysAndSecret.verify(forged)));
    }
  }

  @Test
  void algorithmsArePinnedToTheConfiguredKeyTypes() {
    assertEquals(
        java.util.Set.of(JWSAlgorithm.HS256),
        hmacVerifier().algorithms(),
        "a 40-byte secret verifies HS256 only");
    var algs = publicKeyVerifier().algorithms();
    assertTrue(algs.contains(JWSAlgorithm.RS256) && algs.contains(JWSAlgorithm.PS512));
    assertTrue(algs.contains(JWSAlgorithm.ES256) && !algs.contains(JWSAlgorithm.ES384));
    assertTrue(algs.stream().noneMatch(a -> a.getName().startsWith("HS")));
    // An RS token is refused by a node that has only an HMAC secret.
    String rs =
        TestTokens.rs256(rsa, TestTokens.claims("a", List.of(), List.of(), Duration.ofHours(1)));
    assertEquals("token algorithm or key not accepted", rejected(hmacVerifier().verify(rs)));
  }

  @Test
  void rsaAndEcTokensVerifyAndTokensOfOtherKeysDoNot() {
    var claims = TestTokens.claims("carol", List.of("a"), List.of(), Duration.ofHours(1));
    assertEquals(
        "carol", verified(publicKeyVerifier().verify(TestTokens.rs256(rsa, claims))).userId());
    assertEquals(
        "carol", verified(publicKeyVerifier().verify(TestTokens.es256(ec, claims))).userId());
    assertEquals(
        "invalid token signature",
        rejected(publicKeyVerifier().verify(TestTokens.rs256(TestTokens.rsaKeys(), claims))));
    assertEquals(
        "invalid token signature",
        rejected(publicKeyVerifier().verify(TestTokens.es256(TestTokens.ecKeys(), claims))));
    assertEquals(
        "invalid token signature",
        rejected(
            hmacVerifier()
                .verify(TestTokens.hs256("another-secret-of-enough-length-0123456789", claims))));
  }

  @Test
  void expiredAndNotYetValidTokensAreRefusedBeyondTheSkew() {
    TokenVerifier noSkew =
        verifier(
            "switchboard.auth.hmac-secret = \"%s\"\nswitchboard.auth.clock-skew = 0s"
                .formatted(TestTokens.SECRET));
    TokenVerifier skew =
        verifier(
            "switchboard.auth.hmac-secret = \"%s\"\nswitchboard.auth.clock-skew = 60s"
                .formatted(TestTokens.SECRET));
    var expired = TestTokens.claims("d", List.of(), List.of(), Duration.ofSeconds(-10));
    assertEquals(
        "token expired", rejected(noSkew.verify(TestTokens.hs256(TestTokens.SECRET, expired))));
    verified(skew.verify(TestTokens.hs256(TestTokens.SECRET, expired)));
    var early =
        TestTokens.claims("d", List.of(), List.of(), Duration.ofHours(1))
            .notBeforeTime(Date.from(Instant.now().plusSeconds(10)));
    assertEquals(
        "token not yet valid", rejected(noSkew.verify(TestTokens.hs256(TestTokens.SECRET, early))));
    verified(skew.verify(TestTokens.hs256(TestTokens.SECRET, early)));
  }

  @Test
  void tokenWithoutExpiryIsRefusedUnlessAllowed() {
    var forever = TestTokens.claims("e", List.of(), List.of(), Duration.ZERO).expirationTime(null);
    String token = TestTokens.hs256(TestTokens.SECRET, forever);
    assertTrue(rejected(hmacVerifier().verify(token)).contains("exp"));
    TokenVerifier lenient =
        verifier(
            "switchboard.auth.hmac-secret = \"%s\"\nswitchboard.auth.require-expiry = off"
                .formatted(TestTokens.SECRET));
    assertTrue(verified(lenient.verify(token)).expiry().isEmpty());
  }

  @Test
  void issuerAndAudienceMustMatchWhenConfigured() {
    TokenVerifier strict =
        verifier(
            """
            switchboard.auth.hmac-secret = "%s"
            switchboard.auth.issuer = "https://issuer.example"
            switchboard.auth.audience = "switchboard"
            """
                .formatted(TestTokens.SECRET));
    var base = TestTokens.claims("f", List.of(), List.of(), Duration.ofHours(1));
    rejected(strict.verify(TestTokens.hs256(TestTokens.SECRET, base)));
    var good =
        TestTokens.claims("f", List.of(), List.of(), Duration.ofHours(1))
            .issuer("https://issuer.example")
            .audience(List.of("other", "switchboard"));
    verified(strict.verify(TestTokens.hs256(TestTokens.SECRET, good)));
    var wrongIssuer =
        TestTokens.claims("f", List.of(), List.of(), Duration.ofHours(1))
            .issuer("https://evil.example")
            .audience("switchboard");
    rejected(strict.verify(TestTokens.hs256(TestTokens.SECRET, wrongIssuer)));
  }

  @Test
  void userClaimMustBeAUserId() {
    var noSub = TestTokens.claims("x", List.of(), List.of(), Duration.ofHours(1)).subject(null);
    rejected(hmacVerifier().verify(TestTokens.hs256(TestTokens.SECRET, noSub)));
    var numeric =
        TestTokens.claims("x", List.of(), List.of(), Duration.ofHours(1)).claim("sub", 42);
    // The JOSE library reads a numeric subject as its decimal text.
    assertEquals(
        "42",
        verified(hmacVerifier().verify(TestTokens.hs256(TestTokens.SECRET, numeric))).userId());
    var object =
        TestTokens.claims("x", List.of(), List.of(), Duration.ofHours(1))
            .claim("sub", java.util.Map.of("id", "x"));
    rejected(hmacVerifier().verify(TestTokens.hs256(TestTokens.SECRET, object)));
    var blank = TestTokens.claims(" ", List.of(), List.of(), Duration.ofHours(1));
    rejected(hmacVerifier().verify(TestTokens.hs256(TestTokens.SECRET, blank)));
    var badPatterns =
        TestTokens.claims("x", List.of(), List.of(), Duration.ofHours(1))
            .claim("sb_join", List.of(1, 2));
    rejected(hmacVerifier().verify(TestTokens.hs256(TestTokens.SECRET, badPatterns)));
  }

  @Test
  void garbageNeverThrows() {
    TokenVerifier v = hmacVerifier();
    Random random = new Random(42);
    List<String> fixed =
        List.of(
            "",
            " ",
            "a.b.c",
            "...",
            "eyJhbGciOiJub25lIn0..",
            "x".repeat(9000),
            "\u0000.\u0001.\u0002");
    for (String s : fixed) {
      assertInstanceOf(TokenVerifier.Rejected.class, v.verify(s));
    }
    String good = TestTokens.valid("g");
    for (int i = 0; i < 2000; i++) {
      char[] chars = good.toCharArray();
      for (int k = 0; k < 1 + random.nextInt(4); k++) {
        chars[random.nextInt(chars.length)] = (char) (32 + random.nextInt(95));
      }
      TokenVerifier.Result r = v.verify(new String(chars));
      if (r instanceof TokenVerifier.Verified ok) {
        assertEquals(
            "g", ok.identity().userId(), "a mutation that verifies changed nothing signed");
      }
    }
  }

  @Test
  void jwksFileKeysVerifyWithTheirKeyIdsAndAlgorithms(@TempDir Path dir) throws Exception {
    RSAKey rsaJwk = new RSAKey.Builder((RSAPublicKey) rsa.getPublic()).keyID("k1").build();
    byte[] secret = new byte[64];
    new Random(1).nextBytes(secret);
    OctetSequenceKey oct =
        new OctetSequenceKey.Builder(secret).keyID("k2").algorithm(JWSAlgorithm.HS512).build();
    Path file = dir.resolve("jwks.json");
    Files.writeString(file, new JWKSet(List.of(rsaJwk, oct)).toString(false));
    TokenVerifier v = verifier("switchboard.auth.jwks-file = \"" + file + "\"");

    var claims = TestTokens.claims("h", List.of(), List.of(), Duration.ofHours(1));
    SignedJWT withKid =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k1").build(), claims.build());
    withKid.sign(new RSASSASigner(rsa.getPrivate()));
    assertEquals("h", verified(v.verify(withKid.serialize())).userId());

    SignedJWT wrongKid =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k2").build(), claims.build());
    wrongKid.sign(new RSASSASigner(rsa.getPrivate()));
    rejected(v.verify(wrongKid.serialize()));

    // The oct key is pinned to HS512 by its "alg": an HS256 token of the same secret is refused.
    rejected(v.verify(TestTokens.hmac(secret, claims)));
  }

  @Test
  void weakOrUnreadableKeysStopTheNode() throws Exception {
    assertThrows(
        IllegalArgumentException.class, () -> verifier("switchboard.auth.hmac-secret = \"short\""));
    KeyPairGenerator small = KeyPairGenerator.getInstance("RSA");
    small.initialize(1024);
    assertThrows(
        IllegalArgumentException.class,
        () ->
            verifier(
                "switchboard.auth.public-keys = [\"%s\"]"
                    .formatted(TestTokens.pem(small.generateKeyPair().getPublic()))));
    assertThrows(
        IllegalArgumentException.class,
        () -> verifier("switchboard.auth.public-keys = [\"not a key\"]"));
  }
}
