package io.switchboard.node.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.proc.JWSKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.spec.SecretKeySpec;

/**
 * The keys tokens are verified with, each pinned to the algorithms its type allows: an HMAC secret
 * verifies only HS256/384/512 (by its length), an RSA key only RS and PS algorithms, an EC key only
 * the ES algorithm of its curve. A token's header chooses among these and nothing else, so {@code
 * none} never verifies and a public key can never be used as an HMAC secret (the HS/RS confusion).
 * Immutable once loaded.
 */
final class VerificationKeys implements JWSKeySelector<SecurityContext> {

  /** Shortest HMAC secret accepted (RFC 7518: at least the hash size of HS256). */
  static final int MIN_HMAC_BYTES = 32;

  private static final int MIN_RSA_BITS = 2048;
  private static final Pattern PEM =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END \\1-----");

  /** One key and the algorithms it may verify; {@code keyId} is null when it has none. */
  record PinnedKey(Key key, Set<JWSAlgorithm> algorithms, String keyId) {}

  private final List<PinnedKey> keys;

  private VerificationKeys(List<PinnedKey> keys) {
    this.keys = List.copyOf(keys);
  }

  /**
   * Loads HMAC secrets (UTF-8 text, or {@code base64:} followed by base64), PEM public keys or
   * certificates (given inline or as files) and a JWKS file.
   *
   * @throws IllegalArgumentException when a key is unreadable, too weak or of an unknown type
   */
  static VerificationKeys load(
      List<String> hmacSecrets, List<String> publicKeyPems, List<String> pemFiles, String jwks) {
    List<PinnedKey> keys = new ArrayList<>();
    for (String secret : hmacSecrets) {
      keys.add(hmac(secretBytes(secret), null, null));
    }
    for (String pem : publicKeyPems) {
      publicKeys(pem, "switchboard.auth.public-keys").forEach(k -> keys.add(pinned(k, null)));
    }
    for (String file : pemFiles) {
      publicKeys(read(file), file).forEach(k -> keys.add(pinned(k, null)));
    }
    if (!jwks.isEmpty()) {
      keys.addAll(fromJwks(jwks));
    }
    return new VerificationKeys(keys);
  }

  /** Every algorithm some configured key accepts. */
  Set<JWSAlgorithm> algorithms() {
    Set<JWSAlgorithm> all = new LinkedHashSet<>();
    keys.forEach(k -> all.addAll(k.algorithms()));
    return all;
  }

  boolean isEmpty() {
    return keys.isEmpty();
  }

  @Override
  public List<Key> selectJWSKeys(JWSHeader header, SecurityContext context) {
    JWSAlgorithm alg = header.getAlgorithm();
    String kid = header.getKeyID();
    List<Key> candidates = new ArrayList<>();
    for (PinnedKey k : keys) {
      if (k.algorithms().contains(alg)
          && (kid == null || k.keyId() == null || kid.equals(k.keyId()))) {
        candidates.add(k.key());
      }
    }
    return candidates;
  }

  static byte[] secretBytes(String secret) {
    if (secret.startsWith("base64:")) {
      return Base64.getDecoder().decode(secret.substring("base64:".length()).trim());
    }
    return secret.getBytes(StandardCharsets.UTF_8);
  }

  private static PinnedKey hmac(byte[] secret, String keyId, JWSAlgorithm only) {
    if (secret.length < MIN_HMAC_BYTES) {
      throw new IllegalArgumentException(
          "An HMAC secret needs at least " + MIN_HMAC_BYTES + " bytes; got " + secret.length);
    }
    Set<JWSAlgorithm> algs = new LinkedHashSet<>();
    algs.add(JWSAlgorithm.HS256);
    if (secret.length >= 48) {
      algs.add(JWSAlgorithm.HS384);
    }
    if (secret.length >= 64) {
      algs.add(JWSAlgorithm.HS512);
    }
    return new PinnedKey(new SecretKeySpec(secret, "HMAC"), restrict(algs, only), keyId);
  }

  private static PinnedKey pinned(PublicKey key, String keyId) {
    return pinned(key, keyId, null);
  }

