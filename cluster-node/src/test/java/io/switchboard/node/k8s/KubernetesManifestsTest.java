package io.switchboard.node.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.switchboard.node.config.NodeSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The manifests in k8s/ parse into well-formed Kubernetes objects, and what they say agrees with
 * the node: ports, probe paths, labels, discovery settings and environment variables it reads.
 */
class KubernetesManifestsTest {
  private static final Path K8S = Path.of("..", "k8s");
  private static final Map<String, JsonNode> byKindAndName = new HashMap<>();
  private static JsonNode kustomization;
  private static Config node;

  @BeforeAll
  static void load() throws IOException {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    try (Stream<Path> files = Files.list(K8S)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).toList()) {
        try (var parser = yaml.getFactory().createParser(file.toFile())) {
          for (JsonNode doc : yaml.readValues(parser, JsonNode.class).readAll()) {
            if (doc == null || doc.isEmpty()) {
              continue;
            }
            String kind = doc.path("kind").asText();
            if (kind.equals("Kustomization")) {
              kustomization = doc;
            } else {
              byKindAndName.put(kind + "/" + doc.path("metadata").path("name").asText(), doc);
            }
          }
        }
      }
    }
    node = ConfigFactory.load();
  }

  private static JsonNode object(String kindAndName) {
    JsonNode o = byKindAndName.get(kindAndName);
    assertNotNull(o, kindAndName + " is in k8s/");
    return o;
  }

  private static JsonNode container() {
    return object("StatefulSet/switchboard").at("/spec/template/spec/containers/0");
  }

  @Test
  void everyObjectIsWellFormedAndListedInTheKustomization() throws IOException {
    assertNotNull(kustomization);
    Set<String> listed = new HashSet<>();
    kustomization.path("resources").forEach(r -> listed.add(r.asText()));
    try (Stream<Path> files = Files.list(K8S)) {
      Set<String> present =
          new HashSet<>(
              files
                  .map(f -> f.getFileName().toString())
                  .filter(f -> f.endsWith(".yaml") && !f.equals("kustomization.yaml"))
                  .toList());
      assertEquals(present, listed, "kustomization lists exactly the manifests");
    }
    for (var e : byKindAndName.entrySet()) {
      assertFalse(e.getValue().path("apiVersion").asText().isEmpty(), e.getKey() + " apiVersion");
      assertFalse(e.getKey().endsWith("/"), "every object has a name");
    }
  }

  @Test
  void statefulSetRunsThreeNodesInParallelWithItsServiceAndAccount() {
    JsonNode sts = object("StatefulSet/switchboard");
    assertEquals(3, sts.at("/spec/replicas").asInt());
    assertEquals("Parallel", sts.at("/spec/podManagementPolicy").asText());
    Map<String, String> selector = labels(sts.at("/spec/selector/matchLabels"));
    assertEquals(selector, labels(sts.at("/spec/template/metadata/labels")));
    String headless = sts.at("/spec/serviceName").asText();
    assertEquals("None", object("Service/" + headless).at("/spec/clusterIP").asText());
    assertEquals("switchboard", sts.at("/spec/template/spec/serviceAccountName").asText());
    object("ServiceAccount/switchboard");
    assertTrue(sts.at("/spec/template/spec/terminationGracePeriodSeconds").asInt() >= 30);
    assertFalse(container().at("/lifecycle/preStop").isMissingNode(), "preStop before the leave");
    assertFalse(container().at("/resources/requests/cpu").isMissingNode());
    assertFalse(container().at("/resources/requests/memory").isMissingNode());
  }

  @Test
  void containerPortsAndConfigMapAgreeWithTheNodeDefaults() {
    NodeSettings defaults = NodeSettings.create(node);
    Map<String, Integer> ports = new HashMap<>();
    container()
        .path("ports")
        .forEach(p -> ports.put(p.path("name").asText(), p.path("containerPort").asInt()));
    assertEquals(defaults.httpPort(), ports.get("http"));
    assertEquals(defaults.remotePort(), ports.get("remoting"));
    assertEquals(defaults.managementPort(), ports.get("management"));

    JsonNode env = object("ConfigMap/switchboard-config").path("data");
    assertEquals(String.valueOf(ports.get("http")), env.path("SWITCHBOARD_HTTP_PORT").asText());
    assertEquals(
        String.valueOf(ports.get("remoting")), env.path("SWITCHBOARD_REMOTE_PORT").asText());
    assertEquals(
        String.valueOf(ports.get("management")), env.path("SWITCHBOARD_MANAGEMENT_PORT").asText());
    assertEquals(
        "configMapRef", container().at("/envFrom/0").fieldNames().next(), "env from the ConfigMap");
  }

  @Test
  void everyEnvironmentVariableIsOneTheNodeReads() throws IOException {
    Set<String> read = new HashSet<>();
    Matcher m =
        Pattern.compile("\\$\\{\\?(SWITCHBOARD_[A-Z_]+)}")
            .matcher(
                Files.readString(Path.of("src/main/resources/reference.conf"))
                    + Files.readString(
                        Path.of("../persistence/src/main/resources/reference.conf")));
    while (m.find()) {
      read.add(m.group(1));
    }
    List<String> env = new ArrayList<>();
    object("ConfigMap/switchboard-config").path("data").fieldNames().forEachRemaining(env::add);
    container().path("env").forEach(e -> env.add(e.path("name").asText()));
    object("Secret/switchboard-credentials")
        .path("stringData")
        .fieldNames()
        .forEachRemaining(env::add);
    for (String name : env) {
      assertTrue(
          read.contains(name) || name.equals("JAVA_TOOL_OPTIONS"),
          name + " is read by the node (reference.conf)");
    }
    assertEquals("status.podIP", container().at("/env/0/valueFrom/fieldRef/fieldPath").asText());
  }

  @Test
  void everyNodeGetsTheSameCredentialsFromOneSecret() {
    JsonNode secret = object("Secret/switchboard-credentials").path("stringData");
    assertFalse(secret.path("SWITCHBOARD_AUTH_HMAC_SECRET").asText().isEmpty(), "shared token key");
    assertFalse(secret.path("SWITCHBOARD_API_KEY").asText().isEmpty(), "shared API key");
    assertEquals("switchboard-credentials", container().at("/envFrom/1/secretRef/name").asText());
  }

  @Test
  void probesUseTheManagementHealthChecks() {
    String readyPath = "/" + node.getString("pekko.management.health-checks.readiness-path");
    String alivePath = "/" + node.getString("pekko.management.health-checks.liveness-path");
    assertEquals(readyPath, container().at("/readinessProbe/httpGet/path").asText());
    assertEquals("management", container().at("/readinessProbe/httpGet/port").asText());
    assertEquals(alivePath, container().at("/livenessProbe/httpGet/path").asText());
    assertEquals("management", container().at("/livenessProbe/httpGet/port").asText());
  }

  @Test
  void discoveryFindsThePodsByTheirLabelThroughTheKubernetesApi() {
    JsonNode env = object("ConfigMap/switchboard-config").path("data");
    assertEquals("kubernetes-api", env.path("SWITCHBOARD_DISCOVERY").asText());
    String serviceName = env.path("SWITCHBOARD_SERVICE_NAME").asText();
    String selector =
        node.getString("pekko.discovery.kubernetes-api.pod-label-selector").formatted(serviceName);
    String[] kv = selector.split("=");
    assertEquals(
        kv[1],
        labels(object("StatefulSet/switchboard").at("/spec/template/metadata/labels")).get(kv[0]),
        "the pods carry the label discovery selects");
    JsonNode role = object("Role/switchboard-pod-reader").at("/rules/0");
    assertEquals("pods", role.at("/resources/0").asText());
    Set<String> verbs = new HashSet<>();
    role.path("verbs").forEach(v -> verbs.add(v.asText()));
    assertTrue(verbs.containsAll(Set.of("get", "list", "watch")));
    JsonNode binding = object("RoleBinding/switchboard-pod-reader");
    assertEquals("switchboard", binding.at("/subjects/0/name").asText());
    assertEquals("switchboard-pod-reader", binding.at("/roleRef/name").asText());
  }

  @Test
  void servicesSelectTheNodesAndTargetNamedPorts() {
    Map<String, String> podLabels =
        labels(object("StatefulSet/switchboard").at("/spec/template/metadata/labels"));
    Set<String> portNames = new HashSet<>();
    container().path("ports").forEach(p -> portNames.add(p.path("name").asText()));
    for (String service : List.of("Service/switchboard", "Service/switchboard-internal")) {
      JsonNode s = object(service);
      assertEquals(podLabels, labels(s.at("/spec/selector")), service + " selects the nodes");
      s.at("/spec/ports")
          .forEach(p -> assertTrue(portNames.contains(p.path("targetPort").asText())));
    }
    assertTrue(
        object("Service/switchboard-internal").at("/spec/publishNotReadyAddresses").asBoolean());
    assertEquals(
        podLabels,
        labels(object("PodDisruptionBudget/switchboard").at("/spec/selector/matchLabels")));
    assertEquals(1, object("PodDisruptionBudget/switchboard").at("/spec/maxUnavailable").asInt());
  }

  @Test
  void redisKeepsAnAppendOnlyFileOnAVolumeAndIsWhereTheNodesLook() {
    JsonNode redis = object("StatefulSet/switchboard-redis");
    List<String> args = new ArrayList<>();
    redis.at("/spec/template/spec/containers/0/args").forEach(a -> args.add(a.asText()));
    assertEquals("yes", args.get(args.indexOf("--appendonly") + 1));
    assertFalse(redis.at("/spec/volumeClaimTemplates/0").isMissingNode());
    String url = object("ConfigMap/switchboard-config").at("/data/SWITCHBOARD_REDIS_URL").asText();
    int port = object("Service/switchboard-redis").at("/spec/ports/0/port").asInt();
    assertEquals("redis://switchboard-redis:" + port, url);
  }

  private static Map<String, String> labels(JsonNode node) {
    Map<String, String> out = new HashMap<>();
    node.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
    return out;
  }
}
