package weir.kstreams;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.GlobalKTable;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.Joined;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.ValueJoiner;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * Kafka Streams' joins, the other side of weir's join differential test
 * (tests/e2e/test_join_kstreams.c). See tests/kstreams/README.md.
 *
 * <p>Input topics P-st-l / P-st-r (stream, table), P-tt-l / P-tt-r (two tables), P-ss-l / P-ss-r
 * (two streams); each mode M writes to O-M:
 *
 * <ul>
 *   <li>st-inner, st-left: KStream-KTable join / leftJoin;
 *   <li>tt-inner, tt-left, tt-outer: KTable-KTable join / leftJoin / outerJoin;
 *   <li>ss-inner, ss-left, ss-outer: KStream-KStream join / leftJoin / outerJoin within
 *       JoinWindows.ofTimeDifferenceAndGrace(window, grace);
 *   <li>sg-inner, sg-left: KStream-GlobalKTable join / leftJoin of P-sg-s with the global table
 *       P-sg-g, the lookup key taken from the stream value by "c=(k[0-9]+)" (weir's
 *       key.from = regex:c=(k[0-9]+)).
 *   <li>fk-inner, fk-left (only when named in --modes; tests/e2e/test_fk_join_kstreams.c):
 *       KTable-KTable foreign-key join / leftJoin of P-fk-l with P-fk-r, the right key taken
 *       from the left value by "f=(k[0-9]+)" (weir's kind = foreign-key, key.from =
 *       regex:f=(k[0-9]+)).
 * </ul>
 *
 * String keys and values; the joined value is weir's `value = nest` text: {"left":L,"right":R},
 * each side a JSON string, null when missing (the test's values are plain words, no escapes).
 */
public final class Joins {
  static final String MODES =
      "st-inner,st-left,tt-inner,tt-left,tt-outer,ss-inner,ss-left,ss-outer,sg-inner,sg-left";
  /** Not in the default modes: only tests/e2e/test_fk_join_kstreams.c makes their inputs. */
  static final String FK_MODES = "fk-inner,fk-left";

  private Joins() {}

  static final class Options {
    String bootstrap;
    String appId;
    String inputPrefix;
    String outputPrefix;
    String modes = MODES;
    long windowMs = -1;
    long graceMs = 0;
    int partitions = 3;
    int commitMs = 100;
    long timeoutSec = 600;
    boolean inMemory;
  }

  private static void usage(String why) {
    System.err.println("weir-kstreams-joins: " + why);
    System.err.println(
        "usage: Joins --bootstrap ADDR --app-id ID --input-prefix P --output-prefix O\n"
            + "         [--modes "
            + MODES
            + "] --window-ms N [--grace-ms N]\n"
            + "         [--partitions N] [--commit-interval-ms N] [--timeout-sec N]\n"
            + "         [--stores rocksdb|memory]\n"
            + "  reads P-st-l, P-st-r, P-tt-l, P-tt-r, P-ss-l, P-ss-r, P-sg-s, P-sg-g as the modes need;\n"
            + "  mode M writes to O-M (made with --partitions partitions if missing)");
    System.exit(2);
  }

  private static long millis(String name, String v) {
    try {
      long n = Long.parseLong(v);
      if (n < 0) {
        usage(name + " must not be negative: " + v);
      }
      return n;
    } catch (NumberFormatException e) {
      usage(name + " is not a number: " + v);
      return -1;
    }
  }

  static Options parse(String[] args) {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (i + 1 >= args.length) {
        usage(a + " needs a value");
      }
      String v = args[++i];
      switch (a) {
        case "--bootstrap" -> o.bootstrap = v;
        case "--app-id" -> o.appId = v;
        case "--input-prefix" -> o.inputPrefix = v;
        case "--output-prefix" -> o.outputPrefix = v;
        case "--modes" -> o.modes = v;
        case "--window-ms" -> o.windowMs = millis(a, v);
        case "--grace-ms" -> o.graceMs = millis(a, v);
        case "--partitions" -> o.partitions = (int) millis(a, v);
        case "--commit-interval-ms" -> o.commitMs = (int) millis(a, v);
        case "--timeout-sec" -> o.timeoutSec = millis(a, v);
        case "--stores" -> {
          if (!v.equals("rocksdb") && !v.equals("memory")) {
            usage("--stores is rocksdb or memory: " + v);
          }
          o.inMemory = v.equals("memory");
        }
        default -> usage("unknown option " + a);
      }
    }
    if (o.bootstrap == null || o.appId == null || o.inputPrefix == null || o.outputPrefix == null) {
      usage("--bootstrap, --app-id, --input-prefix and --output-prefix are required");
    }
    for (String m : o.modes.split(",")) {
      if (!List.of((MODES + "," + FK_MODES).split(",")).contains(m)) {
        usage("unknown mode '" + m + "' (one of " + MODES + "," + FK_MODES + ")");
      }
      if (m.startsWith("ss-") && o.windowMs < 0) {
        usage(m + " needs --window-ms");
      }
    }
    return o;
  }

  private static String json(String s) {
    return s == null ? "null" : "\"" + s + "\"";
  }

  /** weir's `value = nest`: {"left":L,"right":R}, a missing side null. */
  static final ValueJoiner<String, String, String> NEST =
      (l, r) -> "{\"left\":" + json(l) + ",\"right\":" + json(r) + "}";

  private static boolean has(Options o, String prefix) {
    for (String m : o.modes.split(",")) {
      if (m.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  /**
   * A table with no record cache: every update goes on (statestore.cache.max.bytes is 0 too);
   * --stores memory: in an in-memory store (weir's backend = memory).
   */
  private static KTable<String, String> table(StreamsBuilder b, String topic, boolean inMemory) {
    Materialized<String, String, KeyValueStore<Bytes, byte[]>> m =
        inMemory
            ? Materialized.<String, String>as(Stores.inMemoryKeyValueStore(topic + "-store"))
            : Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as(topic + "-store");
    return b.table(topic, Consumed.with(Serdes.String(), Serdes.String()), m.withCachingDisabled());
  }

  /** A stream-stream join's two window stores, in memory: sized as the join requires. */
  private static StreamJoined<String, String, String> inMemory(
      StreamJoined<String, String, String> sj, String name, JoinWindows w) {
    Duration size = Duration.ofMillis(w.size());
    Duration retention = Duration.ofMillis(w.size() + w.gracePeriodMs());
    return sj.withThisStoreSupplier(Stores.inMemoryWindowStore(name + "-this", retention, size, true))
        .withOtherStoreSupplier(Stores.inMemoryWindowStore(name + "-other", retention, size, true));
  }

  private static final java.util.regex.Pattern LOOKUP = java.util.regex.Pattern.compile("c=(k[0-9]+)");

  /** weir's key.from = regex:c=(k[0-9]+): the first capture group, null without a match. */
  static String lookupKey(String value) {
    java.util.regex.Matcher m = LOOKUP.matcher(value);
    return m.find() ? m.group(1) : null;
  }

  private static final java.util.regex.Pattern FOREIGN =
      java.util.regex.Pattern.compile("f=(k[0-9]+)");

  /** weir's key.from = regex:f=(k[0-9]+) of a foreign-key join: null without a match. */
  static String foreignKey(String value) {
    java.util.regex.Matcher m = FOREIGN.matcher(value);
    return m.find() ? m.group(1) : null;
  }

  private static KStream<String, String> stream(StreamsBuilder b, String topic) {
    return b.stream(topic, Consumed.with(Serdes.String(), Serdes.String()));
  }

  static Topology topology(Options o) {
    StreamsBuilder b = new StreamsBuilder();
    String in = o.inputPrefix;
    Produced<String, String> out = Produced.with(Serdes.String(), Serdes.String());
    Joined<String, String, String> joined =
        Joined.with(Serdes.String(), Serdes.String(), Serdes.String());
    KStream<String, String> stL = has(o, "st-") ? stream(b, in + "-st-l") : null;
    KTable<String, String> stR = has(o, "st-") ? table(b, in + "-st-r", o.inMemory) : null;
    KTable<String, String> ttL = has(o, "tt-") ? table(b, in + "-tt-l", o.inMemory) : null;
    KTable<String, String> ttR = has(o, "tt-") ? table(b, in + "-tt-r", o.inMemory) : null;
    KStream<String, String> ssL = has(o, "ss-") ? stream(b, in + "-ss-l") : null;
    KStream<String, String> ssR = has(o, "ss-") ? stream(b, in + "-ss-r") : null;
    KStream<String, String> sgS = has(o, "sg-") ? stream(b, in + "-sg-s") : null;
    KTable<String, String> fkL = has(o, "fk-") ? table(b, in + "-fk-l", o.inMemory) : null;
    KTable<String, String> fkR = has(o, "fk-") ? table(b, in + "-fk-r", o.inMemory) : null;
    GlobalKTable<String, String> sgG =
        has(o, "sg-")
            ? b.globalTable(
                in + "-sg-g",
                Consumed.with(Serdes.String(), Serdes.String()),
                Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as(in + "-sg-g-store")
                    .withCachingDisabled())
            : null;
    JoinWindows w =
        JoinWindows.ofTimeDifferenceAndGrace(
            Duration.ofMillis(Math.max(o.windowMs, 0)), Duration.ofMillis(o.graceMs));
    StreamJoined<String, String, String> sj =
        StreamJoined.with(Serdes.String(), Serdes.String(), Serdes.String());
    for (String m : o.modes.split(",")) {
      String topic = o.outputPrefix + "-" + m;
      StreamJoined<String, String, String> sjm =
          o.inMemory ? inMemory(sj, m, w) : sj.withStoreName(m);
      switch (m) {
        case "st-inner" -> stL.join(stR, NEST, joined).to(topic, out);
        case "st-left" -> stL.leftJoin(stR, NEST, joined).to(topic, out);
        case "tt-inner" -> ttL.join(ttR, NEST).toStream().to(topic, out);
        case "tt-left" -> ttL.leftJoin(ttR, NEST).toStream().to(topic, out);
        case "tt-outer" -> ttL.outerJoin(ttR, NEST).toStream().to(topic, out);
        case "ss-inner" -> ssL.join(ssR, NEST, w, sjm).to(topic, out);
        case "ss-left" -> ssL.leftJoin(ssR, NEST, w, sjm).to(topic, out);
        case "ss-outer" -> ssL.outerJoin(ssR, NEST, w, sjm).to(topic, out);
        case "sg-inner" -> sgS.join(sgG, (k, v) -> lookupKey(v), NEST).to(topic, out);
        case "sg-left" -> sgS.leftJoin(sgG, (k, v) -> lookupKey(v), NEST).to(topic, out);
        case "fk-inner" -> fkL.join(fkR, Joins::foreignKey, NEST).toStream().to(topic, out);
        default -> fkL.leftJoin(fkR, Joins::foreignKey, NEST).toStream().to(topic, out);
      }
    }
    return b.build();
  }

  static Properties config(Options o, Path stateDir) {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, o.appId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrap);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, o.commitMs);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    // No record cache: a table-table join emits every update, as weir's does.
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0L);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    // Left/outer stream-stream joins look for closed windows at most once a second of wall clock
    // (an internal setting, default 1000 ms): the flush record that closes the last windows could
    // then close nothing. 0 looks at every record; which records are emitted does not change.
    p.put(StreamsConfig.InternalConfig.EMIT_INTERVAL_MS_KSTREAMS_OUTER_JOIN_SPURIOUS_RESULTS_FIX, 0L);
    return p;
  }

  private static void makeOutputs(Options o) throws InterruptedException, ExecutionException {
    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrap);
    try (Admin admin = Admin.create(ap)) {
      List<NewTopic> topics = new ArrayList<>();
      for (String m : o.modes.split(",")) {
        topics.add(new NewTopic(o.outputPrefix + "-" + m, o.partitions, (short) 1));
      }
      for (var e : admin.createTopics(topics).values().entrySet()) {
        try {
          e.getValue().get();
        } catch (ExecutionException ex) {
          if (!(ex.getCause() instanceof TopicExistsException)) {
            throw ex;
          }
        }
      }
    }
  }

  private static void removeTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("weir-kstreams-joins: cannot remove " + dir + ": " + e.getMessage());
    }
  }

  public static void main(String[] args) throws Exception {
    Options o = parse(args);
    makeOutputs(o);
    Path stateDir = Files.createTempDirectory("weir-kstreams-joins-");
    KafkaStreams streams = new KafkaStreams(topology(o), config(o, stateDir));
    CountDownLatch done = new CountDownLatch(1);
    int[] status = {0};
    streams.setUncaughtExceptionHandler(
        e -> {
          System.err.println("weir-kstreams-joins: stream thread failed: " + e);
          status[0] = 1;
          done.countDown();
          return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
              .StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
    streams.setStateListener(
        (now, before) -> {
          if (now == KafkaStreams.State.ERROR) {
            status[0] = 1;
            done.countDown();
          }
        });
    // SIGTERM: main closes the streams (and removes its state dir) while the hook waits for it.
    Thread main = Thread.currentThread();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  done.countDown();
                  try {
                    main.join(40_000);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                }));
    streams.start();
    System.out.println("weir-kstreams-joins: started " + o.appId + " on " + o.bootstrap);
    System.out.flush();
    if (!done.await(o.timeoutSec, TimeUnit.SECONDS)) {
      System.err.println("weir-kstreams-joins: --timeout-sec " + o.timeoutSec + " reached");
      status[0] = 2;
    }
    streams.close(Duration.ofSeconds(30));
    removeTree(stateDir);
    System.out.flush();
    Runtime.getRuntime().halt(status[0]);
  }
}