  private static PinnedKey pinned(PublicKey key, String keyId, JWSAlgorithm only) {
    if (key instanceof RSAPublicKey rsa) {
      if (rsa.getModulus().bitLength() < MIN_RSA_BITS) {
        throw new IllegalArgumentException(
            "An RSA key needs at least "
                + MIN_RSA_BITS
                + " bits; got "
                + rsa.getModulus().bitLength());
      }
      Set<JWSAlgorithm> algs = new LinkedHashSet<>(JWSAlgorithm.Family.RSA);
      return new PinnedKey(rsa, restrict(algs, only), keyId);
    }
    if (key instanceof ECPublicKey ec) {
      Curve curve = Curve.forECParameterSpec(ec.getParams());
      Set<JWSAlgorithm> algs = new LinkedHashSet<>();
      for (JWSAlgorithm alg : JWSAlgorithm.Family.EC) {
        if (curve != null && Curve.forJWSAlgorithm(alg).contains(curve)) {
          algs.add(alg);
        }
      }
      if (algs.isEmpty()) {
        throw new IllegalArgumentException("Unsupported EC curve " + ec.getParams());
      }
      return new PinnedKey(ec, restrict(algs, only), keyId);
    }
    throw new IllegalArgumentException("Unsupported public key type " + key.getAlgorithm());
  }

  private static Set<JWSAlgorithm> restrict(Set<JWSAlgorithm> algs, JWSAlgorithm only) {
    if (only == null) {
      return Set.copyOf(algs);
    }
    return algs.contains(only) ? Set.of(only) : Set.of();
  }

  private static List<PublicKey> publicKeys(String pem, String source) {
    List<PublicKey> out = new ArrayList<>();
    Matcher m = PEM.matcher(pem);
    while (m.find()) {
      String type = m.group(1);
      byte[] der = Base64.getMimeDecoder().decode(m.group(2));
      try {
        switch (type) {
          case "PUBLIC KEY" -> out.add(spki(der));
          case "CERTIFICATE" ->
              out.add(
                  CertificateFactory.getInstance("X.509")
                      .generateCertificate(new ByteArrayInputStream(der))
                      .getPublicKey());
          default ->
              throw new IllegalArgumentException(
                  "Unsupported PEM block '"
                      + type
                      + "' in "
                      + source
                      + ": use 'PUBLIC KEY' (SubjectPublicKeyInfo) or 'CERTIFICATE'");
        }
      } catch (GeneralSecurityException e) {
        throw new IllegalArgumentException("Unreadable public key in " + source, e);
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("No PEM public key or certificate in " + source);
    }
    return out;
  }

  private static PublicKey spki(byte[] der) throws GeneralSecurityException {
    X509EncodedKeySpec spec = new X509EncodedKeySpec(der);
    try {
      return KeyFactory.getInstance("RSA").generatePublic(spec);
    } catch (GeneralSecurityException notRsa) {
      return KeyFactory.getInstance("EC").generatePublic(spec);
    }
  }

  private static List<PinnedKey> fromJwks(String file) {
    JWKSet set;
    try {
      set = JWKSet.load(Path.of(file).toFile());
    } catch (IOException | ParseException e) {
      throw new IllegalArgumentException("Unreadable JWKS file " + file, e);
    }
    List<PinnedKey> out = new ArrayList<>();
    for (JWK jwk : set.getKeys()) {
      if (jwk.getKeyUse() != null && !KeyUse.SIGNATURE.equals(jwk.getKeyUse())) {
        continue;
      }
      JWSAlgorithm only =
          jwk.getAlgorithm() == null ? null : JWSAlgorithm.parse(jwk.getAlgorithm().getName());
      try {
        if (jwk instanceof OctetSequenceKey oct) {
          out.add(hmac(oct.toByteArray(), jwk.getKeyID(), only));
        } else if (jwk instanceof RSAKey rsa) {
          out.add(pinned(rsa.toRSAPublicKey(), jwk.getKeyID(), only));
        } else if (jwk instanceof ECKey ec) {
          out.add(pinned(ec.toECPublicKey(), jwk.getKeyID(), only));
        }
      } catch (JOSEException e) {
        throw new IllegalArgumentException("Unusable key " + jwk.getKeyID() + " in " + file, e);
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("No signature key in JWKS file " + file);
    }
    return out;
  }

  private static String read(String file) {
    try {
      return Files.readString(Path.of(file));
    } catch (IOException e) {
      throw new IllegalArgumentException("Cannot read public key file " + file, e);
    }
  }
}
