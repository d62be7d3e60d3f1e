package io.switchboard.node.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;

/** Keys and tokens for auth tests, good and hostile, minted with the same JOSE library. */
public final class TestTokens {
  /** An HMAC secret of 40 bytes (HS256 only). */
  public static final String SECRET = "test-secret-0123456789-0123456789-abcdef";

  private TestTokens() {}

  /** Claims of {@code user}, allowed {@code join} and {@code publish}, expiring in {@code ttl}. */
  public static JWTClaimsSet.Builder claims(
      String user, List<String> join, List<String> publish, Duration ttl) {
    return new JWTClaimsSet.Builder()
        .subject(user)
        .expirationTime(Date.from(Instant.now().plus(ttl)))
        .claim("sb_join", join)
        .claim("sb_publish", publish);
  }

  /** A valid HS256 token of the test secret for {@code user} (join and publish "room:*"). */
  public static String valid(String user) {
    return hs256(SECRET, claims(user, List.of("room:*"), List.of("room:*"), Duration.ofHours(1)));
  }

  public static String hs256(String secret, JWTClaimsSet.Builder claims) {
    return hmac(secret.getBytes(StandardCharsets.UTF_8), claims);
  }

  /** HS256 with raw secret bytes, e.g. a public key's encoding (the HS/RS confusion attack). */
  public static String hmac(byte[] secret, JWTClaimsSet.Builder claims) {
    return sign(new JWSHeader(JWSAlgorithm.HS256), claims, mac(secret));
  }

  public static String rs256(KeyPair rsa, JWTClaimsSet.Builder claims) {
    return sign(
        new JWSHeader(JWSAlgorithm.RS256),
        claims,
        new RSASSASigner((RSAPrivateKey) rsa.getPrivate()));
  }

  public static String es256(KeyPair ec, JWTClaimsSet.Builder claims) {
    try {
      return sign(
          new JWSHeader(JWSAlgorithm.ES256),
          claims,
          new ECDSASigner((ECPrivateKey) ec.getPrivate()));
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An unsecured token, {@code alg: none}. */
  public static String unsigned(JWTClaimsSet.Builder claims) {
    return new PlainJWT(claims.build()).serialize();
  }

  /** {@code token} with its signature's last characters changed. */
  public static String tampered(String token) {
    char last = token.charAt(token.length() - 2);
    return token.substring(0, token.length() - 2)
        + (last == 'A' ? 'B' : 'A')
        + token.charAt(token.length() - 1);
  }

  public static KeyPair rsaKeys() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return g.generateKeyPair();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public static KeyPair ecKeys() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The PEM text ("PUBLIC KEY") of a public key, on one line. */
  public static String pem(PublicKey key) {
    return "-----BEGIN PUBLIC KEY-----"
        + Base64.getEncoder().encodeToString(key.getEncoded())
        + "-----END PUBLIC KEY-----";
  }

  /** The PEM text with line breaks, as a file holds it. */
  public static String pemLines(PublicKey key) {
    return "-----BEGIN PUBLIC KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
            .encodeToString(key.getEncoded())
        + "\n-----END PUBLIC KEY-----\n";
  }

  private static JWSSigner mac(byte[] secret) {
    try {
      return new MACSigner(secret);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String sign(JWSHeader header, JWTClaimsSet.Builder claims, JWSSigner signer) {
    SignedJWT jwt = new SignedJWT(header, claims.build());
    try {
      jwt.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }
}
